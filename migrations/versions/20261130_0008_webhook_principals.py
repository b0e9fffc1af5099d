"""Azure Monitor secure webhooks: the Entra service principals an organisation trusts to send
alerts (the action group's principal in the customer's tenant), keyed by tenant + object id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    role = _app_role()
    op.create_table(
        "webhook_principals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_principals_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_principals")),
        sa.UniqueConstraint(
            "tenant_id", "object_id", name=op.f("uq_webhook_principals_tenant_id_object_id")
        ),
    )
    op.create_index("ix_webhook_principals_org", "webhook_principals", ["org_id"])
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_principals TO {role}")
    op.execute("ALTER TABLE webhook_principals ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE webhook_principals FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON webhook_principals "
        "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
    )
    op.execute(
        "CREATE POLICY migrator_access ON webhook_principals TO CURRENT_USER "
        "USING (true) WITH CHECK (true)"
    )
    # The organisation a signed-in service principal sends for; nothing else about it.
    op.execute(
        """
        CREATE FUNCTION logdawg_webhook_principal(p_tenant text, p_object text)
        RETURNS TABLE (id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT w.id, w.org_id FROM webhook_principals w
           WHERE w.tenant_id = p_tenant AND w.object_id = p_object
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION logdawg_webhook_principal(text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION logdawg_webhook_principal(text, text) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION logdawg_webhook_principal(text, text)")
    op.drop_index("ix_webhook_principals_org", table_name="webhook_principals")
    op.drop_table("webhook_principals")
