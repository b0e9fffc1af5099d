"""Webhook bodies: an Azure Monitor alert's jobs go to the broker in one batch, and a JSON
body is parsed once (the JSON guard's parse is the route's)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from app.api import limits
from app.api.routes import ingest
from app.bootstrap import Platform
from app.main import create_app
from app.queue.servicebus import ServiceBusJobQueue
from tests.fakes.service_bus import FakeServiceBus

pytestmark = pytest.mark.integration

WEBHOOKS = Path(__file__).parents[2] / "data" / "webhooks"


async def test_an_alerts_jobs_are_sent_to_the_broker_in_one_batch(platform: Platform) -> None:
    bus = FakeServiceBus()
    queue = ServiceBusJobQueue(
        platform.sessions, bus, queue_name=bus.queue, visibility_timeout_s=60, max_attempts=3
    )
    app = create_app(platform=replace(platform, queue=queue))
    alert = (WEBHOOKS / "azure-monitor-log-alert-appinsights.json").read_bytes()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        response = await client.post(
            "/api/v1/ingest/azure-monitor",
            content=alert,
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 202, response.text
    diagnoses = response.json()["diagnoses"]
    assert len(diagnoses) == 2  # two distinct exceptions
    assert bus.sends == 1  # one batch, not one send per exception
    sent = {json.loads(m.data)["report_id"] for m in bus.messages}
    assert sent == {d["diagnosis_id"] for d in diagnoses}


async def test_a_json_webhook_body_is_parsed_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses = 0
    real = limits.strict_loads

    def counting(body: bytes) -> object:
        nonlocal parses
        parses += 1
        return real(body)

    monkeypatch.setattr(limits, "strict_loads", counting)
    # The route's own fallback parser: fails loudly if it runs.
    monkeypatch.setattr(
        ingest, "json", SimpleNamespace(loads=lambda *_: pytest.fail("parsed a second time"))
    )
    body = {"message": "KeyError: 'SKU-1'", "level": "error"}
    response = await client.post("/api/v1/ingest/generic", json=body)
    assert response.status_code == 202, response.text
    assert parses == 1
