"""Full-text search over reports; a per-organisation retention (maximum age) and its sweep.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words a report is found by: its title, the error message and the culprit file (also
# split at "/" and ".", so "shader" finds src/shader.c). 'simple': identifiers are not stemmed.
SEARCH_EXPRESSION = """to_tsvector('simple',
    coalesce(report_data->>'title', '') || ' ' ||
    coalesce(report_data->'log'->>'error_message', '') || ' ' ||
    coalesce(report_data->>'error_type', '') || ' ' ||
    coalesce(report_data->>'culprit_file', report_data->'culprit'->>'file', '') || ' ' ||
    translate(coalesce(report_data->>'culprit_file', report_data->'culprit'->>'file', ''),
              '/.\\_-', '     '))"""


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE reports ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({SEARCH_EXPRESSION}) STORED"
    )
    op.execute("CREATE INDEX ix_reports_search ON reports USING gin (search_vector)")
    op.execute(
        "ALTER TABLE organisations ADD COLUMN retention_days integer "
        "CONSTRAINT ck_organisations_retention_days_positive "
        "CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 3650)"
    )
    # The sweep runs without an organisation (it serves them all), so like
    # logdawg_undispatched_jobs it is SECURITY DEFINER: it deletes only what each
    # organisation's own retention says, and returns a count, nothing of a tenant's data.
    # Occurrences and jobs go with their report (ON DELETE CASCADE).
    op.execute(
        """
        CREATE FUNCTION logdawg_retention_sweep() RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
          WITH gone AS (
            DELETE FROM reports r USING organisations o
            WHERE r.org_id = o.id AND o.retention_days IS NOT NULL
              AND r.status IN ('complete', 'failed')
              AND r.last_seen_at < now() - make_interval(days => o.retention_days)
            RETURNING r.id
          )
          SELECT count(*) FROM gone
        $$
        """
    )
    role = context.config.attributes.get("app_role", "logdawg_app")
    role = op.get_bind().dialect.identifier_preparer.quote(str(role))
    op.execute("REVOKE ALL ON FUNCTION logdawg_retention_sweep() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION logdawg_retention_sweep() TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION logdawg_retention_sweep()")
    op.execute("ALTER TABLE organisations DROP COLUMN retention_days")
    op.execute("DROP INDEX ix_reports_search")
    op.execute("ALTER TABLE reports DROP COLUMN search_vector")
