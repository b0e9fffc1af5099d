"""Request ids from the request to the worker's log lines, security headers, /docs."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from app.bootstrap import Platform
from app.db.models import Job
from app.db.session import tenant_session
from app.main import create_app
from app.observability import JsonFormatter
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration


async def test_every_answer_carries_a_request_id_and_security_headers(
    client: httpx.AsyncClient,
) -> None:
    for response in (
        await client.get("/healthz"),
        await client.get("/api/v1/reports"),
        await client.post("/api/v1/logs/diagnose", content=b"{", headers={"X-Request-ID": "x y"}),
    ):
        assert len(response.headers["x-request-id"]) == 32, "a fresh id for a missing/odd one"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers, "not over plain HTTP"


async def test_hsts_over_https(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="https://api") as client:
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_have_a_strict_csp_and_can_be_turned_off(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        policy = docs.headers["content-security-policy"]
        script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "'sha256-" in script_src and "unsafe-inline" not in script_src
        assert (await client.get("/openapi.json")).status_code == 200

    off = replace(platform, settings=platform.settings.model_copy(update={"docs_enabled": False}))
    transport = httpx.ASGITransport(app=create_app(platform=off))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404, path


async def test_the_request_id_follows_the_log_into_the_job_and_the_worker(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb
) -> None:
    from worker.main import run_once

    response = await client.post(
        "/api/v1/logs/diagnose",
        json={"log_data": {"content": "ERROR KeyError: 'sku'"}},
        headers={"X-Request-ID": "req-42.abc"},
    )
    assert response.headers["x-request-id"] == "req-42.abc"
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        job = (await session.scalars(select(Job))).one()
    assert job.request_id == "req-42.abc"

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    handler = Capture(level=logging.INFO)
    worker_log = logging.getLogger("worker")
    worker_log.addHandler(handler)
    previous = worker_log.level
    worker_log.setLevel(logging.INFO)
    try:
        assert await run_once(platform, "test-worker")
    finally:
        worker_log.removeHandler(handler)
        worker_log.setLevel(previous)
    entries = [json.loads(line) for line in lines]
    assert entries and all(e["request_id"] == "req-42.abc" for e in entries), entries
    assert "KeyError" not in "".join(lines), "no submitted log content in log lines"
