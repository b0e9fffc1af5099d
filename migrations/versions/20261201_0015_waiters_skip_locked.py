"""Waking an idle worker never waits for another transaction.

A new job's trigger (``jobs_notify``) deletes the rows of the workers waiting for work and
notifies them. It deleted them with a plain ``DELETE``, which waits for any transaction that
deleted them first. Since the API writes the logs that arrive together in one transaction
(``SubmitBatches``), such a transaction goes on locking grouping rows after its first new job;
two of them could each hold what the other waited for (a deadlock, one of them aborted after
a second). The trigger now leaves rows another transaction is deleting (``SKIP LOCKED``):
that transaction notifies when it commits, and if it rolls back, the worker's polling finds
the job.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The function as revision 0009 made it, but for its DELETE: ``$DELETE`` below.
_NOTIFY_JOBS = """
    CREATE OR REPLACE FUNCTION logdawg_notify_jobs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM queue_waiters) THEN
        $DELETE;
        IF FOUND THEN
          PERFORM pg_notify('logdawg_jobs', '');
        END IF;
      END IF;
      RETURN NULL;
    END
    $$
    """
SKIP_LOCKED = (
    "DELETE FROM queue_waiters WHERE worker_id IN "
    "(SELECT worker_id FROM queue_waiters FOR UPDATE SKIP LOCKED)"
)
WAITING = "DELETE FROM queue_waiters"


def upgrade() -> None:
    op.execute(_NOTIFY_JOBS.replace("$DELETE", SKIP_LOCKED))


def downgrade() -> None:
    op.execute(_NOTIFY_JOBS.replace("$DELETE", WAITING))
