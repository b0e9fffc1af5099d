"""initial schema: tenants, repositories, credentials, reports, jobs; row-level security

Row-level security keys every tenant table on the transaction setting ``app.current_org``.
The tables belong to the role that runs this migration; the application role named by the
Alembic attribute ``app_role`` (default ``logdawg_app``) only gets DML, so the policies
hold for every query it runs. Jobs are claimed across organisations only through the
SECURITY DEFINER function ``logdawg_claim_job``.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:40:51.378662
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('slug', name=op.f('uq_organisations_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('external_id', name=op.f('uq_users_external_id'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_keys_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_api_keys_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_index(op.f('ix_api_keys_created_by'), 'api_keys', ['created_by'], unique=False)
    op.create_index(op.f('ix_api_keys_org_id'), 'api_keys', ['org_id'], unique=False)
    op.create_table('credentials',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.Enum('github', 'azure_devops', 'local', name='git_provider'), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('nonce', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_data_key', sa.LargeBinary(), nullable=False),
    sa.Column('key_version', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_credentials_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_credentials_org_id_name'))
    )
    op.create_index(op.f('ix_credentials_org_id'), 'credentials', ['org_id'], unique=False)
    op.create_table('memberships',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'admin', 'member', 'viewer', name='membership_role'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_memberships_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'user_id', name=op.f('pk_memberships'))
    )
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False)
    op.create_table('repositories',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.Enum('github', 'azure_devops', 'local', name='git_provider'), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('default_branch', sa.String(length=255), server_default='main', nullable=False),
    sa.Column('base_url', sa.String(length=2048), nullable=True),
    sa.Column('credential_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_repositories_credential_id_credentials'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_repositories_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repositories')),
    sa.UniqueConstraint('org_id', 'provider', 'owner', 'project', 'name', name=op.f('uq_repositories_org_id_provider_owner_project_name'), postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_repositories_credential_id'), 'repositories', ['credential_id'], unique=False)
    op.create_index(op.f('ix_repositories_org_id'), 'repositories', ['org_id'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('repo_id', sa.Uuid(), nullable=True),
    sa.Column('commit_hash', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.Enum('pending', 'running', 'complete', 'failed', name='report_status'), server_default='pending', nullable=False),
    sa.Column('report_data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('fingerprint', sa.String(length=128), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('log_data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('occurrence_count', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_reports_attempts_non_negative')),
    sa.CheckConstraint('occurrence_count >= 1', name=op.f('ck_reports_occurrences_positive')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_reports_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['repo_id'], ['repositories.id'], name=op.f('fk_reports_repo_id_repositories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    op.create_index('ix_reports_org_created', 'reports', ['org_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_reports_org_fingerprint', 'reports', ['org_id', 'fingerprint', sa.literal_column('created_at DESC')], unique=False)
    op.create_index('ix_reports_org_status', 'reports', ['org_id', 'status', sa.literal_column('created_at DESC')], unique=False)
    op.create_index(op.f('ix_reports_repo_id'), 'reports', ['repo_id'], unique=False)
    op.create_table('jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=50), server_default='diagnose', nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='job_status'), server_default='queued', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default=sa.text('5'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('max_attempts >= 1', name=op.f('ck_jobs_max_attempts_positive')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_jobs_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_jobs_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('report_id', name=op.f('uq_jobs_report_id'))
    )
    op.create_index('ix_jobs_claimable', 'jobs', ['available_at'], unique=False, postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.create_index('ix_jobs_org', 'jobs', ['org_id'], unique=False)
    _secure(_app_role())


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS logdawg_claim_job(text, double precision)")
    op.drop_index('ix_jobs_org', table_name='jobs')
    op.drop_index('ix_jobs_claimable', table_name='jobs', postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.drop_table('jobs')
    op.drop_index(op.f('ix_reports_repo_id'), table_name='reports')
    op.drop_index('ix_reports_org_status', table_name='reports')
    op.drop_index('ix_reports_org_fingerprint', table_name='reports')
    op.drop_index('ix_reports_org_created', table_name='reports')
    op.drop_table('reports')
    op.drop_index(op.f('ix_repositories_org_id'), table_name='repositories')
    op.drop_index(op.f('ix_repositories_credential_id'), table_name='repositories')
    op.drop_table('repositories')
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index(op.f('ix_credentials_org_id'), table_name='credentials')
    op.drop_table('credentials')
    op.drop_index(op.f('ix_api_keys_org_id'), table_name='api_keys')
    op.drop_index(op.f('ix_api_keys_created_by'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_table('users')
    op.drop_table('organisations')
    op.execute("DROP FUNCTION IF EXISTS logdawg_current_org()")
    for enum_name in ("job_status", "report_status", "membership_role", "git_provider"):
        op.execute(f"DROP TYPE IF EXISTS {enum_name}")


TENANT_TABLES = ("memberships", "credentials", "repositories", "api_keys", "reports", "jobs")


def _app_role() -> str:
    role = context.config.attributes.get("app_role", "logdawg_app")
    return op.get_bind().dialect.identifier_preparer.quote(str(role))


def _secure(app_role: str) -> None:
    op.execute(
        """
        CREATE FUNCTION logdawg_current_org() RETURNS uuid
        LANGUAGE sql STABLE
        AS $$ SELECT nullif(current_setting('app.current_org', true), '')::uuid $$
        """
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app_role.strip('"')}') THEN
            CREATE ROLE {app_role} NOLOGIN;
          END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {app_role}")
    # The readiness probe reports the schema revision it runs on.
    op.execute(f"GRANT SELECT ON alembic_version TO {app_role}")
    op.execute(f"GRANT SELECT, UPDATE ON organisations TO {app_role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON users TO {app_role}")
    op.execute("ALTER TABLE organisations ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON organisations "
        "USING (id = logdawg_current_org()) WITH CHECK (id = logdawg_current_org())"
    )
    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {app_role}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (org_id = logdawg_current_org()) WITH CHECK (org_id = logdawg_current_org())"
        )
    # Claim the next due job of any organisation. Jobs whose lease ran out after their last
    # allowed attempt are first given up on, with their reports marked failed, so a job that
    # keeps killing workers ends instead of circling for ever. Leases use clock_timestamp(),
    # not now(), which stands still for the length of a transaction.
    op.execute(
        """
        CREATE FUNCTION logdawg_claim_job(p_worker text, p_visibility_seconds double precision)
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
           WHERE j.id = (SELECT id FROM jobs
                          WHERE (status = 'queued' AND available_at <= clock_timestamp())
                             OR (status = 'running' AND locked_until < clock_timestamp()
                                 AND attempts < max_attempts)
                          ORDER BY available_at, created_at
                          FOR UPDATE SKIP LOCKED
                          LIMIT 1)
          RETURNING j.*;
        END
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION logdawg_claim_job(text, double precision) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION logdawg_claim_job(text, double precision) TO {app_role}"
    )
