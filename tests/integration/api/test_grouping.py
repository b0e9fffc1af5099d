"""A repeat of an already diagnosed error counts an occurrence instead of a new diagnosis."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select, text

from app.bootstrap import Platform
from app.db.models import Job, Report
from app.db.session import tenant_session
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration

DIAGNOSE = "/api/v1/logs/diagnose"


def _log(message: str, commit: str | None = None) -> dict[str, object]:
    content: dict[str, object] = {
        "level": "error",
        "message": message,
        "stack": 'Traceback (most recent call last):\n  File "/app/shop/cart.py", line 42, '
        "in total\n    return prices[sku]\nKeyError: 'SKU-1'",
    }
    if commit:
        content["commit"] = commit
    return {"log_data": {"content": content, "source": "test"}}


async def _counts(tenant_db: TenantDb) -> tuple[int, int]:
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        jobs = await session.scalar(select(func.count()).select_from(Job))
    return int(reports or 0), int(jobs or 0)


async def test_a_repeat_counts_an_occurrence_on_the_first_report(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    first = await client.post(DIAGNOSE, json=_log("checkout failed for order 1041"))
    assert first.status_code == 202
    # Another order, another time: the same error.
    again = await client.post(DIAGNOSE, json=_log("checkout failed for order 2093"))
    assert again.status_code == 200
    body = again.json()
    assert body["diagnosis_id"] == first.json()["diagnosis_id"]
    assert body["repeat"] is True
    assert body["occurrence_count"] == 2
    assert await _counts(tenant_db) == (1, 1)
    detail = (await client.get(f"/api/v1/reports/{body['diagnosis_id']}")).json()
    assert detail["occurrence_count"] == 2
    assert detail["last_seen_at"] >= detail["created_at"]
    # The repeat's log is kept, not dropped.
    listed = (await client.get(f"/api/v1/reports/{body['diagnosis_id']}/occurrences")).json()
    assert [o["log_data"]["content"]["message"] for o in listed] == [
        "checkout failed for order 2093"
    ]
    missing = await client.get(f"/api/v1/reports/{uuid.uuid4()}/occurrences")
    assert missing.status_code == 404


async def test_a_different_error_or_commit_is_diagnosed_afresh(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    a = await client.post(DIAGNOSE, json=_log("x", commit="a1b2c3d"))
    b = await client.post(DIAGNOSE, json=_log("x", commit="0f9e8d7"))  # a new deployment
    plain = _log("x")
    plain["log_data"]["content"]["stack"] = "ValueError: bad quantity"  # type: ignore[index]
    c = await client.post(DIAGNOSE, json=plain)
    assert [r.status_code for r in (a, b, c)] == [202, 202, 202]
    assert len({r.json()["diagnosis_id"] for r in (a, b, c)}) == 3
    same_commit = await client.post(DIAGNOSE, json=_log("y", commit="a1b2c3d"))
    assert same_commit.json()["diagnosis_id"] == a.json()["diagnosis_id"]


async def test_failed_or_old_reports_are_not_reused(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    first = (await client.post(DIAGNOSE, json=_log("x"))).json()["diagnosis_id"]
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await session.execute(
            text("UPDATE reports SET created_at = now() - interval '2 days' WHERE id = :id"),
            {"id": uuid.UUID(first)},
        )
        await session.commit()
    later = await client.post(DIAGNOSE, json=_log("x"))
    assert later.status_code == 202
    assert later.json()["diagnosis_id"] != first


async def test_grouping_can_be_turned_off(platform: Platform, tenant_db: TenantDb) -> None:
    from app.main import create_app

    off = replace(platform, settings=platform.settings.model_copy(update={"grouping_window_s": 0}))
    transport = httpx.ASGITransport(app=create_app(platform=off))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        ids = {(await c.post(DIAGNOSE, json=_log("x"))).json()["diagnosis_id"] for _ in range(2)}
    assert len(ids) == 2


async def test_an_unknown_repository_is_a_404_and_writes_nothing(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    body = {**_log("x"), "repository_id": str(uuid.uuid4())}
    answer = await client.post(DIAGNOSE, json=body)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "No repository" in json.dumps(answer.json())
    assert await _counts(tenant_db) == (0, 0)
