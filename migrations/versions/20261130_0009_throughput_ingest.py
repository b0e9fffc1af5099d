"""Throughput, second part: NOTIFY only when a worker waits; accept a log in one statement
(``logdawg_submit_log``) with grouping by a unique key instead of an advisory lock; the
reports list's status filter through a leakproof integer and indexes in the keyset order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_CHANNEL = "logdawg_jobs"
# As app.db.models.STATUS_CODE_SQL at this revision (a migration does not import the models).
STATUS_CODE_SQL = (
    "CASE status WHEN 'pending' THEN 0 WHEN 'running' THEN 1 WHEN 'complete' THEN 2 "
    "WHEN 'failed' THEN 3 END"
)


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    role = _app_role()
    # A NOTIFY serialises committing transactions on a cluster-wide lock (it cut the ingest
    # rate by two thirds under concurrency), so only the first new job after a worker went
    # idle notifies: an idle worker registers in queue_waiters before its last look at the
    # queue, and the job's trigger takes the registrations away as it notifies. A busy
    # worker is not registered, so under load no insert notifies at all.
    op.create_table(
        "queue_waiters",
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column(
            "since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_queue_waiters")),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON queue_waiters TO {role}")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION logdawg_notify_jobs() RETURNS trigger
        LANGUAGE plpgsql
        AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM queue_waiters) THEN
            DELETE FROM queue_waiters;
            IF FOUND THEN
              PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
            END IF;
          END IF;
          RETURN NULL;
        END
        $$
        """
    )
    _ingest(role)
    # The reports list: every filter's index ends in the keyset order (created_at, id), so a
    # page of any filter, at any depth, reads limit + 1 entries. The status index lacked
    # ``id``; the fingerprint index served the grouping look-up, which report_groups took over.
    # Under row-level security a filter is an index condition only if its operator is
    # leakproof; enum equality is not, so the status filter goes through a number.
    op.add_column(
        "reports",
        sa.Column(
            "status_code",
            sa.SmallInteger(),
            sa.Computed(STATUS_CODE_SQL, persisted=True),
            nullable=False,
        ),
    )
    op.drop_index("ix_reports_org_status", table_name="reports")
    op.drop_index("ix_reports_org_fingerprint", table_name="reports")
    op.create_index(
        "ix_reports_org_status_created",
        "reports",
        ["org_id", "status_code", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    for signature in (
        "logdawg_claim_jobs(text, double precision, integer)",
        "logdawg_renew_jobs(text, double precision, uuid[], integer[])",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


SUBMIT_SIGNATURE = (
    "logdawg_submit_log(uuid, jsonb, text, uuid, boolean, text, text, double precision, "
    "integer, text)"
)


def _ingest(role: str) -> None:
    # The grouping decision: one row per (organisation, grouping key) naming the report that
    # repeats are counted on. Its primary key serialises concurrent first sightings of an
    # error (the loser of the insert race counts an occurrence), so no advisory lock is
    # needed. The foreign key is deferred: the group row is claimed before the report exists.
    op.create_table(
        "report_groups",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_report_groups_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], ondelete="CASCADE", deferrable=True,
            initially="DEFERRED", name=op.f("fk_report_groups_report_id_reports"),
        ),
        sa.PrimaryKeyConstraint("org_id", "group_key", name=op.f("pk_report_groups")),
    )  # fmt: skip
    op.create_index(op.f("ix_report_groups_report_id"), "report_groups", ["report_id"])
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON report_groups TO {role}")
    op.execute("ALTER TABLE report_groups ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON report_groups "
        "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
    )
    # As every tenant table since 0005: forced, and visible to the migrating role.
    op.execute("ALTER TABLE report_groups FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY migrator_access ON report_groups TO CURRENT_USER "
        "USING (true) WITH CHECK (true)"
    )
    # Accept one log: the repository it belongs to, the grouping decision, and the report with
    # its job (or the occurrence on the report it repeats), in one statement, so the API can
    # run it as one autocommitted round trip. SECURITY INVOKER: it runs as the application
    # role, under row-level security for p_org, which it sets for its own transaction.
    # A repeat is counted on the group's report while that report is neither failed nor older
    # than the window; otherwise the group moves on to a new report.
    op.execute(
        """
        CREATE FUNCTION logdawg_submit_log(
          p_org uuid, p_log jsonb, p_source text, p_repo uuid, p_repo_given boolean,
          p_fingerprint text, p_commit text, p_window_seconds double precision,
          p_max_attempts integer, p_request_id text)
        RETURNS TABLE (out_report_id uuid, out_job_id uuid, out_status report_status,
                       out_occurrences integer, out_repeat boolean, out_repo_missing boolean,
                       out_repo_id uuid)
        LANGUAGE plpgsql SECURITY INVOKER
        SET search_path = public, pg_temp
        AS $$
        DECLARE
          v_repo uuid := p_repo;
          v_key text;
          v_new uuid := gen_random_uuid();
          v_job uuid := gen_random_uuid();
          v_existing uuid;
          v_status report_status;
          v_count integer;
        BEGIN
          PERFORM set_config('app.current_org', p_org::text, true);
          IF p_repo_given THEN
            IF NOT EXISTS (SELECT 1 FROM repositories r WHERE r.id = p_repo) THEN
              RETURN QUERY SELECT NULL::uuid, NULL::uuid, NULL::report_status, NULL::integer,
                                  false, true, p_repo;
              RETURN;
            END IF;
          ELSE
            -- With exactly one repository registered, it is implied.
            SELECT CASE WHEN count(*) = 1 THEN (array_agg(r.id))[1] END INTO v_repo
              FROM (SELECT id FROM repositories LIMIT 2) r;
          END IF;

          IF p_fingerprint IS NOT NULL AND p_window_seconds > 0 THEN
            v_key := p_fingerprint || '|' || coalesce(v_repo::text, '-') || '|'
                     || coalesce(p_commit, '');
            LOOP
              INSERT INTO report_groups (org_id, group_key, report_id)
              VALUES (p_org, v_key, v_new)
              ON CONFLICT (org_id, group_key) DO NOTHING;
              EXIT WHEN FOUND;  -- the first sighting: v_new becomes its report
              SELECT g.report_id INTO v_existing FROM report_groups g
               WHERE g.org_id = p_org AND g.group_key = v_key FOR UPDATE;
              CONTINUE WHEN NOT FOUND;  -- the group was deleted meanwhile: claim it again
              UPDATE reports r
                 SET occurrence_count = r.occurrence_count + 1, last_seen_at = now()
               WHERE r.id = v_existing AND r.status <> 'failed'
                 AND r.created_at > now() - make_interval(secs => p_window_seconds)
              RETURNING r.status, r.occurrence_count INTO v_status, v_count;
              IF FOUND THEN
                INSERT INTO report_occurrences (id, org_id, report_id, source, log_data)
                VALUES (gen_random_uuid(), p_org, v_existing, p_source, p_log);
                RETURN QUERY SELECT v_existing, NULL::uuid, v_status, v_count, true, false,
                                    v_repo;
                RETURN;
              END IF;
              -- Failed or out of the window: the group moves on to a new report.
              UPDATE report_groups g SET report_id = v_new
               WHERE g.org_id = p_org AND g.group_key = v_key;
              EXIT;
            END LOOP;
          END IF;

          INSERT INTO reports (id, org_id, repo_id, log_data, source, fingerprint, commit_hash)
          VALUES (v_new, p_org, v_repo, p_log, p_source, p_fingerprint, p_commit);
          INSERT INTO jobs (id, org_id, report_id, max_attempts, request_id)
          VALUES (v_job, p_org, v_new, p_max_attempts, p_request_id);
          RETURN QUERY SELECT v_new, v_job, 'pending'::report_status, 1, false, false, v_repo;
        END
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SUBMIT_SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SUBMIT_SIGNATURE} TO {role}")


def downgrade() -> None:
    op.drop_index("ix_reports_org_status_created", table_name="reports")
    op.drop_column("reports", "status_code")
    op.create_index(
        "ix_reports_org_fingerprint", "reports", ["org_id", "fingerprint", sa.text("created_at DESC")]
    )
    op.create_index("ix_reports_org_status", "reports", ["org_id", "status", sa.text("created_at DESC")])
    op.execute(f"DROP FUNCTION IF EXISTS {SUBMIT_SIGNATURE}")
    op.drop_table("report_groups")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION logdawg_notify_jobs() RETURNS trigger
        LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$
        """
    )
    op.drop_table("queue_waiters")
