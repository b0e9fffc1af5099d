"""What the web app does with reports: search and filters, delete, re-run, Markdown."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.bootstrap import Platform
from app.db.models import Job, Report, ReportOccurrence, ReportStatus
from app.db.session import tenant_session
from tests.conftest import TenantDb
from worker.main import run_once

pytestmark = pytest.mark.integration


def _data(title: str, *, category: str, message: str, culprit: str | None) -> dict[str, Any]:
    return {
        "title": title,
        "category": category,
        "confidence_score": 0.5,
        "log": {"error_message": message},
        "culprit": {"file": culprit, "line": 12} if culprit else None,
    }


async def _add(
    db: TenantDb, org_id: uuid.UUID, data: dict[str, Any] | None, **kw: Any
) -> uuid.UUID:
    async with tenant_session(db.sessions, org_id) as session:
        report = Report(
            id=uuid.uuid4(),
            org_id=org_id,
            log_data={"content": "x"},
            status=ReportStatus.COMPLETE if data else ReportStatus.PENDING,
            report_data=data,
            **kw,
        )
        session.add(report)
        await session.commit()
        return report.id


async def _ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/v1/reports", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_full_text_search_finds_title_message_and_culprit(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    shader = await _add(
        tenant_db, tenant_db.org_a,
        _data("Heap corruption in render", category="memory",
              message="malloc(): corrupted top size", culprit="src/shader.c"),
    )  # fmt: skip
    payment = await _add(
        tenant_db, tenant_db.org_a,
        _data("Payment declined", category="external_service",
              message="card gateway timed out", culprit="shop/payments.py"),
    )  # fmt: skip
    await _add(
        tenant_db, tenant_db.org_b,
        _data("Heap corruption elsewhere", category="memory", message="malloc", culprit=None),
    )  # fmt: skip

    assert await _ids(client, q="malloc") == [str(shader)]
    assert await _ids(client, q="shader") == [str(shader)]
    assert await _ids(client, q="src/shader.c") == [str(shader)]
    assert await _ids(client, q="gateway timed") == [str(payment)]
    assert await _ids(client, q="payment -declined") == []
    assert set(await _ids(client, q="malloc or payments")) == {str(shader), str(payment)}
    assert await _ids(client, category="external_service") == [str(payment)]


async def test_search_can_use_the_full_text_index(tenant_db: TenantDb) -> None:
    # As the owner (no row-level security, whose org filter would win on an empty table), with
    # sequential scans off: the plan shows whether the search expression meets the index.
    conn = tenant_db.conn
    await conn.execute(text("RESET ROLE"))
    await conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        (
            await conn.execute(
                text(
                    "EXPLAIN SELECT id FROM reports WHERE search_vector @@ "
                    "websearch_to_tsquery('simple', 'malloc')"
                )
            )
        ).scalars()
    )
    await conn.execute(text("SET LOCAL ROLE logdawg_app"))
    assert "ix_reports_search" in plan, plan


async def test_filters_by_status_repository_and_date(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    registered = await client.post(
        "/api/v1/repositories", json={"provider": "github", "owner": "acme", "name": "shop"}
    )
    repo_id = registered.json()["id"]
    done = await _add(
        tenant_db, tenant_db.org_a,
        _data("A", category="memory", message="m", culprit=None), repo_id=uuid.UUID(repo_id),
    )  # fmt: skip
    pending = await _add(tenant_db, tenant_db.org_a, None)
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await session.execute(
            text("UPDATE reports SET created_at = '2026-01-01T00:00:00Z' WHERE id = :id"),
            {"id": pending},
        )
        await session.commit()

    assert await _ids(client, status="pending") == [str(pending)]
    assert await _ids(client, repository_id=repo_id) == [str(done)]
    assert await _ids(client, since="2026-06-01T00:00:00Z") == [str(done)]
    assert await _ids(client, until="2026-06-01T00:00:00Z") == [str(pending)]
    naive = await client.get("/api/v1/reports", params={"since": "2026-06-01T00:00:00"})
    assert naive.status_code == 422
    assert "timezone" in naive.json()["detail"]
    # A bare number is not read as a Unix timestamp: the schema says date-time.
    number = await client.get("/api/v1/reports", params={"until": "0.5"})
    assert number.status_code == 422 and "ISO 8601" in number.json()["detail"]
    listed = (await client.get("/api/v1/reports", params={"status": "complete"})).json()
    assert listed["items"][0]["category"] == "memory"


async def test_delete_removes_the_report_its_occurrences_and_job(
    client: httpx.AsyncClient, tenant_db: TenantDb, sample_request: bytes
) -> None:
    accepted = await client.post(
        "/api/v1/logs/diagnose", content=sample_request,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    report_id = accepted.json()["diagnosis_id"]
    again = await client.post(
        "/api/v1/logs/diagnose", content=sample_request,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert again.json()["repeat"] is True

    assert (await client.delete(f"/api/v1/reports/{report_id}")).status_code == 204
    assert (await client.get(f"/api/v1/reports/{report_id}")).status_code == 404
    assert (await client.delete(f"/api/v1/reports/{report_id}")).status_code == 404
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        for table in (ReportOccurrence, Job):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


async def test_another_organisations_report_cannot_be_deleted(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    theirs = await _add(tenant_db, tenant_db.org_b, None)
    assert (await client.delete(f"/api/v1/reports/{theirs}")).status_code == 404
    assert (await client.post(f"/api/v1/reports/{theirs}/rerun")).status_code == 404
    assert (await client.get(f"/api/v1/reports/{theirs}/markdown")).status_code == 404


async def test_rerun_diagnoses_again_and_markdown_downloads(
    client: httpx.AsyncClient, platform: Platform, sample_request: bytes
) -> None:
    accepted = await client.post(
        "/api/v1/logs/diagnose", content=sample_request,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    report_id = accepted.json()["diagnosis_id"]
    early = await client.get(f"/api/v1/reports/{report_id}/markdown")
    assert early.status_code == 409
    assert "no diagnosis yet" in early.json()["detail"]
    assert await run_once(platform, "w1")
    first = (await client.get(f"/api/v1/reports/{report_id}")).json()
    assert first["status"] == "complete"

    rerun = await client.post(f"/api/v1/reports/{report_id}/rerun")
    assert rerun.status_code == 202, rerun.text
    assert rerun.json()["status"] == "pending"
    assert rerun.json()["report_data"] == first["report_data"]  # kept until replaced
    assert await run_once(platform, "w1")
    second = (await client.get(f"/api/v1/reports/{report_id}")).json()
    assert second["status"] == "complete"
    assert second["completed_at"] > first["completed_at"]

    markdown = await client.get(f"/api/v1/reports/{report_id}/markdown")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert f"logdawg-{report_id}.md" in markdown.headers["content-disposition"]
    assert markdown.text.startswith(f"# {second['report_data']['title']}")


async def test_a_pending_report_is_not_queued_twice(
    client: httpx.AsyncClient, tenant_db: TenantDb, sample_request: bytes
) -> None:
    accepted = await client.post(
        "/api/v1/logs/diagnose", content=sample_request,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    report_id = accepted.json()["diagnosis_id"]
    assert (await client.post(f"/api/v1/reports/{report_id}/rerun")).status_code == 202
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1
        await session.execute(text("UPDATE reports SET status = 'running'"))
        await session.commit()
    busy = await client.post(f"/api/v1/reports/{report_id}/rerun")
    assert busy.status_code == 409
    assert "being diagnosed" in busy.json()["detail"]
