from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import Platform
from app.db import migrate
from app.db.embedded import EmbeddedDatabase
from app.main import create_app
from app.queue.postgres import PostgresJobQueue
from app.secrets.local import LocalKeyFile
from app.settings import Settings
from tests.conftest import TenantDb


@pytest.fixture
def platform(
    tenant_db: TenantDb, app_engine: AsyncEngine, embedded: EmbeddedDatabase, tmp_path: Path
) -> Platform:
    settings = Settings(
        database_url=embedded.app_url, max_body_bytes=64 * 1024, key_file=tmp_path / "kek"
    )
    return Platform(
        settings=settings,
        engine=app_engine,
        sessions=tenant_db.sessions,
        queue=PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=3),
        kek=LocalKeyFile(tmp_path / "kek"),
        head_revision=migrate.head_revision(),
        local_org_id=tenant_db.org_a,
        embedded=None,
    )


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c
