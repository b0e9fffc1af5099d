"""The PostgreSQL cache layer: shared by workers, scoped to one organisation."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.bootstrap import Platform
from app.db.models import Provider
from app.git.cache import CachedResponse, LayeredCache, MemoryCache, PostgresCache
from app.git.github import GitHubClient
from app.git.types import RepoRef
from tests.conftest import TenantDb
from tests.fakes.git_servers import GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo
from worker.main import run_once

pytestmark = pytest.mark.integration


async def test_a_second_worker_reads_immutable_answers_from_postgres(
    tenant_db: TenantDb, tmp_path: Path
) -> None:
    repo_dir = build_sample_repo(tmp_path)
    with serve(GitHubHandler, repo_dir) as fake:
        repo = RepoRef(Provider.GITHUB, "acme", "shop", base_url=fake.url)
        shared = PostgresCache(tenant_db.sessions, tenant_db.org_a)
        for worker in range(2):  # each worker has its own, empty memory layer
            client = GitHubClient(
                fake.token,
                cache=LayeredCache(MemoryCache(), shared, str(tenant_db.org_a)),
                cache_scope="repo-1",
                base_url=fake.url,
            )
            head = await client.resolve_ref(repo, "main")
            await client.list_files(repo, head)
            await client.get_file_content(repo, "src/app/cart.py", head)
            if worker == 0:
                assert fake.sent() == 3
        second = fake.requests[3:]
        assert len(second) == 1 and second[0].conditional and second[0].status == 304


async def test_another_organisation_never_sees_the_cached_code(tenant_db: TenantDb) -> None:
    mine = PostgresCache(tenant_db.sessions, tenant_db.org_a)
    theirs = PostgresCache(tenant_db.sessions, tenant_db.org_b)
    await mine.put("k", CachedResponse(b"private source", '"e"', None, True))
    assert (await mine.get("k")) == CachedResponse(b"private source", '"e"', None, True)
    assert await theirs.get("k") is None
    await theirs.put("k", CachedResponse(b"other", None, None, True))
    assert (await mine.get("k")).body == b"private source"  # type: ignore[union-attr]


async def test_the_worker_diagnoses_a_github_repository(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    repo_dir = build_sample_repo(tmp_path)
    with serve(GitHubHandler, repo_dir) as fake:
        created = await client.post(
            "/api/v1/repositories",
            json={
                "provider": "github",
                "owner": "acme",
                "name": "shop",
                "base_url": fake.url,
                "token": fake.token,
            },
        )
        assert created.status_code == 201, created.text
        log = (
            "Traceback (most recent call last):\n"
            '  File "/srv/shop/src/app/cart.py", line 12, in total\n'
            "    total = sum(prices)\n"
            "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
        )
        accepted = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": log}})
        assert await run_once(platform, "w1")
        report = (await client.get(accepted.headers["location"])).json()
    data = report["report_data"]
    assert report["status"] == "complete", report["error"]
    assert data["culprit_file"] == "src/app/cart.py"
    assert data["suspect_commits"][0]["message"] == "Tidy cart comments"
    assert [c["touches_culprit_line"] for c in data["suspect_commits"][:2]] == [False, True]
    assert data["suspect_commits"][0]["url"].startswith("https://github.com/acme/shop/commit/")
    # ref, tree, file, blame (one GraphQL request: no diffs to read), commits
    assert data["provider_requests"] == 5
    assert data["suspect_commits"][1]["reason"].startswith("last changed")
    assert fake.token not in str(report)
