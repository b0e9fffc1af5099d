"""sign-in: people keyed by Entra tenant + object id, invitations, API key scopes; forced RLS

People sign in with Entra ID: a user is keyed by the token's ``tid`` + ``oid``, not by e-mail
(which is optional in a token and not unique across tenants). Organisations, memberships and
users get policies that also know the signed-in person (``app.current_user``), so a person can
list their own organisations without seeing anyone else's.

Row-level security is FORCEd on every table: owning a table no longer exempts a role. The role
that runs migrations gets one explicit, visible policy (``migrator_access``) per table: its
SECURITY DEFINER functions (claiming jobs, signing in, looking up an API key, accepting an
invitation) are the only cross-organisation paths, and each returns only what its caller may
know. The runtime roles have no such policy.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "memberships",
    "credentials",
    "repositories",
    "api_keys",
    "reports",
    "jobs",
    "report_occurrences",
    "code_mappings",
    "git_cache",
    "invitations",
)
ALL_TABLES = (*TENANT_TABLES, "organisations", "users")


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    role = _app_role()

    # People: (tenant, object id) is the key; e-mail is informative only.
    op.add_column(
        "users", sa.Column("tenant_id", sa.String(length=64), server_default="", nullable=False)
    )
    op.drop_constraint("uq_users_email", "users", type_="unique")
    op.drop_constraint("uq_users_external_id", "users", type_="unique")
    op.alter_column("users", "email", existing_type=sa.String(length=320), nullable=True)
    op.alter_column("users", "external_id", existing_type=sa.String(length=200), nullable=False)
    op.create_unique_constraint(
        op.f("uq_users_tenant_id_external_id"), "users", ["tenant_id", "external_id"]
    )

    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.String(length=20)),
            server_default=sa.text("'{ingest,read}'::varchar[]"),
            nullable=False,
        ),
    )
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            postgresql.ENUM(name="membership_role", create_type=False),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_invitations_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["users.id"],
            name=op.f("fk_invitations_accepted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index("ix_invitations_org", "invitations", ["org_id", sa.text("created_at DESC")])

    op.execute(
        """
        CREATE FUNCTION logdawg_current_user() RETURNS uuid
        LANGUAGE sql STABLE
        AS $$ SELECT nullif(current_setting('app.current_user', true), '')::uuid $$
        """
    )

    # Policies that know the signed-in person as well as the organisation of the request.
    op.execute("DROP POLICY tenant_isolation ON organisations")
    op.execute(
        "CREATE POLICY tenant_isolation ON organisations "
        "USING (id = logdawg_current_org() OR id IN "
        "(SELECT m.org_id FROM memberships m WHERE m.user_id = logdawg_current_user())) "
        "WITH CHECK (id = logdawg_current_org())"
    )
    op.execute("DROP POLICY tenant_isolation ON memberships")
    op.execute(
        "CREATE POLICY tenant_isolation ON memberships "
        "USING (org_id = logdawg_current_org() OR user_id = logdawg_current_user()) "
        "WITH CHECK (org_id = logdawg_current_org())"
    )
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON users "
        "USING (id = logdawg_current_user() OR id IN "
        "(SELECT m.user_id FROM memberships m WHERE m.org_id = logdawg_current_org()))"
    )
    op.execute("ALTER TABLE invitations ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON invitations "
        "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
    )

    # The application creates and deletes organisations (inside their own org context);
    # people are created and updated only by logdawg_sign_in.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON organisations TO {role}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON users FROM {role}")
    op.execute(f"GRANT SELECT ON users TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO {role}")

    for table in ALL_TABLES:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY migrator_access ON {table} TO CURRENT_USER "
            "USING (true) WITH CHECK (true)"
        )

    # First sign-in creates the person; later ones refresh the name and e-mail when changed.
    op.execute(
        """
        CREATE FUNCTION logdawg_sign_in(p_tenant text, p_subject text, p_name text, p_email text)
        RETURNS uuid
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE v_user users%ROWTYPE;
        BEGIN
          SELECT * INTO v_user FROM users WHERE tenant_id = p_tenant AND external_id = p_subject;
          IF NOT FOUND THEN
            INSERT INTO users (id, tenant_id, external_id, display_name, email)
            VALUES (gen_random_uuid(), p_tenant, p_subject, p_name, p_email)
            ON CONFLICT (tenant_id, external_id) DO UPDATE SET display_name = EXCLUDED.display_name
            RETURNING * INTO v_user;
          ELSIF v_user.display_name IS DISTINCT FROM p_name
             OR v_user.email IS DISTINCT FROM p_email THEN
            UPDATE users SET display_name = p_name, email = p_email WHERE id = v_user.id;
          END IF;
          RETURN v_user.id;
        END
        $$
        """
    )
    # An API key by the keyed hash of its secret. last_used_at is written at most once a
    # minute per key, so a busy key does not turn every request into a row update.
    op.execute(
        """
        CREATE FUNCTION logdawg_api_key(p_hash text)
        RETURNS TABLE (id uuid, org_id uuid, scopes varchar[], expires_at timestamptz,
                       revoked_at timestamptz)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        BEGIN
          UPDATE api_keys k SET last_used_at = now()
           WHERE k.key_hash = p_hash AND k.revoked_at IS NULL
             AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds');
          RETURN QUERY SELECT k.id, k.org_id, k.scopes, k.expires_at, k.revoked_at
                         FROM api_keys k WHERE k.key_hash = p_hash;
        END
        $$
        """
    )
    # Accept an invitation: only by its one-time token, only for the invited address, once.
    op.execute(
        """
        CREATE FUNCTION logdawg_accept_invitation(p_token_hash text, p_user uuid, p_email text)
        RETURNS TABLE (org_id uuid, role membership_role)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE inv invitations%ROWTYPE;
        BEGIN
          SELECT * INTO inv FROM invitations i
           WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL
             AND i.expires_at > now() AND lower(i.email) = lower(coalesce(p_email, ''))
           FOR UPDATE;
          IF NOT FOUND THEN
            RETURN;
          END IF;
          UPDATE invitations SET accepted_at = now(), accepted_by = p_user WHERE id = inv.id;
          INSERT INTO memberships (org_id, user_id, role)
          VALUES (inv.org_id, p_user, inv.role)
          ON CONFLICT ON CONSTRAINT pk_memberships DO NOTHING;
          RETURN QUERY SELECT m.org_id, m.role FROM memberships m
                        WHERE m.org_id = inv.org_id AND m.user_id = p_user;
        END
        $$
        """
    )
    for signature in (
        "logdawg_sign_in(text, text, text, text)",
        "logdawg_api_key(text)",
        "logdawg_accept_invitation(text, uuid, text)",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    role = _app_role()
    for signature in (
        "logdawg_accept_invitation(text, uuid, text)",
        "logdawg_api_key(text)",
        "logdawg_sign_in(text, text, text, text)",
    ):
        op.execute(f"DROP FUNCTION {signature}")
    for table in ALL_TABLES:
        if table == "invitations":
            continue
        op.execute(f"DROP POLICY migrator_access ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"REVOKE INSERT, DELETE ON organisations FROM {role}")
    op.execute(f"GRANT INSERT, UPDATE ON users TO {role}")
    op.execute("DROP POLICY tenant_isolation ON users")
    op.execute("ALTER TABLE users DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY tenant_isolation ON memberships")
    op.execute(
        "CREATE POLICY tenant_isolation ON memberships "
        "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
    )
    op.execute("DROP POLICY tenant_isolation ON organisations")
    op.execute(
        "CREATE POLICY tenant_isolation ON organisations "
        "USING (id = logdawg_current_org()) WITH CHECK (id = logdawg_current_org())"
    )
    op.execute("DROP FUNCTION logdawg_current_user()")
    op.drop_index("ix_invitations_org", table_name="invitations")
    op.drop_table("invitations")
    op.drop_column("api_keys", "expires_at")
    op.drop_column("api_keys", "scopes")
    op.drop_constraint(op.f("uq_users_tenant_id_external_id"), "users", type_="unique")
    op.alter_column("users", "external_id", existing_type=sa.String(length=200), nullable=True)
    op.alter_column("users", "email", existing_type=sa.String(length=320), nullable=False)
    op.create_unique_constraint("uq_users_external_id", "users", ["external_id"])
    op.create_unique_constraint("uq_users_email", "users", ["email"])
    op.drop_column("users", "tenant_id")
