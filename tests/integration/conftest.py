from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
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


@dataclass
class Tenancy:
    """A multi-tenant API (sign-in by the local development issuer) over the test database."""

    client: httpx.AsyncClient
    app: FastAPI
    platform: Platform

    def token(self, email: str, name: str | None = None) -> str:
        return str(self.app.state.dev_issuer.mint(email, name or email.split("@")[0].title()))

    def person(self, email: str, org: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(email)}"}
        if org:
            headers["X-Logdawg-Org"] = org
        return headers


def multi_tenant_platform(platform: Platform, **settings: Any) -> Platform:
    updated = platform.settings.model_copy(
        update={"mode": "multi_tenant", "auth_provider": "dev", **settings}
    )
    return dataclasses.replace(platform, settings=updated, local_org_id=None)


@pytest.fixture
async def tenancy(platform: Platform) -> AsyncIterator[Tenancy]:
    mt = multi_tenant_platform(platform)
    app = create_app(platform=mt)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield Tenancy(client=c, app=app, platform=mt)
