"""The one place that picks adapters from settings. The API's lifespan and the worker both
start here, so they always run on the same database, queue and diagnoser."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import migrate
from app.db.embedded import EmbeddedDatabase, start_embedded
from app.db.entra import EntraPassword, use_entra_password
from app.db.session import create_engine, session_factory
from app.git.tokens import GitHubApp
from app.issues.events import IssueEventSink
from app.notifications.sink import NotificationSink
from app.queue.base import JobQueue
from app.queue.postgres import PostgresJobQueue
from app.queue.servicebus import ServiceBusJobQueue
from app.secrets.base import KeyWrapper
from app.secrets.keyvault import KeyVaultKey
from app.secrets.local import LocalKeyFile
from app.services.issues import DiscardIssueEvents
from app.services.repository_access import RepositoryAccess
from app.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: JobQueue
    kek: KeyWrapper
    head_revision: str
    # The organisation every request acts for until sign-in exists (single-tenant mode).
    local_org_id: uuid.UUID | None
    embedded: EmbeddedDatabase | None
    # The local organisation's owner, whom a request without credentials acts as.
    local_user_id: uuid.UUID | None = None
    # How repositories are read without pasted tokens (the GitHub App, Entra ID); one per
    # process, so token caches are shared.
    access: RepositoryAccess = field(default_factory=RepositoryAccess)
    # Where issue events (new, regression, occurrence) go: the worker and the API publish
    # through it inside the transaction that recorded them. ``bootstrap`` sets the
    # notification rules' sink; a Platform built by hand discards the events.
    issue_events: IssueEventSink = field(default_factory=DiscardIssueEvents)

    async def aclose(self) -> None:
        await self.engine.dispose()


def sqlalchemy_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form users paste and select the psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def host_url(settings: Settings, password: str | None = None) -> str:
    """The URL of ``LOGDAWG_DATABASE_HOST`` (TLS required; a path is a socket directory)."""
    user = quote(settings.database_user or "", safe="")
    secret = f":{quote(password, safe='')}" if password else ""
    host = settings.database_host or ""
    if host.startswith("/"):
        return (
            f"postgresql+psycopg://{user}{secret}@/{settings.database_name}"
            f"?host={quote(host)}&port={settings.database_port}"
        )
    return (
        f"postgresql+psycopg://{user}{secret}@{host}:{settings.database_port}/"
        f"{settings.database_name}?sslmode=require"
    )


def entra_password(settings: Settings) -> EntraPassword | None:
    if settings.database_auth != "entra":
        return None
    from azure.identity import DefaultAzureCredential

    return EntraPassword(DefaultAzureCredential())


def database_urls(
    settings: Settings, password: EntraPassword | None = None
) -> tuple[str, str, EmbeddedDatabase | None]:
    """(application URL, owner URL, embedded server or None). With Entra ID authentication
    the owner URL carries a fresh token (it is used at once, for migrations); the application
    engine gets a new token for every connection instead."""
    if settings.database_host is not None:
        return host_url(settings), host_url(settings, password() if password else None), None
    if settings.database_url is None:
        embedded = start_embedded(settings.data_dir, app_role=settings.database_app_role)
        return embedded.app_url, embedded.owner_url, embedded
    app_url = sqlalchemy_url(settings.database_url)
    owner_url = sqlalchemy_url(settings.migration_database_url or settings.database_url)
    return app_url, owner_url, None


LOCAL_TENANT = "local"


def ensure_local_org(owner_url: str, slug: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The single-tenant platform's organisation and its owner, the local user (created on
    first start). Runs as the owner role, whose policy lets it write any organisation."""
    engine = create_sync_engine(owner_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (id, slug, name) VALUES (:id, :slug, :name) "
                    "ON CONFLICT (slug) DO NOTHING"
                ),
                {"id": uuid.uuid4(), "slug": slug, "name": "Local organisation"},
            )
            org_id = conn.execute(
                text("SELECT id FROM organisations WHERE slug = :slug"), {"slug": slug}
            ).scalar_one()
            user_id = conn.execute(
                text("SELECT logdawg_sign_in(:tid, :oid, :name, NULL)"),
                {"tid": LOCAL_TENANT, "oid": slug, "name": "Local owner"},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO memberships (org_id, user_id, role) VALUES (:org, :user, 'owner') "
                    "ON CONFLICT DO NOTHING"
                ),
                {"org": org_id, "user": user_id},
            )
    finally:
        engine.dispose()
    return uuid.UUID(str(org_id)), uuid.UUID(str(user_id))


def job_queue(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> JobQueue:
    if settings.queue_backend == "servicebus":
        from azure.identity import DefaultAzureCredential
        from azure.servicebus import ServiceBusClient

        client = ServiceBusClient(
            settings.servicebus_namespace or "", credential=DefaultAzureCredential()
        )
        return ServiceBusJobQueue(
            sessions,
            client,
            queue_name=settings.servicebus_queue,
            visibility_timeout_s=settings.job_visibility_timeout_s,
            max_attempts=settings.job_max_attempts,
            prefetch_count=settings.worker_concurrency,
        )
    return PostgresJobQueue(
        sessions,
        visibility_timeout_s=settings.job_visibility_timeout_s,
        max_attempts=settings.job_max_attempts,
    )


async def key_wrapper(settings: Settings) -> KeyWrapper:
    if settings.secret_backend == "keyvault":  # noqa: S105 - a backend name
        from azure.identity import DefaultAzureCredential

        return await KeyVaultKey(
            settings.keyvault_uri or "", settings.keyvault_key_name, DefaultAzureCredential()
        ).load()
    return LocalKeyFile(settings.key_path)


async def bootstrap(
    settings: Settings,
    *,
    migrate_schema: bool | None = None,
    password: EntraPassword | None = None,
) -> Platform:
    password = password or entra_password(settings)
    app_url, owner_url, embedded = await asyncio.to_thread(database_urls, settings, password)
    if settings.migrate_on_start if migrate_schema is None else migrate_schema:
        await asyncio.to_thread(migrate.upgrade, owner_url, settings.database_app_role)
    local_org_id = local_user_id = None
    if settings.mode == "single_tenant":
        local_org_id, local_user_id = await asyncio.to_thread(
            ensure_local_org, owner_url, settings.local_org_slug
        )
    engine = create_engine(
        app_url,
        # A worker's jobs, its LISTEN connection and its lease renewals each hold one.
        pool_size=max(settings.database_pool_size, settings.worker_concurrency + 4),
        max_overflow=settings.database_max_overflow,
    )
    if password is not None:
        use_entra_password(engine.sync_engine, password)
    sessions = session_factory(engine)
    queue = job_queue(settings, sessions)
    return Platform(
        settings=settings,
        engine=engine,
        sessions=sessions,
        queue=queue,
        kek=await key_wrapper(settings),
        head_revision=migrate.head_revision(),
        local_org_id=local_org_id,
        embedded=embedded,
        local_user_id=local_user_id,
        issue_events=NotificationSink(queue, settings),
        access=RepositoryAccess(
            github_app=github_app(settings),
            identity_grants=settings.azure_devops_identity_grants
            if settings.mode == "multi_tenant"
            else None,
        ),
    )


def github_app(settings: Settings) -> GitHubApp | None:
    """The platform's GitHub App; one per process, so its installation tokens are shared."""
    if settings.github_app_id is None:
        return None
    return GitHubApp(
        app_id=settings.github_app_id,
        private_key_pem=settings.github_app_key_pem(),
        api_url=settings.github_api_url,
        timeout_s=settings.git_timeout_s,
        web_url=settings.github_web_url,
        client_id=settings.github_app_client_id,
        client_secret=settings.github_app_client_secret.get_secret_value()
        if settings.github_app_client_secret
        else None,
    )
