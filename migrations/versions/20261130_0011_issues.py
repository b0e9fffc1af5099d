"""issues: a fingerprint within a repository, with a state, an assignee and a timeline

``issues`` and ``issue_activities`` are tenant tables with FORCEd row-level security like every
other (0005's pattern, ``migrator_access`` included). Each report names its issue
(``reports.issue_id``, set when its diagnosis completes). ``report_occurrences.issue_counted``
says whether a repeat has been counted on the issue yet. The complete reports that exist become
issues (unresolved, counting their occurrences), so their occurrences are marked counted.

``logdawg_submit_log`` is unchanged: a repeat is still grouped onto its report whatever the
issue's state, and the API then evaluates that occurrence against the issue (regression,
lapsed ignore) in its own transaction.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("issues", "issue_activities")


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def upgrade() -> None:
    role = _app_role()
    op.create_table(
        "issues",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("repo_id", sa.Uuid(), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("culprit", sa.String(length=1100), nullable=True),
        sa.Column("state", sa.String(length=20), server_default="unresolved", nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_in_release", sa.String(length=200), nullable=True),
        sa.Column("resolved_in_commit", sa.String(length=64), nullable=True),
        sa.Column("ignore_until_count", sa.Integer(), nullable=True),
        sa.Column("ignore_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "releases",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "commits",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('unresolved', 'resolved', 'ignored')", name=op.f("ck_issues_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_issues_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["repo_id"], ["repositories.id"], ondelete="CASCADE",
            name=op.f("fk_issues_repo_id_repositories"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_issues_assignee_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint(
            "org_id", "repo_id", "fingerprint", name=op.f("uq_issues_org_id_repo_id_fingerprint"),
            postgresql_nulls_not_distinct=True,
        ),
    )  # fmt: skip
    # The list's keyset order (most recently seen first), as the reports list's indexes.
    op.create_index(
        "ix_issues_org_last_seen",
        "issues",
        ["org_id", sa.text("last_seen_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_issues_repo_id", "issues", ["repo_id"])
    op.create_index("ix_issues_assignee_id", "issues", ["assignee_id"])
    # The ignores that lapse by date, looked for on every read of the list or an issue.
    op.create_index(
        "ix_issues_ignored_until",
        "issues",
        ["ignore_until"],
        postgresql_where=sa.text("state = 'ignored' AND ignore_until IS NOT NULL"),
    )
    op.create_table(
        "issue_activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("issue_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_issue_activities_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], ondelete="CASCADE",
            name=op.f("fk_issue_activities_issue_id_issues"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_issue_activities_actor_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_activities")),
    )  # fmt: skip
    op.create_index("ix_issue_activities_issue", "issue_activities", ["issue_id", "at"])
    op.create_index("ix_issue_activities_org", "issue_activities", ["org_id"])

    op.add_column("reports", sa.Column("issue_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_reports_issue_id_issues"), "reports", "issues", ["issue_id"], ["id"],
        ondelete="SET NULL",
    )  # fmt: skip
    op.create_index("ix_reports_issue_id", "reports", ["issue_id"])
    # Existing occurrences of complete reports are counted by the backfill (true; the others
    # are set back below), while new ones start uncounted.
    op.add_column(
        "report_occurrences",
        sa.Column("issue_counted", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.alter_column("report_occurrences", "issue_counted", server_default=sa.text("false"))
    # The uncounted repeats of a report, found without reading all of its occurrences.
    op.create_index(
        "ix_report_occurrences_uncounted",
        "report_occurrences",
        ["report_id"],
        postgresql_where=sa.text("NOT issue_counted"),
    )

    _backfill()
    # The repeats of reports not complete (pending or running now, or failed and maybe re-run)
    # are counted when those reports are linked, so they start uncounted.
    op.execute(
        "UPDATE report_occurrences o SET issue_counted = false "
        "FROM reports r WHERE o.report_id = r.id AND r.status <> 'complete'"
    )

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


def _backfill() -> None:
    """The reports diagnosed before this revision become issues: one per organisation,
    repository and fingerprint of the complete reports, unresolved, counting their reports'
    occurrences, titled by the newest one. Runs as the owner role (``migrator_access``)."""
    op.execute(
        """
        INSERT INTO issues (id, org_id, repo_id, fingerprint, title, culprit, state,
                            first_seen_at, last_seen_at, occurrence_count)
        SELECT gen_random_uuid(), g.org_id, g.repo_id, g.fingerprint,
               left(coalesce(g.title, g.fingerprint), 500), left(g.culprit, 1100), 'unresolved',
               g.first_seen, g.last_seen, g.occurrences
          FROM (
            SELECT r.org_id, r.repo_id, r.fingerprint,
                   (array_agg(r.report_data->>'title' ORDER BY r.created_at DESC))[1] AS title,
                   (array_agg(coalesce(r.report_data->>'culprit_file',
                                       r.report_data->'culprit'->>'file')
                              || coalesce(':' || (r.report_data->'culprit'->>'line'), '')
                              ORDER BY r.created_at DESC))[1] AS culprit,
                   min(r.created_at) AS first_seen, max(r.last_seen_at) AS last_seen,
                   sum(r.occurrence_count)::integer AS occurrences
              FROM reports r
             WHERE r.status = 'complete' AND r.fingerprint IS NOT NULL
             GROUP BY r.org_id, r.repo_id, r.fingerprint
          ) g
        """
    )
    op.execute(
        """
        UPDATE reports r SET issue_id = i.id
          FROM issues i
         WHERE r.status = 'complete' AND i.org_id = r.org_id
           AND i.repo_id IS NOT DISTINCT FROM r.repo_id AND i.fingerprint = r.fingerprint
        """
    )
    op.execute(
        """
        INSERT INTO issue_activities (id, org_id, issue_id, kind, at, data)
        SELECT gen_random_uuid(), org_id, id, 'created', first_seen_at,
               '{"backfilled": true}'::jsonb
          FROM issues
        """
    )


def downgrade() -> None:
    op.drop_index("ix_report_occurrences_uncounted", table_name="report_occurrences")
    op.drop_column("report_occurrences", "issue_counted")
    op.drop_index("ix_reports_issue_id", table_name="reports")
    op.drop_constraint(op.f("fk_reports_issue_id_issues"), "reports", type_="foreignkey")
    op.drop_column("reports", "issue_id")
    op.drop_table("issue_activities")
    op.drop_table("issues")
