"""Throughput: claim several jobs at once, renew leases, wake idle workers with NOTIFY.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

``logdawg_claim_job`` (one job) stays for a release still running during a swap
(expand/contract); this release claims through ``logdawg_claim_jobs``.
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_CHANNEL = "logdawg_jobs"


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    role = _app_role()
    # The X-Request-ID of the submitting request, so worker log lines carry it too.
    op.execute("ALTER TABLE jobs ADD COLUMN request_id varchar(200)")
    # As logdawg_claim_job, for up to p_limit jobs: jobs whose lease ran out after their last
    # allowed attempt are given up first (their reports failed), then due jobs are leased to
    # p_worker. A claim is (id, locked_by, attempts): attempts grows with every claim, so it
    # is the lease's fencing token.
    op.execute(
        """
        CREATE FUNCTION logdawg_claim_jobs(
          p_worker text, p_visibility_seconds double precision, p_limit integer)
        RETURNS SETOF jobs
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $$
        BEGIN
          WITH exhausted AS (
            UPDATE jobs
               SET status = 'failed', locked_by = NULL, locked_until = NULL, updated_at = now(),
                   last_error = 'gave up after ' || attempts || ' attempts: the worker stopped '
                                || 'before finishing (last error: '
                                || coalesce(last_error, 'none') || ')'
             WHERE id IN (SELECT id FROM jobs
                           WHERE status = 'running' AND locked_until < clock_timestamp()
                             AND attempts >= max_attempts
                           FOR UPDATE SKIP LOCKED)
            RETURNING report_id, last_error
          )
          UPDATE reports r
             SET status = 'failed', error = e.last_error, completed_at = now()
            FROM exhausted e
           WHERE r.id = e.report_id AND r.status <> 'complete';

          RETURN QUERY
          UPDATE jobs j
             SET status = 'running', attempts = j.attempts + 1, locked_by = p_worker,
                 locked_until = clock_timestamp() + make_interval(secs => p_visibility_seconds),
                 updated_at = now()
           WHERE j.id IN (SELECT id FROM jobs
                           WHERE (status = 'queued' AND available_at <= clock_timestamp())
                              OR (status = 'running' AND locked_until < clock_timestamp()
                                  AND attempts < max_attempts)
                           ORDER BY available_at, created_at
                           FOR UPDATE SKIP LOCKED
                           LIMIT greatest(p_limit, 0))
          RETURNING j.*;
        END
        $$
        """
    )
    # Extend the leases a worker still holds; returns the ids it still holds (a job missing
    # from the answer was taken over after its lease ran out).
    op.execute(
        """
        CREATE FUNCTION logdawg_renew_jobs(
          p_worker text, p_visibility_seconds double precision,
          p_ids uuid[], p_attempts integer[])
        RETURNS SETOF uuid
        LANGUAGE sql SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $$
          UPDATE jobs j
             SET locked_until = clock_timestamp() + make_interval(secs => p_visibility_seconds)
            FROM unnest(p_ids, p_attempts) AS held(id, attempts)
           WHERE j.id = held.id AND j.attempts = held.attempts
             AND j.locked_by = p_worker AND j.status = 'running'
          RETURNING j.id
        $$
        """
    )
    # A new job wakes idle workers at once (they LISTEN); polling remains the fallback.
    # FOR EACH STATEMENT, and PostgreSQL folds equal notifications of one transaction.
    op.execute(
        f"""
        CREATE FUNCTION logdawg_notify_jobs() RETURNS trigger
        LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_notify AFTER INSERT ON jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION logdawg_notify_jobs()"
    )
    for signature in (
        "logdawg_claim_jobs(text, double precision, integer)",
        "logdawg_renew_jobs(text, double precision, uuid[], integer[])",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS jobs_notify ON jobs")
    op.execute("DROP FUNCTION IF EXISTS logdawg_notify_jobs()")
    op.execute("DROP FUNCTION IF EXISTS logdawg_renew_jobs(text, double precision, uuid[], integer[])")
    op.execute("DROP FUNCTION IF EXISTS logdawg_claim_jobs(text, double precision, integer)")
    op.execute("ALTER TABLE jobs DROP COLUMN request_id")
