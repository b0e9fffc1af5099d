"""A log submitted for a registered local checkout is diagnosed against its code by the worker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.bootstrap import Platform
from app.db.models import CodeMappingRule
from app.db.session import tenant_session
from tests.conftest import TenantDb
from tests.eval.cases import build_repository, cases
from worker.main import run_once

pytestmark = pytest.mark.integration


async def _diagnose_against_checkout(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> dict[str, object]:
    case = next(c for c in cases() if c.name == "java-index")
    repo = build_repository(case, tmp_path)
    registered = await client.post(
        "/api/v1/repositories",
        json={"provider": "local", "name": "shop", "base_url": str(repo)},
    )
    assert registered.status_code == 201, registered.text
    accepted = await client.post(
        "/api/v1/logs/diagnose", json={"log_data": {"content": case.log}}
    )  # the only repository of the organisation: no repository_id needed
    assert accepted.status_code == 202
    assert await run_once(platform, "test-worker")
    report = (await client.get(accepted.headers["location"])).json()
    assert report["status"] == "complete", report["error"]
    assert report["repo_id"] == registered.json()["id"]
    return report


async def test_the_worker_reads_the_registered_checkout(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    report = await _diagnose_against_checkout(client, platform, tmp_path)
    data = report["report_data"]
    assert isinstance(data, dict)
    assert data["culprit_file"] == "src/main/java/com/shop/report/Totals.java"
    assert data["commit"]["source"] == "default_branch"
    assert report["commit_hash"] == data["commit"]["sha"]
    assert data["suspect_commits"][1]["touches_culprit_line"] is True
    assert data["relevant_code_files"][0]["snippets"][0]["highlight_line"] == 61


async def test_learned_mappings_are_kept_for_the_next_diagnosis(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb, tmp_path: Path
) -> None:
    await _diagnose_against_checkout(client, platform, tmp_path)
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        rules = (await session.scalars(select(CodeMappingRule))).all()
    # Java frames name package paths (com/shop/...); the sources live under src/main/java/.
    assert [(r.stack_root, r.source_root) for r in rules] == [("", "src/main/java/")]
    # The next diagnosis of this repository maps every frame with the stored rule.
    case = next(c for c in cases() if c.name == "java-index")
    other_error = str(case.log).replace("IndexOutOfBoundsException", "IllegalStateException")
    again = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": other_error}})
    assert again.status_code == 202  # a different error: not grouped
    assert await run_once(platform, "test-worker")
    report = (await client.get(again.headers["location"])).json()
    assert {m["method"] for m in report["report_data"]["code_mapping"]} == {"learned"}


async def test_multi_tenant_workers_refuse_local_checkouts_in_the_report(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    # Registered while single-tenant; the worker now runs multi-tenant.
    multi = replace(
        platform,
        settings=platform.settings.model_copy(
            update={"mode": "multi_tenant", "auth_provider": "dev"}
        ),
    )
    case = next(c for c in cases() if c.name == "py-keyerror")
    repo = build_repository(case, tmp_path)
    await client.post(
        "/api/v1/repositories", json={"provider": "local", "name": "s", "base_url": str(repo)}
    )
    accepted = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": case.log}})
    assert await run_once(multi, "test-worker")
    report = (await client.get(accepted.headers["location"])).json()
    assert report["status"] == "complete"
    limitation = report["report_data"]["limitations"][0]
    assert "read only when the platform runs single-tenant" in limitation
    assert report["report_data"]["relevant_code_files"] == []


async def test_a_repository_deleted_after_the_log_was_accepted_is_named_as_deleted(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    case = next(c for c in cases() if c.name == "py-keyerror")
    repo = build_repository(case, tmp_path)
    registered = await client.post(
        "/api/v1/repositories", json={"provider": "local", "name": "s", "base_url": str(repo)}
    )
    assert registered.status_code == 201, registered.text
    repo_id = registered.json()["id"]
    accepted = await client.post(
        "/api/v1/logs/diagnose", json={"log_data": {"content": case.log}, "repository_id": repo_id}
    )
    assert accepted.status_code == 202, accepted.text
    # Deleted while the log waits for a worker.
    assert (await client.delete(f"/api/v1/repositories/{repo_id}")).status_code == 204
    assert await run_once(platform, "test-worker")
    report = (await client.get(accepted.headers["location"])).json()
    assert report["status"] == "complete", report["error"]
    assert report["repo_id"] is None  # the repository is gone
    limitations = report["report_data"]["limitations"]
    assert any("has been deleted" in text for text in limitations), limitations
    assert not any("No repository is connected" in text for text in limitations), limitations

    # A log accepted with no repository at all still says that none is connected.
    alone = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": case.log}})
    assert alone.status_code == 202, alone.text  # another grouping key: no repository
    assert await run_once(platform, "test-worker")
    other = (await client.get(alone.headers["location"])).json()
    assert any("No repository is connected" in t for t in other["report_data"]["limitations"])
