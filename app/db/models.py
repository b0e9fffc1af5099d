"""The data model. Every tenant table carries ``org_id`` and is guarded by row-level security
(see ``TENANT_TABLES`` and the initial migration)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Update,
    func,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.git.types import Provider as Provider  # the enum lives on the git side

SEARCH_EXPRESSION = """to_tsvector('simple',
    coalesce(report_data->>'title', '') || ' ' ||
    coalesce(report_data->'log'->>'error_message', '') || ' ' ||
    coalesce(report_data->>'error_type', '') || ' ' ||
    coalesce(report_data->>'culprit_file', report_data->'culprit'->>'file', '') || ' ' ||
    translate(coalesce(report_data->>'culprit_file', report_data->'culprit'->>'file', ''),
              '/.\\_-', '     '))"""


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class ReportStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


STATUS_CODES = {ReportStatus.PENDING: 0, ReportStatus.RUNNING: 1, ReportStatus.COMPLETE: 2,
                ReportStatus.FAILED: 3}  # fmt: skip
STATUS_CODE_SQL = (
    "CASE status "
    + " ".join(f"WHEN '{s.value}' THEN {c}" for s, c in STATUS_CODES.items())
    + " END"
)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    # Reports last seen longer ago than this many days are deleted by the retention sweep;
    # NULL keeps them for good.
    retention_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "retention_days IS NULL OR retention_days BETWEEN 1 AND 3650",
            name="retention_days_positive",
        ),
    )


class User(Base):
    """A person. Global (one person may belong to several organisations through memberships)."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The stable key: the token's tenant (``tid``) and object id (``oid``). E-mail is neither
    # always present in a token nor unique across tenants.
    tenant_id: Mapped[str] = mapped_column(String(64), server_default="")
    external_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "membership_role"))
    created_at: Mapped[datetime] = _now()


class Credential(Base):
    """A provider token, envelope-encrypted: the token under a per-credential data key
    (AES-256-GCM), the data key wrapped by the key-encryption key named by ``key_version``."""

    __tablename__ = "credentials"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[Provider] = mapped_column(_enum(Provider, "git_provider"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("org_id", "name"),)


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[Provider] = mapped_column(_enum(Provider, "git_provider"))
    # GitHub owner (user or organisation) or Azure DevOps organisation; empty for ``local``.
    owner: Mapped[str] = mapped_column(String(200))
    # Azure DevOps project; NULL for GitHub and local.
    project: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    default_branch: Mapped[str] = mapped_column(String(255), server_default="main")
    # GitHub Enterprise Server / Azure DevOps Server API root; NULL for the public clouds.
    base_url: Mapped[str | None] = mapped_column(String(2048))
    credential_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _now()
    # How the repository is read (``AuthKind``): a pasted token, the GitHub App's installation,
    # the platform's own Entra ID identity, or a customer's service principal (sealed).
    auth_kind: Mapped[str] = mapped_column(String(40), server_default="token")
    github_installation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("github_installations.id", ondelete="SET NULL"), index=True
    )
    # Set when the provider said access is gone (the app uninstalled, the repository removed
    # from the installation); cleared when it returns.
    unreachable_reason: Mapped[str | None] = mapped_column(String(500))
    unreachable_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint(
            "org_id", "provider", "owner", "project", "name", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(
            "auth_kind IN ('token', 'github_app', 'azure_identity', 'azure_service_principal')",
            name="auth_kind",
        ),
    )


class AuthKind(enum.StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind, not a secret
    GITHUB_APP = "github_app"
    AZURE_IDENTITY = "azure_identity"
    AZURE_SERVICE_PRINCIPAL = "azure_service_principal"


class GitHubInstallation(Base):
    """The platform's GitHub App installed on a GitHub account, for one organisation."""

    __tablename__ = "github_installations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    installation_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    account_login: Mapped[str] = mapped_column(String(200))
    account_type: Mapped[str] = mapped_column(String(40))
    # owner/name of each repository the installation grants, kept current by webhooks.
    repositories: Mapped[list[str]] = mapped_column(
        ARRAY(String(300)), server_default=text("'{}'::varchar[]")
    )
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitHubInstallState(Base):
    """An install's ``state`` parameter: one-time, bound to the organisation and the person,
    expiring. Only its SHA-256 is kept."""

    __tablename__ = "github_install_states"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An install GitHub only *requested* (an organisation owner must approve it): when, by
    # which GitHub user (when the platform verifies people), and the installation it became.
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    requester_login: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    installation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("github_installations.id", ondelete="SET NULL")
    )


class GitHubWebhookDelivery(Base):
    """A webhook delivery already handled (``X-GitHub-Delivery``); no tenant data."""

    __tablename__ = "github_webhook_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = _now()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # ``ldk_`` and the key's public id: what a person (and a secret scanner) recognises.
    prefix: Mapped[str] = mapped_column(String(16))
    # HMAC-SHA256 of the secret part under the platform's API-key hashing secret.
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{ingest,read}'::varchar[]")
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """An invitation to an organisation, accepted once, by the invited address, before it
    expires. Only the SHA-256 of its one-time token is kept."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(_enum(Role, "membership_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_invitations_org", "org_id", text("created_at DESC")),)


class WebhookPrincipal(Base):
    """An Entra ID service principal trusted to send alerts for one organisation: Azure
    Monitor's action group principal in the customer's tenant (secure webhooks)."""

    __tablename__ = "webhook_principals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[str] = mapped_column(String(36))
    object_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        UniqueConstraint("tenant_id", "object_id"),
        Index("ix_webhook_principals_org", "org_id"),
    )


class Report(Base):
    """A diagnosis. Its id is the diagnosis id the API hands out."""

    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    repo_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="SET NULL"), index=True
    )
    # ``repo_id`` as it was before its repository was deleted (set by a trigger, migration
    # 0014), so a diagnosis can say the repository was deleted.
    deleted_repo_id: Mapped[uuid.UUID | None] = mapped_column()
    commit_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus, "report_status"), server_default=ReportStatus.PENDING.value
    )
    # ``status`` as a number, for the list's status filter: under row-level security a
    # filter must use a leakproof operator to be an index condition, and enum equality is
    # not leakproof (integer equality is).
    status_code: Mapped[int] = mapped_column(
        SmallInteger, Computed(STATUS_CODE_SQL, persisted=True), nullable=False
    )
    report_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    fingerprint: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The submitted request's ``log_data``, as accepted.
    log_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str | None] = mapped_column(String(200))
    # Grouping of repeats (same fingerprint within a window) onto this report.
    occurrence_count: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    last_seen_at: Mapped[datetime] = _now()
    # The issue (fingerprint within the repository) this report is an occurrence of; set when
    # its diagnosis completes.
    issue_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), index=True
    )
    # Title, error message and culprit file as words, for full-text search (migration 0007
    # holds the expression; the database computes it).
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_EXPRESSION, persisted=True), deferred=True
    )

    __table_args__ = (
        Index("ix_reports_search", "search_vector", postgresql_using="gin"),
        Index("ix_reports_org_created", "org_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_reports_org_status_created",
            "org_id",
            "status_code",
            text("created_at DESC"),
            text("id DESC"),
        ),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("occurrence_count >= 1", name="occurrences_positive"),
    )


class Job(Base):
    """A unit of work. With the PostgreSQL queue this row *is* the queue message; with a
    broker it is the outbox entry that is handed to the broker after commit."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    # ``diagnose`` (one per report) or ``notify`` (a notification delivery about the report).
    kind: Mapped[str] = mapped_column(String(50), server_default="diagnose")
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), server_default=JobStatus.QUEUED.value
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    available_at: Mapped[datetime] = _now()
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The X-Request-ID of the request that submitted the log (worker log lines carry it).
    request_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        Index(
            "ix_jobs_claimable",
            "available_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_jobs_org", "org_id"),
        # One diagnosis job per report (the report id is its idempotency key); notification
        # jobs about the same report are not limited.
        Index(
            "uq_jobs_report_id",
            "report_id",
            unique=True,
            postgresql_where=text("kind = 'diagnose'"),
        ),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
    )


class ReportOccurrence(Base):
    """A repeat of an already diagnosed error, kept with its log: grouping saves the cost of a
    diagnosis, never the data that was accepted."""

    __tablename__ = "report_occurrences"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = _now()
    source: Mapped[str | None] = mapped_column(String(200))
    log_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Whether this occurrence has been counted on its report's issue (and its event published):
    # the API counts a repeat after accepting it; the worker counts the repeats that arrived
    # before the report was linked to its issue.
    issue_counted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        Index("ix_report_occurrences_report", "report_id", text("received_at DESC")),
        Index("ix_report_occurrences_org", "org_id"),
        Index(
            "ix_report_occurrences_uncounted",
            "report_id",
            postgresql_where=text("NOT issue_counted"),
        ),
    )


class QueueWaiter(Base):
    """An idle PostgreSQL-queue worker waiting for a NOTIFY; the next new job's trigger takes
    these rows away as it notifies (see migration 0006). Worker ids only, no tenant data."""

    __tablename__ = "queue_waiters"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    since: Mapped[datetime] = _now()


class ReportGroup(Base):
    """The grouping decision: the report that repeats of one error (fingerprint, repository
    and commit, joined into ``group_key``) are counted on. Written by ``logdawg_submit_log``."""

    __tablename__ = "report_groups"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(Text, primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        index=True,
    )


class CodeMappingRule(Base):
    """A learned stack-root → source-root rule of a repository (``/app/`` → ``""``): later
    diagnoses map frames with it directly."""

    __tablename__ = "code_mappings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    repo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    stack_root: Mapped[str] = mapped_column(String(1024))
    source_root: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        UniqueConstraint("repo_id", "stack_root", "source_root"),
        Index("ix_code_mappings_org", "org_id"),
    )


class GitCacheEntry(Base):
    """A provider response kept for reuse: for good when addressed by a commit SHA, else with
    its ETag for conditional revalidation. Tenant rows: one organisation's private code is
    never served to another."""

    __tablename__ = "git_cache"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 of the request (provider, URL, media type, body): no token, no content.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    link: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    immutable: Mapped[bool] = mapped_column(Boolean)
    stored_at: Mapped[datetime] = _now()


class IssueState(enum.StrEnum):
    UNRESOLVED = "unresolved"
    RESOLVED = "resolved"
    IGNORED = "ignored"


class Issue(Base):
    """A fingerprint within a repository: every report of that error is an occurrence of it.
    Its state says what people decided (resolved, ignored) and the occurrences may undo it
    (a regression, an ignore that lapsed)."""

    __tablename__ = "issues"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    repo_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE")
    )
    fingerprint: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(500))
    # The culprit as ``file:line`` (the latest diagnosis's).
    culprit: Mapped[str | None] = mapped_column(String(1100))
    state: Mapped[str] = mapped_column(String(20), server_default=IssueState.UNRESOLVED.value)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_in_release: Mapped[str | None] = mapped_column(String(200))
    resolved_in_commit: Mapped[str | None] = mapped_column(String(64))
    # Ignored until the occurrence count reaches this, or until this moment (either or both).
    ignore_until_count: Mapped[int | None] = mapped_column(Integer)
    ignore_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    occurrence_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # {release: {"first_seen": iso, "last_seen": iso, "count": n}}; the same for commits.
    releases: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    commits: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        UniqueConstraint("org_id", "repo_id", "fingerprint", postgresql_nulls_not_distinct=True),
        Index("ix_issues_org_last_seen", "org_id", text("last_seen_at DESC"), text("id DESC")),
        Index("ix_issues_repo_id", "repo_id"),
        Index("ix_issues_assignee_id", "assignee_id"),
        # The ignores that lapse by date (``expire_ignores`` looks for them on every read).
        Index(
            "ix_issues_ignored_until",
            "ignore_until",
            postgresql_where=text("state = 'ignored' AND ignore_until IS NOT NULL"),
        ),
        CheckConstraint("state IN ('unresolved', 'resolved', 'ignored')", name="state_known"),
    )


class IssueActivity(Base):
    """One entry of an issue's timeline: created, a state change (by whom, or by the platform),
    a regression, an assignment."""

    __tablename__ = "issue_activities"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    issue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # The person who did it; NULL when the platform did (an occurrence, CODEOWNERS).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = _now()
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        Index("ix_issue_activities_issue", "issue_id", "at"),
        Index("ix_issue_activities_org", "org_id"),
    )


class NotificationRule(Base):
    """When to tell whom: a trigger (a new issue, a regression, an issue crossing N
    occurrences in M minutes) and one channel. The channel's secret (a Slack or Teams webhook
    URL, the SMTP password, the webhook signing secret) is sealed like a repository token,
    authenticated with the organisation and the rule's id; only ``secret_hint`` is shown."""

    __tablename__ = "notification_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(20))
    threshold_count: Mapped[int | None] = mapped_column(Integer)
    threshold_minutes: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    # What the channel needs that is not secret (SMTP host, port, sender, recipients; the
    # webhook's URL).
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    secret_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    secret_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    secret_key_version: Mapped[str] = mapped_column(String(200))
    secret_hint: Mapped[str] = mapped_column(String(100))
    # Storm control: more than ``storm_limit`` messages in ``storm_window_s`` become one digest.
    storm_limit: Mapped[int] = mapped_column(Integer, server_default=text("10"))
    storm_window_s: Mapped[int] = mapped_column(Integer, server_default=text("600"))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        Index("ix_notification_rules_org", "org_id"),
        CheckConstraint("trigger IN ('new', 'regression', 'threshold')", name="trigger_known"),
        CheckConstraint(
            "channel IN ('slack', 'teams', 'email', 'webhook', 'issue_tracker')",
            name="channel_known",
        ),
        CheckConstraint(
            "trigger <> 'threshold' OR (threshold_count >= 1 AND threshold_minutes >= 1)",
            name="threshold_complete",
        ),
        CheckConstraint("storm_limit >= 1 AND storm_window_s >= 1", name="storm_positive"),
    )


class NotificationDelivery(Base):
    """One message of a rule and what became of it: the delivery log. A message folded into
    a digest (a storm) points at the digest's delivery and is not sent on its own."""

    __tablename__ = "notification_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notification_rules.id", ondelete="CASCADE")
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), unique=True
    )
    # ``message`` or ``digest``
    kind: Mapped[str] = mapped_column(String(20), server_default="message")
    event: Mapped[str] = mapped_column(String(20))
    issue_id: Mapped[uuid.UUID | None] = mapped_column()
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL")
    )
    # What the message says (title, culprit, suspect commit, link), fixed when it was queued.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    digest_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("notification_deliveries.id", ondelete="SET NULL")
    )
    # queued, retrying, delivered, failed, digested (folded into ``digest_id``)
    status: Mapped[str] = mapped_column(String(20), server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    response_code: Mapped[int | None] = mapped_column(Integer)
    next_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def waiting(cls) -> ColumnElement[bool]:
        """Not sent yet, and still meant to be."""
        return cls.status.in_(("queued", "retrying"))

    @classmethod
    def fail_waiting(cls, where: ColumnElement[bool], error: str | None) -> Update:
        """Fail the waiting deliveries ``where`` selects, saying why: what they waited on (a
        report, a job) is gone, and the delivery log must not show them queued for ever."""
        return (
            update(cls)
            .where(where, cls.waiting())
            .values(status="failed", next_retry_at=None, error=error)
        )

    __table_args__ = (
        Index("ix_notification_deliveries_rule", "rule_id", text("created_at DESC")),
        Index("ix_notification_deliveries_org", "org_id"),
        Index("ix_notification_deliveries_digest", "digest_id"),
    )


class ReportIssueLink(Base):
    """The GitHub issue or Azure DevOps work item created from a report (one per report)."""

    __tablename__ = "report_issue_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), unique=True
    )
    repo_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="SET NULL")
    )
    provider: Mapped[str] = mapped_column(String(20))
    # The issue number or work item id, and where a person opens it.
    external_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2048))
    # The comment left on the pull request that introduced the suspect commit, if any.
    pull_request_comment_url: Mapped[str | None] = mapped_column(String(2048))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()

    __table_args__ = (Index("ix_report_issue_links_org", "org_id"),)


# Tables filtered by the ``app.current_org`` setting; ``organisations`` is filtered on ``id``.
TENANT_TABLES = (
    "memberships",
    "credentials",
    "repositories",
    "api_keys",
    "reports",
    "jobs",
    "report_occurrences",
    "code_mappings",
    "git_cache",
    "report_groups",
    "invitations",
    "webhook_principals",
    "github_installations",
    "github_install_states",
    "issues",
    "issue_activities",
    "notification_rules",
    "notification_deliveries",
    "report_issue_links",
)
