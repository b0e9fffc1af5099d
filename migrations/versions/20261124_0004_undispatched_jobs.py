"""Jobs a broker never received, for the workers' sweep (Service Bus queue).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SECURITY DEFINER like logdawg_claim_job: the only cross-organisation read the
    # application role has, and it returns ids, nothing of a tenant's data.
    op.execute(
        """
        CREATE FUNCTION logdawg_undispatched_jobs(older_than_s double precision)
        RETURNS TABLE (id uuid, org_id uuid, report_id uuid, attempts integer)
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          SELECT j.id, j.org_id, j.report_id, j.attempts FROM jobs j
          WHERE j.status = 'queued' AND j.dispatched_at IS NULL
            AND j.updated_at < clock_timestamp() - make_interval(secs => older_than_s)
          ORDER BY j.updated_at
          LIMIT 500
        $$
        """
    )
    role = context.config.attributes.get("app_role", "logdawg_app")
    role = op.get_bind().dialect.identifier_preparer.quote(str(role))
    op.execute(
        "REVOKE ALL ON FUNCTION logdawg_undispatched_jobs(double precision) FROM PUBLIC"
    )
    op.execute(
        f"GRANT EXECUTE ON FUNCTION logdawg_undispatched_jobs(double precision) TO {role}"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION logdawg_undispatched_jobs(double precision)")
