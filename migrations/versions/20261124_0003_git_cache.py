"""The git providers' response cache, shared by every worker.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "git_cache",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("immutable", sa.Boolean(), nullable=False),
        sa.Column(
            "stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_git_cache_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_git_cache")),
    )
    role = context.config.attributes.get("app_role", "logdawg_app")
    role = op.get_bind().dialect.identifier_preparer.quote(str(role))
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON git_cache TO {role}")
    op.execute("ALTER TABLE git_cache ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON git_cache "
        "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
    )


def downgrade() -> None:
    op.drop_table("git_cache")
