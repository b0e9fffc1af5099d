"""notifications and write-back: rules, their delivery log, the issue/work item of a report;
notification jobs on the job queue

``notification_rules``, ``notification_deliveries`` and ``report_issue_links`` are tenant
tables with FORCEd row-level security like every other (0005's pattern, ``migrator_access``
included). A rule's channel secret is sealed (envelope encryption, as repository tokens).

Jobs gain a second kind, ``notify`` (one delivery of a rule): the one-job-per-report rule now
holds for ``diagnose`` jobs only, and a ``notify`` job that ran out of attempts while its
worker was gone fails without failing the report it is about.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("notification_rules", "notification_deliveries", "report_issue_links")

CLAIM = """
CREATE OR REPLACE FUNCTION logdawg_claim_jobs(
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
    RETURNING id, report_id, last_error, kind
  ){given_up}
  UPDATE reports r
     SET status = 'failed', error = e.last_error, completed_at = now()
    FROM exhausted e
   WHERE r.id = e.report_id AND r.status <> 'complete' AND e.kind = 'diagnose';

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

# A notify job given up here (its last attempt's worker stopped) fails its delivery too, so
# the delivery log does not show it waiting for ever.
GIVEN_UP = """, given_up AS (
    UPDATE notification_deliveries d
       SET status = 'failed', next_retry_at = NULL, error = e.last_error
      FROM exhausted e
     WHERE d.job_id = e.id AND e.kind = 'notify' AND d.status IN ('queued', 'retrying')
  )"""
CLAIM_BEFORE = (
    CLAIM.replace("{given_up}", "")
    .replace("RETURNING id, report_id, last_error, kind", "RETURNING report_id, last_error")
    .replace(" AND e.kind = 'diagnose'", "")
)
CLAIM = CLAIM.replace("{given_up}", GIVEN_UP)


# The retention sweep (0007) deletes old reports, whose notify jobs cascade with them: their
# deliveries still waiting are failed in the same statement, saying why.
SWEEP_BEFORE = """
CREATE OR REPLACE FUNCTION logdawg_retention_sweep() RETURNS bigint
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
SWEEP = SWEEP_BEFORE.replace(
    "    RETURNING r.id\n  )",
    """    RETURNING r.id
  ), unsent AS (
    UPDATE notification_deliveries d
       SET status = 'failed', next_retry_at = NULL,
           error = 'not sent: the report was deleted (retention)'
     WHERE d.report_id IN (SELECT id FROM gone) AND d.status IN ('queued', 'retrying')
  )""",
)


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def _created_at() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisations.id"], name=f"fk_{table}_org_id_organisations",
        ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    role = _app_role()
    op.drop_constraint("uq_jobs_report_id", "jobs", type_="unique")
    op.create_index(
        "uq_jobs_report_id",
        "jobs",
        ["report_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'diagnose'"),
    )
    op.execute(CLAIM)

    op.create_table(
        "notification_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("threshold_count", sa.Integer(), nullable=True),
        sa.Column("threshold_minutes", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column(
            "config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("secret_nonce", sa.LargeBinary(), nullable=False),
        sa.Column("secret_wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("secret_key_version", sa.String(length=200), nullable=False),
        sa.Column("secret_hint", sa.String(length=100), nullable=False),
        sa.Column("storm_limit", sa.Integer(), server_default=sa.text("10"), nullable=False),
        sa.Column("storm_window_s", sa.Integer(), server_default=sa.text("600"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _created_at(),
        _org("notification_rules"),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_notification_rules_created_by_users",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.CheckConstraint(
            "trigger IN ('new', 'regression', 'threshold')",
            name="ck_notification_rules_trigger_known",
        ),
        sa.CheckConstraint(
            "channel IN ('slack', 'teams', 'email', 'webhook', 'issue_tracker')",
            name="ck_notification_rules_channel_known",
        ),
        sa.CheckConstraint(
            "trigger <> 'threshold' OR (threshold_count >= 1 AND threshold_minutes >= 1)",
            name="ck_notification_rules_threshold_complete",
        ),
        sa.CheckConstraint(
            "storm_limit >= 1 AND storm_window_s >= 1",
            name="ck_notification_rules_storm_positive",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_rules"),
    )
    op.create_index("ix_notification_rules_org", "notification_rules", ["org_id"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), server_default="message", nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("issue_id", sa.Uuid(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("digest_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _created_at(),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        _org("notification_deliveries"),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["notification_rules.id"],
            name="fk_notification_deliveries_rule_id_notification_rules", ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_notification_deliveries_job_id_jobs",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_notification_deliveries_report_id_reports",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["digest_id"], ["notification_deliveries.id"],
            name="fk_notification_deliveries_digest_id_notification_deliveries",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint("job_id", name="uq_notification_deliveries_job_id"),
    )
    op.create_index(
        "ix_notification_deliveries_rule",
        "notification_deliveries",
        ["rule_id", sa.text("created_at DESC")],
    )
    op.create_index("ix_notification_deliveries_org", "notification_deliveries", ["org_id"])
    op.create_index("ix_notification_deliveries_digest", "notification_deliveries", ["digest_id"])

    op.create_table(
        "report_issue_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("repo_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("pull_request_comment_url", sa.String(length=2048), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _created_at(),
        _org("report_issue_links"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_report_issue_links_report_id_reports",
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["repo_id"], ["repositories.id"], name="fk_report_issue_links_repo_id_repositories",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_report_issue_links_created_by_users",
            ondelete="SET NULL",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name="pk_report_issue_links"),
        sa.UniqueConstraint("report_id", name="uq_report_issue_links_report_id"),
    )
    op.create_index("ix_report_issue_links_org", "report_issue_links", ["org_id"])

    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
        )
        op.execute(
            f"CREATE POLICY migrator_access ON {table} TO CURRENT_USER "
            "USING (true) WITH CHECK (true)"
        )
    op.execute(SWEEP)


def downgrade() -> None:
    op.execute(SWEEP_BEFORE)
    op.drop_table("report_issue_links")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_rules")
    op.execute(CLAIM_BEFORE)
    op.execute("DELETE FROM jobs WHERE kind <> 'diagnose'")
    op.drop_index("uq_jobs_report_id", table_name="jobs")
    op.create_unique_constraint("uq_jobs_report_id", "jobs", ["report_id"])
