"""No 500 on any input: each bad body or fault answers a problem with the reason, and nothing
accepted is lost or changed."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from app.bootstrap import Platform
from app.db.models import Job, Report
from app.db.session import create_engine, session_factory, tenant_session
from app.main import create_app
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration

URL = "/api/v1/logs/diagnose"
JSON = {"content-type": "application/json"}


async def _stored(db: TenantDb) -> list[Report]:
    async with tenant_session(db.sessions, db.org_a) as session:
        return list((await session.scalars(select(Report).order_by(Report.created_at))).all())


async def _counts(db: TenantDb) -> tuple[int, int]:
    async with tenant_session(db.sessions, db.org_a) as session:
        reports = (await session.execute(select(func.count()).select_from(Report))).scalar_one()
        jobs = (await session.execute(select(func.count()).select_from(Job))).scalar_one()
    return reports, jobs


def _deep(depth: int) -> bytes:
    return (
        b'{"log_data": {"content": "x", "metadata": {"a": ' + b"[" * depth + b"]" * depth + b"}}}"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"log_data": {"content": "before\\u0000after"}}', "NUL"),
        (b'{"log_data": {"content": "x", "metadata": {"k\\u0000": 1}}}', "NUL"),
        (b'{"log_data": {"content": "lone \\ud800 surrogate"}}', "surrogate"),
        (b'{"log_data": {"content": "x", "source": "\\udfff"}}', "surrogate"),
        (b'{"log_data": {"content": "caf\xe9"}}', "UTF-8"),
        (b"\xff\xfe{}", "UTF-8"),
        (_deep(100), "nested"),
        (_deep(30_000), "nested"),
        (b'{"log_data": {"content": "x", "metadata": {"n": 1e999}}}', "too large"),
        (b'{"log_data": {"content": "x", "metadata": {"n": NaN}}}', "NaN"),
        (b'{"log_data": {"content": "x", "metadata": {"n": -Infinity}}}', "Infinity"),
        (b'{"log_data": {"content": "x", "metadata": {"n": ' + b"9" * 5000 + b"}}}", "digits"),
        (b'{"log_data": {"content": "x"', "malformed JSON"),
        (b'{"log_data": {"content": "x", "timestamp": 1e999}}', "too large"),
    ],
)
async def test_unstorable_json_is_a_422_with_the_reason_and_writes_nothing(
    client: httpx.AsyncClient, tenant_db: TenantDb, body: bytes, reason: str
) -> None:
    response = await client.post(URL, content=body, headers=JSON)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert reason in problem["detail"], problem
    assert problem["errors"][0]["field"] == "body"
    assert await _counts(tenant_db) == (0, 0)


async def test_a_nul_in_a_repository_name_is_a_422_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/repositories",
        content=b'{"provider": "local", "name": "a\\u0000b", "base_url": "/tmp/x"}',
        headers=JSON,
    )
    assert response.status_code == 422


async def test_escaped_text_that_merely_looks_like_nul_is_kept_as_sent(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    content = "literal \\u0000 and \U0001f600 and \ufffd stay"
    response = await client.post(URL, json={"log_data": {"content": content}})
    assert response.status_code == 202
    (report,) = await _stored(tenant_db)
    assert report.log_data["content"] == content


@pytest.mark.parametrize(
    ("log_data", "extra"),
    [
        ({"content": "ERROR a", "timestamp": 1719710667}, {}),
        ({"content": "ERROR b", "timestamp": 1719710667.25}, {}),
        ({"content": "ERROR c", "timestamp": "2025-06-30T01:24:27Z"}, {}),
        ({"content": "ERROR d", "timestamp": "30/06/2025 01:24"}, {}),
        ({"content": "ERROR e", "metadata": None}, {}),
        ({"content": "ERROR f"}, {"force_git_pull": None}),
        ({"content": "ERROR g"}, {"include_git_context": None}),
        ({"content": "ERROR h", "timestamp": None, "source": None}, {}),
        ({"content": "ERROR i", "severity": "high"}, {"callback_url": "http://x", "v": 2}),
    ],
    ids=[
        "int-timestamp",
        "float-timestamp",
        "iso-timestamp",
        "free-text-timestamp",
        "null-metadata",
        "null-force-git-pull",
        "null-include-git-context",
        "null-timestamp-and-source",
        "unknown-fields",
    ],
)
async def test_bodies_the_original_log_dawg_accepted_are_accepted(
    client: httpx.AsyncClient,
    tenant_db: TenantDb,
    log_data: dict[str, object],
    extra: dict[str, object],
) -> None:
    response = await client.post(URL, json={"log_data": log_data, **extra})

    assert response.status_code == 202, response.text
    (report,) = await _stored(tenant_db)
    assert report.log_data["content"] == log_data["content"]
    if log_data.get("timestamp") is not None:
        assert report.log_data["timestamp"] == log_data["timestamp"], "stored as sent"
    assert report.log_data["metadata"] == {}
    assert "severity" not in report.log_data and "callback_url" not in report.log_data


async def test_the_status_carries_the_result_once_complete(
    client: httpx.AsyncClient, platform: Platform, sample_request: bytes
) -> None:
    from worker.main import run_once

    accepted = await client.post(URL, content=sample_request, headers=JSON)
    status_url = accepted.json()["status_url"]
    pending = (await client.get(status_url)).json()
    assert pending["status"] == "pending" and pending["diagnosis_result"] is None

    assert await run_once(platform, "test-worker")
    done = (await client.get(status_url)).json()
    assert done["status"] == "complete"
    result = done["diagnosis_result"]
    assert result["error_type"] == "ShaderCompilationError"
    assert {"title", "summary", "root_cause", "recommendations"} <= result.keys()


@pytest.fixture
def database_down(platform: Platform) -> Platform:
    """The platform, its database unreachable (nothing listens on the port)."""
    engine = create_engine("postgresql+psycopg://logdawg_app@127.0.0.1:9/none?connect_timeout=2")
    return dataclasses.replace(platform, engine=engine, sessions=session_factory(engine))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", URL, {"log_data": {"content": "ERROR boom"}}),
        ("GET", "/api/v1/reports", None),
        ("GET", f"/api/v1/reports/{uuid.uuid4()}", None),
        ("GET", f"{URL}/status/{uuid.uuid4()}", None),
        ("GET", "/api/v1/repositories", None),
    ],
)
async def test_a_database_that_is_down_answers_503_with_retry_after(
    database_down: Platform, method: str, path: str, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(
        app=create_app(platform=database_down), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        with caplog.at_level(logging.INFO):
            response = await client.request(method, path, json=body)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert response.headers["content-type"] == "application/problem+json"
    assert "try again" in response.json()["detail"]
    assert "ERROR boom" not in caplog.text, "no submitted log content in the server log"


async def test_a_token_replaced_while_the_repository_is_deleted_is_404(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    created = await client.post(
        "/api/v1/repositories",
        json={"provider": "github", "owner": "acme", "name": "shop", "token": "t0ken-one"},
    )
    repo_id = created.json()["id"]
    raced = False

    def delete_concurrently(session: Session, *args: object) -> None:
        nonlocal raced
        if not raced:  # another request deletes the repository between read and write
            raced = True
            session.connection().execute(
                text("DELETE FROM repositories WHERE id = :id"), {"id": repo_id}
            )

    event.listen(Session, "before_flush", delete_concurrently)
    try:
        response = await client.put(
            f"/api/v1/repositories/{repo_id}/token", json={"token": "t0ken-two"}
        )
    finally:
        event.remove(Session, "before_flush", delete_concurrently)
    assert raced
    assert response.status_code in (404, 409), response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_sql_parameters_never_reach_the_log(
    platform: Platform, tenant_db: TenantDb, caplog: pytest.LogCaptureFixture
) -> None:
    # Break the database under the request, as test_logs does: an unexpected error is logged.
    await tenant_db.conn.execute(text("RESET ROLE"))
    await tenant_db.conn.execute(text("REVOKE INSERT ON jobs FROM logdawg_app"))
    await tenant_db.conn.execute(text("SET LOCAL ROLE logdawg_app"))
    secret = "customer-secret-log-line-" + uuid.uuid4().hex
    transport = httpx.ASGITransport(app=create_app(platform=platform), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        with caplog.at_level(logging.DEBUG):
            response = await client.post(URL, json={"log_data": {"content": secret}})
    assert response.status_code == 500
    assert "permission denied" in caplog.text, "the error itself is logged"
    assert secret not in caplog.text
    assert json.dumps(secret) not in caplog.text
