from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text

from app.db.models import Report, ReportStatus
from app.db.session import tenant_session
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration


async def _seed(db: TenantDb, org_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    ids = []
    async with tenant_session(db.sessions, org_id) as session:
        for i in range(n):
            report = Report(
                id=uuid.uuid4(),
                org_id=org_id,
                log_data={"content": f"error {i}"},
                status=ReportStatus.COMPLETE if i % 2 else ReportStatus.PENDING,
                report_data={"title": f"Error {i}", "error_type": "ValueError"} if i % 2 else None,
            )
            session.add(report)
            await session.flush()
            # Distinct creation times, oldest first.
            await session.execute(
                text(
                    "UPDATE reports SET created_at = now() - make_interval(mins => :m)"
                    " WHERE id = :id"
                ),
                {"m": n - i, "id": report.id},
            )
            ids.append(report.id)
        await session.commit()
    return ids


async def test_lists_newest_first_with_cursor_pages(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    ids = await _seed(tenant_db, tenant_db.org_a, 5)
    await _seed(tenant_db, tenant_db.org_b, 3)  # another tenant's: never listed

    first = (await client.get("/api/v1/reports", params={"limit": 2})).json()
    second = (
        await client.get("/api/v1/reports", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    third = (
        await client.get("/api/v1/reports", params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()

    listed = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert listed == [str(i) for i in reversed(ids)]
    assert third["next_cursor"] is None
    assert [item["title"] for item in first["items"]] == [None, "Error 3"]


async def test_filters_by_status(client: httpx.AsyncClient, tenant_db: TenantDb) -> None:
    ids = await _seed(tenant_db, tenant_db.org_a, 4)
    body = (await client.get("/api/v1/reports", params={"status": "complete"})).json()
    assert [item["id"] for item in body["items"]] == [str(ids[3]), str(ids[1])]
    bad = await client.get("/api/v1/reports", params={"status": "done"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.status"


async def test_bad_paging_parameters(client: httpx.AsyncClient) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "not-a-cursor"}):
        response = await client.get("/api/v1/reports", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_one_report_and_tenant_isolation(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    [mine] = await _seed(tenant_db, tenant_db.org_a, 1)
    [theirs] = await _seed(tenant_db, tenant_db.org_b, 1)

    response = await client.get(f"/api/v1/reports/{mine}")
    assert response.status_code == 200
    assert response.json()["log_data"] == {"content": "error 0"}

    hidden = await client.get(f"/api/v1/reports/{theirs}")
    assert hidden.status_code == 404, "another organisation's report must look absent"
    assert (await client.get("/api/v1/reports/123")).status_code == 422


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["revision"] == body["head"]
