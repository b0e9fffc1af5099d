"""GitHub App installs that an organisation owner must approve: the install's state becomes a
request (who asked, on which GitHub account), completed when GitHub's ``installation``
``created`` webhook arrives for that account (or when the admin installs again)

A GitHub organisation member without owner rights can only *request* the app; GitHub sends
the browser back with ``setup_action=request`` and no installation. The webhook that follows
the owner's approval carries no state, so one more SECURITY DEFINER function names the
organisation with an open request for that account (and, when the platform verifies people,
that GitHub requester), and nothing else.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "logdawg_github_install_request_org(text, bigint)"


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    table = "github_install_states"
    op.add_column(table, sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))
    # The GitHub user who asked (from their authorisation code), when the platform verifies
    # people: the approval's webhook must name the same requester.
    op.add_column(table, sa.Column("requester_id", sa.BigInteger(), nullable=True))
    op.add_column(table, sa.Column("requester_login", sa.String(length=100), nullable=True))
    op.add_column(table, sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(table, sa.Column("installation_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_github_install_states_installation_id_github_installations"),
        table,
        "github_installations",
        ["installation_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(
        """
        CREATE FUNCTION logdawg_github_install_request_org(p_account text, p_requester bigint)
        RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT org_id FROM github_install_states
          WHERE requested_at IS NOT NULL AND completed_at IS NULL
            AND requested_at > now() - interval '30 days'
            AND lower(account) = lower(p_account)
            AND (p_requester IS NULL OR requester_id = p_requester)
          ORDER BY requested_at DESC
          LIMIT 1
        $$
        """
    )
    role = _app_role()
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {role}")


def downgrade() -> None:
    table = "github_install_states"
    op.execute(f"DROP FUNCTION {FUNCTION}")
    op.drop_constraint(
        op.f("fk_github_install_states_installation_id_github_installations"),
        table,
        type_="foreignkey",
    )
    for column in ("installation_id", "completed_at", "requester_login", "requester_id"):
        op.drop_column(table, column)
    op.drop_column(table, "requested_at")
