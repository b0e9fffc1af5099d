"""Notification rules over the API: secrets are write-only, bad rules are 422, admins manage
and members read, and the delivery log is readable."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from app.bootstrap import Platform
from tests.conftest import TenantDb
from tests.fakes.receivers import serve_receiver
from tests.integration.conftest import Tenancy

pytestmark = pytest.mark.integration

SLACK_TOKEN = "B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"


async def test_the_webhook_url_is_sealed_and_never_returned(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    secret = f"http://127.0.0.1:9/services/T0000000/{SLACK_TOKEN}"
    created = await client.post(
        "/api/v1/notification-rules",
        json={"name": "on-call", "trigger": "new", "channel": "slack", "secret": secret},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["secret_hint"] == "127.0.0.1 …XXXX"
    listed = await client.get("/api/v1/notification-rules")
    one = await client.get(f"/api/v1/notification-rules/{rule['id']}")
    for answer in (created, listed, one):
        assert SLACK_TOKEN not in answer.text
    stored = (
        await tenant_db.conn.execute(
            text("SELECT secret_ciphertext FROM notification_rules WHERE id = :id"),
            {"id": rule["id"]},
        )
    ).scalar_one()
    assert SLACK_TOKEN.encode() not in stored
    deleted = await client.delete(f"/api/v1/notification-rules/{rule['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/notification-rules/{rule['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "slack", "trigger": "new"}, "slack.secret"),
        ({"channel": "teams", "trigger": "new", "secret": "ftp://x"}, "teams.secret"),
        ({"channel": "webhook", "trigger": "new", "secret": "short",
          "config": {"url": "https://example.com/hook"}}, "webhook.secret"),
        ({"channel": "email", "trigger": "new", "config": {"host": "smtp.example.com",
          "from_address": "a@example.com"}}, "email.config.to"),
        ({"channel": "email", "trigger": "new", "config": {"host": "", "to": ["b@example.com"],
          "from_address": "a@example.com"}}, "email.config.host"),
        ({"channel": "pager", "trigger": "new"}, "body"),
    ],
)  # fmt: skip
async def test_a_rule_that_cannot_work_is_422(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    answer = await client.post("/api/v1/notification-rules", json={"name": "r", **body})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert any(
        e["field"].endswith(field) or e["field"] == field for e in answer.json()["errors"]
    ), answer.json()


async def test_a_threshold_rule_without_numbers_gets_the_defaults(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/api/v1/notification-rules",
        json={"name": "r", "trigger": "threshold", "channel": "slack",
              "secret": "https://hooks.slack.example/services/x"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert (answer.json()["threshold_count"], answer.json()["threshold_minutes"]) == (10, 5)


async def test_admins_manage_members_read(tenancy: Tenancy) -> None:
    t = tenancy
    org = (
        await t.client.post("/api/v1/orgs", json={"name": "acme"}, headers=t.person("o@a.example"))
    ).json()["id"]
    owner = t.person("o@a.example", org)
    invited = await t.client.post(
        "/api/v1/invitations", json={"email": "m@a.example", "role": "member"}, headers=owner
    )
    await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=t.person("m@a.example"),
    )
    member = t.person("m@a.example", org)
    body = {"name": "r", "trigger": "new", "channel": "slack", "secret": "https://127.0.0.1/x"}
    refused = await t.client.post("/api/v1/notification-rules", json=body, headers=member)
    assert refused.status_code == 403
    # Multi-tenant: a tenant may not point the platform at an internal address.
    internal = await t.client.post("/api/v1/notification-rules", json=body, headers=owner)
    assert internal.status_code == 422
    assert "internal address" in internal.json()["detail"]
    assert (await t.client.get("/api/v1/notification-rules", headers=member)).status_code == 200


async def test_the_delivery_log_is_readable(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb
) -> None:
    from app.notifications.delivery import Notifier
    from app.notifications.sink import NotificationSink
    from tests.integration.notifications.conftest import World

    settings = platform.settings.model_copy(update={"notify_retry_delay_s": 0.0})
    notifier = Notifier(platform.sessions, platform.queue, platform.kek, settings)
    world = World(
        tenant_db, platform.queue, settings, platform.kek,  # type: ignore[arg-type]
        NotificationSink(platform.queue, settings), notifier,
    )  # fmt: skip
    try:
        with serve_receiver("slack") as slack:
            rule = (
                await client.post(
                    "/api/v1/notification-rules",
                    json={"name": "r", "trigger": "new", "channel": "slack", "secret": slack.url},
                )
            ).json()
            slack.fail_next = [(503, {})]
            await world.publish(await world.report())
            assert await world.run_due() == ["retrying"]
            log = (await client.get(f"/api/v1/notification-rules/{rule['id']}/deliveries")).json()
            assert [(d["status"], d["response_code"], d["attempts"]) for d in log] == [
                ("retrying", 503, 1)
            ]
            assert log[0]["next_retry_at"] is not None and "503" in log[0]["error"]
            assert log[0]["title"] == "ZeroDivisionError in checkout total"
            assert await world.run_due() == ["delivered"]
            log = (await client.get(f"/api/v1/notification-rules/{rule['id']}/deliveries")).json()
            assert [(d["status"], d["response_code"], d["attempts"]) for d in log] == [
                ("delivered", 200, 2)
            ]
    finally:
        await notifier.aclose()
