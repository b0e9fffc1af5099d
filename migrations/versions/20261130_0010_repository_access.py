"""repository access without personal tokens: GitHub App installations, install states,
webhook deliveries; how each repository authenticates and whether it is still reachable

``github_installations`` and ``github_install_states`` are tenant tables with FORCEd row-level
security like every other (0005's pattern, ``migrator_access`` included). An installation id
belongs to one organisation at most (unique across the table).

GitHub's webhooks arrive without an organisation: two SECURITY DEFINER functions are their only
cross-organisation paths. ``logdawg_github_delivery`` records a delivery id once (true the first
time, false for a replay); ``logdawg_github_installation_org`` names the organisation an
installation belongs to, and nothing else. The webhook then acts inside that organisation.
``github_webhook_deliveries`` holds no tenant data; the runtime role has no grant on it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("github_installations", "github_install_states")
AUTH_KINDS = ("token", "github_app", "azure_identity", "azure_service_principal")
FUNCTIONS = ("logdawg_github_delivery(text, text)", "logdawg_github_installation_org(bigint)")


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def _created_at() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    role = _app_role()
    op.create_table(
        "github_installations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("account_login", sa.String(length=200), nullable=False),
        sa.Column("account_type", sa.String(length=40), nullable=False),
        # The repositories (owner/name) the installation grants, kept current by webhooks.
        sa.Column(
            "repositories",
            postgresql.ARRAY(sa.String(length=300)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        _created_at(),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_github_installations_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_github_installations_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_installations")),
        sa.UniqueConstraint("installation_id", name=op.f("uq_github_installations_installation_id")),
    )
    op.create_index("ix_github_installations_org_id", "github_installations", ["org_id"])
    op.create_table(
        "github_install_states",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=True),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_github_install_states_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_github_install_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_install_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_github_install_states_state_hash")),
    )
    op.create_table(
        "github_webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_github_webhook_deliveries")),
    )

    op.add_column(
        "repositories",
        sa.Column("auth_kind", sa.String(length=40), server_default="token", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_repositories_auth_kind"),
        "repositories",
        "auth_kind IN (" + ", ".join(f"'{k}'" for k in AUTH_KINDS) + ")",
    )
    op.add_column("repositories", sa.Column("github_installation_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_repositories_github_installation_id_github_installations"),
        "repositories",
        "github_installations",
        ["github_installation_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_repositories_github_installation_id", "repositories", ["github_installation_id"]
    )
    # Set when the provider said access is gone (app uninstalled, repository removed from the
    # installation); cleared when access returns.
    op.add_column(
        "repositories", sa.Column("unreachable_reason", sa.String(length=500), nullable=True)
    )
    op.add_column(
        "repositories", sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True)
    )

    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
        )
    for table in (*TENANT_TABLES, "github_webhook_deliveries"):
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY migrator_access ON {table} TO CURRENT_USER "
            "USING (true) WITH CHECK (true)"
        )
    op.execute("ALTER TABLE github_webhook_deliveries ENABLE ROW LEVEL SECURITY")

    op.execute(
        """
        CREATE FUNCTION logdawg_github_delivery(p_delivery text, p_event text) RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        BEGIN
          DELETE FROM github_webhook_deliveries WHERE received_at < now() - interval '30 days';
          INSERT INTO github_webhook_deliveries (delivery_id, event)
          VALUES (p_delivery, p_event) ON CONFLICT DO NOTHING;
          RETURN FOUND;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION logdawg_github_installation_org(p_installation bigint) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT org_id FROM github_installations WHERE installation_id = p_installation
        $$
        """
    )
    for signature in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_column("repositories", "unreachable_at")
    op.drop_column("repositories", "unreachable_reason")
    op.drop_index("ix_repositories_github_installation_id", table_name="repositories")
    op.drop_constraint(
        op.f("fk_repositories_github_installation_id_github_installations"),
        "repositories",
        type_="foreignkey",
    )
    op.drop_column("repositories", "github_installation_id")
    op.drop_constraint(op.f("ck_repositories_auth_kind"), "repositories", type_="check")
    op.drop_column("repositories", "auth_kind")
    op.drop_table("github_webhook_deliveries")
    op.drop_table("github_install_states")
    op.drop_index("ix_github_installations_org_id", table_name="github_installations")
    op.drop_table("github_installations")
