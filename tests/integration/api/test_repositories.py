from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from app.bootstrap import Platform
from app.db.models import Credential, Repository
from app.db.session import tenant_session
from app.services.repositories import token_for
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration

URL = "/api/v1/repositories"
TOKEN = "github_pat_11AAAAexampleexampleexample"


async def test_register_github_repository_seals_the_token(
    client: httpx.AsyncClient, tenant_db: TenantDb, platform: Platform
) -> None:
    response = await client.post(
        URL, json={"provider": "github", "owner": "acme", "name": "shop", "token": TOKEN}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["has_credential"] is True
    assert body["default_branch"] == "main"
    assert TOKEN not in response.text
    assert response.headers["location"] == f"{URL}/{body['id']}"
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        credential = (await session.scalars(select(Credential))).one()
        assert TOKEN.encode() not in credential.ciphertext + credential.wrapped_data_key
        repo = await session.get(Repository, uuid.UUID(body["id"]))
        assert repo is not None
        assert await token_for(session, platform.kek, repo) == TOKEN

    listed = (await client.get(URL)).json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert TOKEN not in (await client.get(f"{URL}/{body['id']}")).text


async def test_azure_devops_needs_a_project_and_duplicates_conflict(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.post(
        URL, json={"provider": "azure_devops", "owner": "contoso", "name": "api"}
    )
    assert missing.status_code == 422
    assert "project" in missing.json()["detail"]

    repo = {"provider": "azure_devops", "owner": "contoso", "project": "Shop", "name": "api"}
    assert (await client.post(URL, json=repo)).status_code == 201
    again = await client.post(URL, json=repo)
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "gitlab", "owner": "a", "name": "b"},
        {"provider": "github", "name": "b"},
        {"provider": "github", "owner": "a", "name": "b/../c"},
        {"provider": "github", "owner": "a", "name": "b", "project": "p"},
        {"provider": "github", "owner": "a", "name": "b", "base_url": "ftp://host"},
        {"provider": "github", "owner": "a", "name": "b", "base_url": "https://u:p@ghe.example"},
        {"provider": "github", "owner": "a", "name": "b", "token": "   "},
        {"provider": "local", "name": "b", "base_url": "relative/path"},
    ],
)
async def test_bad_registrations_are_422_and_write_nothing(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(URL)).json() == []


async def test_rotate_and_delete(
    client: httpx.AsyncClient, tenant_db: TenantDb, platform: Platform
) -> None:
    created = (
        await client.post(
            URL, json={"provider": "github", "owner": "a", "name": "b", "token": TOKEN}
        )
    ).json()
    rotated = await client.put(f"{URL}/{created['id']}/token", json={"token": "new-token"})
    assert rotated.status_code == 204
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        repo = await session.get(Repository, uuid.UUID(created["id"]))
        assert repo is not None
        assert await token_for(session, platform.kek, repo) == "new-token"
        assert len((await session.scalars(select(Credential))).all()) == 1, "old token destroyed"

    assert (await client.delete(f"{URL}/{created['id']}")).status_code == 204
    assert (await client.get(f"{URL}/{created['id']}")).status_code == 404
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        assert (await session.scalars(select(Credential))).all() == []
    assert (await client.delete(f"{URL}/{uuid.uuid4()}")).status_code == 404


async def test_multi_tenant_refuses_internal_base_urls_at_registration(
    platform: Platform, tenant_db: TenantDb
) -> None:
    from dataclasses import replace

    from app.main import create_app

    multi = replace(
        platform,
        settings=platform.settings.model_copy(
            update={"mode": "multi_tenant", "auth_provider": "dev"}
        ),
    )
    transport = httpx.ASGITransport(app=create_app(platform=multi))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        # Multi-tenant requests need an organisation; this platform still has the local one.
        answer = await c.post(
            "/api/v1/repositories",
            json={
                "provider": "github",
                "owner": "acme",
                "name": "shop",
                "base_url": "https://169.254.169.254/api/v3",
            },
        )
    assert answer.status_code == 422
    assert "internal address" in answer.json()["detail"]
