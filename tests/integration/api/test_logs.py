from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text

from app.bootstrap import Platform
from app.db.models import Job, Report
from app.db.session import tenant_session
from app.main import create_app
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration

URL = "/api/v1/logs/diagnose"


async def _counts(db: TenantDb, org_id: uuid.UUID) -> tuple[int, int]:
    async with tenant_session(db.sessions, org_id) as session:
        reports = (await session.execute(select(func.count()).select_from(Report))).scalar_one()
        jobs = (await session.execute(select(func.count()).select_from(Job))).scalar_one()
    return reports, jobs


async def test_accepts_the_original_log_dawg_request(
    client: httpx.AsyncClient, sample_request: bytes, tenant_db: TenantDb
) -> None:
    response = await client.post(
        URL, content=sample_request, headers={"content-type": "application/json"}
    )

    assert response.status_code == 202, response.text
    body = response.json()
    diagnosis_id = uuid.UUID(body["diagnosis_id"])
    assert body["status"] == "pending"
    assert response.headers["location"] == f"/api/v1/reports/{diagnosis_id}"
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        report = await session.get(Report, diagnosis_id)
        job = (await session.scalars(select(Job).where(Job.report_id == diagnosis_id))).one()
    assert report is not None and report.org_id == tenant_db.org_a
    assert report.source == "cloudwatch"
    assert report.log_data["content"]["stack_trace"].startswith("at compile_shader_from_file")
    assert job.status.value == "queued"

    status = await client.get(f"{URL}/status/{diagnosis_id}")
    assert status.status_code == 200
    assert status.json()["status"] == "pending"


async def test_text_content_and_compat_flags(client: httpx.AsyncClient) -> None:
    response = await client.post(
        URL,
        json={
            "log_data": {"content": "ERROR boom\nTraceback ...", "source": "curl"},
            "force_git_pull": True,
            "include_git_context": False,
        },
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "log_data"),
        ({"log_data": {}}, "log_data.content"),
        ({"log_data": {"content": ""}}, "log_data.content"),
        ({"log_data": {"content": "   \n"}}, "log_data.content"),
        ({"log_data": {"content": {}}}, "log_data.content"),
        ({"log_data": {"content": 42}}, "log_data.content"),
        ({"log_data": {"content": "x", "timestamp": {"at": 1}}}, "log_data.timestamp"),
        ({"log_data": {"content": "x", "timestamp": True}}, "log_data.timestamp"),
        ({"log_data": {"content": "x", "metadata": []}}, "log_data.metadata"),
        ({"log_data": {"content": "x"}, "force_git_pull": "please"}, "force_git_pull"),
    ],
)
async def test_invalid_bodies_are_422_problems_and_write_nothing(
    client: httpx.AsyncClient, tenant_db: TenantDb, body: dict[str, object], field: str
) -> None:
    response = await client.post(URL, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["title"].startswith("Unprocessable")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert field in problem["detail"]
    # The validators' own sentences, as a person reads them (no "Value error, " prefix).
    assert "error," not in problem["detail"], problem["detail"]
    if body == {"log_data": {"content": ""}}:
        assert problem["errors"] == [{"field": "log_data.content", "message": "the log is empty"}]
    assert await _counts(tenant_db, tenant_db.org_a) == (0, 0)


async def test_malformed_json_is_a_clear_422(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    response = await client.post(
        URL, content=b'{"log_data": {"content": "x"', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]
    assert await _counts(tenant_db, tenant_db.org_a) == (0, 0)


async def test_body_over_the_limit_is_413(
    client: httpx.AsyncClient, tenant_db: TenantDb, platform: Platform
) -> None:
    limit = platform.settings.max_body_bytes
    big = json.dumps({"log_data": {"content": "E" * limit}}).encode()

    declared = await client.post(URL, content=big, headers={"content-type": "application/json"})

    async def chunks():  # no Content-Length: the limit holds on the bytes read
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    streamed = await client.post(
        URL, content=chunks(), headers={"content-type": "application/json"}
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert str(limit) in response.json()["detail"]
    assert await _counts(tenant_db, tenant_db.org_a) == (0, 0)


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{URL}/status/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = await client.get(f"{URL}/status/not-a-uuid")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.diagnosis_id"


async def test_unexpected_errors_are_500_problems_without_a_trace(
    platform: Platform, tenant_db: TenantDb
) -> None:
    # Break the database under the request: the jobs table is not writable for this role now.
    await tenant_db.conn.execute(text("RESET ROLE"))
    await tenant_db.conn.execute(text("REVOKE INSERT ON jobs FROM logdawg_app"))
    await tenant_db.conn.execute(text("SET LOCAL ROLE logdawg_app"))
    # As behind uvicorn: the error is logged and re-raised after the response is sent.
    transport = httpx.ASGITransport(app=create_app(platform=platform), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.post(URL, json={"log_data": {"content": "boom"}})
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "An internal error occurred; it has been logged."
    assert "Traceback" not in response.text and "permission denied" not in response.text
