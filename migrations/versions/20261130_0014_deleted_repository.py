"""A report remembers the repository it was submitted for after that repository is deleted.

``reports.repo_id`` is set to NULL when its repository is deleted (the foreign key's ON
DELETE SET NULL), which left a diagnosis of a log accepted before the deletion unable to tell
"the repository was deleted" from "no repository is connected". A trigger on that change keeps
the id in ``deleted_repo_id`` (no foreign key: the row is gone). It fires only when
``repo_id`` goes from a value to NULL (``UPDATE OF repo_id`` with a ``WHEN``), so nothing on
the ingest path pays for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("deleted_repo_id", sa.Uuid(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION logdawg_remember_deleted_repo() RETURNS trigger
        LANGUAGE plpgsql
        AS $$ BEGIN NEW.deleted_repo_id := OLD.repo_id; RETURN NEW; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER reports_repo_deleted BEFORE UPDATE OF repo_id ON reports "
        "FOR EACH ROW WHEN (OLD.repo_id IS NOT NULL AND NEW.repo_id IS NULL) "
        "EXECUTE FUNCTION logdawg_remember_deleted_repo()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS reports_repo_deleted ON reports")
    op.execute("DROP FUNCTION IF EXISTS logdawg_remember_deleted_repo()")
    op.drop_column("reports", "deleted_repo_id")
