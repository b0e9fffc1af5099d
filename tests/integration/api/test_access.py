"""Sign-in, organisations, roles, invitations, API keys and webhooks, in multi-tenant mode
(people signed in by the local development issuer) and in single-tenant mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.auth.api_keys import well_formed
from app.db.models import Role
from tests.conftest import TenantDb
from tests.integration.conftest import Tenancy, multi_tenant_platform

pytestmark = pytest.mark.integration


@asynccontextmanager
async def as_owner(db: TenantDb) -> AsyncIterator[None]:
    """Look at the test's transaction as the owner role (outside row-level security's
    tenant filter), then go back to the application role."""
    await db.conn.execute(text("RESET ROLE"))
    try:
        yield
    finally:
        await db.conn.execute(text("SET LOCAL ROLE logdawg_app"))


WEBHOOKS = Path(__file__).parents[2] / "data" / "webhooks"
SAMPLE = {
    "log_data": {
        "content": "Traceback (most recent call last):\n"
        '  File "/app/shop/cart.py", line 42, in total\n'
        "KeyError: 'SKU-1'"
    }
}


async def make_org(t: Tenancy, email: str, name: str) -> str:
    response = await t.client.post("/api/v1/orgs", json={"name": name}, headers=t.person(email))
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "owner"
    return str(response.json()["id"])


async def make_key(t: Tenancy, email: str, org: str, scopes: list[str], **extra: object) -> str:
    response = await t.client.post(
        "/api/v1/api-keys",
        json={"name": "ci", "scopes": scopes, **extra},
        headers=t.person(email, org),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def test_no_credentials_is_401_before_the_body_is_judged(tenancy: Tenancy) -> None:
    response = await tenancy.client.post(
        "/api/v1/logs/diagnose", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Sign in" in response.json()["detail"]
    for path in ("/api/v1/reports", "/api/v1/repositories", "/api/v1/me"):
        assert (await tenancy.client.get(path)).status_code == 401


async def test_a_bad_token_is_401_with_the_reason(tenancy: Tenancy) -> None:
    for header in ("Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await tenancy.client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["detail"]


async def test_first_sign_in_creates_the_person_once(tenancy: Tenancy, tenant_db: TenantDb) -> None:
    for _ in range(2):
        me = await tenancy.client.get("/api/v1/me", headers=tenancy.person("ada@contoso.example"))
        assert me.status_code == 200
    body = me.json()
    assert body["user"]["email"] == "ada@contoso.example"
    assert body["organisations"] == []
    # The application role sees no one without a signed-in person; the owner sees one row.
    query = text("SELECT count(*) FROM users WHERE email = 'ada@contoso.example'")
    assert await tenant_db.conn.scalar(query) == 0
    async with as_owner(tenant_db):
        assert await tenant_db.conn.scalar(query) == 1


async def test_organisations_roles_and_invitations(tenancy: Tenancy) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso Shop")
    mine = (await t.client.get("/api/v1/orgs", headers=t.person("ada@contoso.example"))).json()
    assert [o["name"] for o in mine] == ["Contoso Shop"]
    assert mine[0]["slug"] == "contoso-shop"

    # With one organisation the header is optional; a stranger's view of it is 404.
    assert (await t.client.get("/api/v1/org", headers=t.person("ada@contoso.example"))).json()[
        "id"
    ] == org
    stranger = await t.client.get("/api/v1/org", headers=t.person("eve@evil.example", org))
    assert stranger.status_code == 404
    assert (
        await t.client.get("/api/v1/reports", headers=t.person("eve@evil.example", org))
    ).status_code == 404

    # Invite Bob as a viewer; only Bob's address can accept, once.
    invited = await t.client.post(
        "/api/v1/invitations",
        json={"email": "bob@contoso.example", "role": "viewer"},
        headers=t.person("ada@contoso.example", org),
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["token"]
    assert token in invited.json()["accept_path"]
    listed = await t.client.get("/api/v1/invitations", headers=t.person("ada@contoso.example", org))
    assert token not in listed.text
    wrong = await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": token},
        headers=t.person("eve@evil.example"),
    )
    assert wrong.status_code == 404
    accepted = await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": token},
        headers=t.person("bob@contoso.example"),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"org_id": org, "role": "viewer"}
    again = await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": token},
        headers=t.person("bob@contoso.example"),
    )
    assert again.status_code == 404

    bob = t.person("bob@contoso.example", org)
    assert (await t.client.get("/api/v1/reports", headers=bob)).status_code == 200
    # A viewer reads, never writes.
    assert (
        await t.client.post("/api/v1/logs/diagnose", json=SAMPLE, headers=bob)
    ).status_code == 403
    assert (
        await t.client.post("/api/v1/api-keys", json={"name": "x"}, headers=bob)
    ).status_code == 403
    assert (
        await t.client.patch("/api/v1/org", json={"name": "Mine"}, headers=bob)
    ).status_code == 403

    members = (await t.client.get("/api/v1/members", headers=bob)).json()
    assert {m["email"]: m["role"] for m in members} == {
        "ada@contoso.example": "owner",
        "bob@contoso.example": "viewer",
    }
    bob_id = next(m["user_id"] for m in members if m["role"] == "viewer")
    ada_id = next(m["user_id"] for m in members if m["role"] == "owner")
    ada = t.person("ada@contoso.example", org)
    assert (
        await t.client.patch(f"/api/v1/members/{bob_id}", json={"role": "admin"}, headers=ada)
    ).status_code == 204
    bob_admin = t.person("bob@contoso.example", org)
    # An admin cannot touch the owner role; the last owner cannot step down.
    promote = await t.client.patch(
        f"/api/v1/members/{bob_id}", json={"role": "owner"}, headers=bob_admin
    )
    assert promote.status_code == 403
    demote_last = await t.client.patch(
        f"/api/v1/members/{ada_id}", json={"role": "member"}, headers=ada
    )
    assert demote_last.status_code == 409
    assert (await t.client.delete(f"/api/v1/members/{ada_id}", headers=ada)).status_code == 409
    assert (await t.client.delete(f"/api/v1/members/{bob_id}", headers=ada)).status_code == 204
    assert (await t.client.get("/api/v1/org", headers=bob_admin)).status_code == 404


async def test_an_expired_invitation_cannot_be_accepted(
    tenancy: Tenancy, tenant_db: TenantDb
) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    invited = await t.client.post(
        "/api/v1/invitations",
        json={"email": "bob@contoso.example"},
        headers=t.person("ada@contoso.example", org),
    )
    async with as_owner(tenant_db):
        await tenant_db.conn.execute(
            text("UPDATE invitations SET expires_at = now() - interval '1 s'")
        )
    response = await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=t.person("bob@contoso.example"),
    )
    assert response.status_code == 404


async def test_several_organisations_need_the_header(tenancy: Tenancy) -> None:
    t = tenancy
    first = await make_org(t, "ada@contoso.example", "One")
    second = await make_org(t, "ada@contoso.example", "Two")
    ambiguous = await t.client.get("/api/v1/reports", headers=t.person("ada@contoso.example"))
    assert ambiguous.status_code == 422
    assert "X-Logdawg-Org" in ambiguous.json()["detail"]
    for org, name in ((first, "One"), (second, "Two")):
        got = await t.client.get("/api/v1/org", headers=t.person("ada@contoso.example", org))
        assert got.json()["name"] == name


async def test_api_keys_are_shown_once_scoped_and_revocable(
    tenancy: Tenancy, tenant_db: TenantDb
) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    created = await t.client.post(
        "/api/v1/api-keys",
        json={"name": "CI", "scopes": ["ingest"]},
        headers=t.person("ada@contoso.example", org),
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert well_formed(key) and key.startswith(created.json()["prefix"] + "_")
    assert created.headers["cache-control"] == "no-store"
    listed = await t.client.get("/api/v1/api-keys", headers=t.person("ada@contoso.example", org))
    assert key not in listed.text and listed.json()[0]["prefix"] == created.json()["prefix"]
    stored = await tenant_db.conn.scalar(text("SELECT key_hash FROM api_keys"))
    assert key not in stored and len(stored) == 64

    # Ingest with the key, by header or (webhooks only) in the query string.
    by_header = await t.client.post(
        "/api/v1/logs/diagnose", json=SAMPLE, headers={"X-API-Key": key}
    )
    assert by_header.status_code == 202, by_header.text
    by_query = await t.client.post(
        f"/api/v1/ingest/generic?key={key}",
        content=b"Error: boom\n    at main (/srv/app/index.js:3:9)",
        headers={"Content-Type": "text/plain"},
    )
    assert by_query.status_code == 202, by_query.text
    assert (await t.client.get(f"/api/v1/reports?key={key}")).status_code == 401
    # An ingest key cannot read, and a key is not a person.
    assert (await t.client.get("/api/v1/reports", headers={"X-API-Key": key})).status_code == 403
    assert (await t.client.get("/api/v1/me", headers={"X-API-Key": key})).status_code == 403
    assert (
        await t.client.post("/api/v1/api-keys", json={"name": "x"}, headers={"X-API-Key": key})
    ).status_code == 403

    read_key = await make_key(t, "ada@contoso.example", org, ["read"])
    bearer = {"Authorization": f"Bearer {read_key}"}
    assert (await t.client.get("/api/v1/reports", headers=bearer)).json()["items"]
    assert (
        await t.client.post("/api/v1/logs/diagnose", json=SAMPLE, headers=bearer)
    ).status_code == 403

    key_id = created.json()["id"]
    revoked = await t.client.delete(
        f"/api/v1/api-keys/{key_id}", headers=t.person("ada@contoso.example", org)
    )
    assert revoked.status_code == 204
    after = await t.client.post("/api/v1/logs/diagnose", json=SAMPLE, headers={"X-API-Key": key})
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]
    unknown = key[:-4] + "abcd"
    assert (
        await t.client.get("/api/v1/reports", headers={"X-API-Key": unknown})
    ).status_code == 401
    assert (
        await t.client.get("/api/v1/reports", headers={"X-API-Key": "ldk_short"})
    ).status_code == 401


async def test_an_expired_key_is_refused(tenancy: Tenancy, tenant_db: TenantDb) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    key = await make_key(t, "ada@contoso.example", org, ["read"], expires_in_days=1)
    assert (await t.client.get("/api/v1/reports", headers={"X-API-Key": key})).status_code == 200
    async with as_owner(tenant_db):
        await tenant_db.conn.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 s'")
        )
    t.app.state.authenticator._keys.clear()  # as if the 5 s cache had run out
    response = await t.client.get("/api/v1/reports", headers={"X-API-Key": key})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    past = await t.client.post(
        "/api/v1/api-keys",
        json={"name": "old", "expires_in_days": 0},
        headers=t.person("ada@contoso.example", org),
    )
    assert past.status_code == 422


async def test_ingest_is_rate_limited_per_key_with_retry_after(
    platform, tenant_db: TenantDb
) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    mt = multi_tenant_platform(platform, ingest_rate_per_key=0.01, ingest_burst_per_key=2)
    app = create_app(platform=mt)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        t = Tenancy(client=c, app=app, platform=mt)
        org = await make_org(t, "ada@contoso.example", "Contoso")
        key = await make_key(t, "ada@contoso.example", org, ["ingest"])
        statuses = []
        for error in ("ValueError: bad value", "KeyError: 'sku'", "TypeError: not a str"):
            body = {"log_data": {"content": error}}
            response = await c.post("/api/v1/logs/diagnose", json=body, headers={"X-API-Key": key})
            statuses.append(response.status_code)
        assert statuses[:2] == [202, 202]
        assert statuses[2] == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "at most" in response.json()["detail"]
        # The sender is judged before its body: over the rate, an invalid body is 429 too.
        invalid = await c.post(
            "/api/v1/logs/diagnose", json={"log_data": {}}, headers={"X-API-Key": key}
        )
        assert invalid.status_code == 429, invalid.text
        # And a key that may not send logs is 403, whatever its body.
        reader = await make_key(t, "ada@contoso.example", org, ["read"])
        for body in ({"log_data": {}}, {"log_data": {"content": "KeyError: 'x'"}}):
            refused = await c.post(
                "/api/v1/logs/diagnose", json=body, headers={"X-API-Key": reader}
            )
            assert refused.status_code == 403, refused.text
        async with as_owner(tenant_db):
            count = await tenant_db.conn.scalar(text("SELECT count(*) FROM reports"))
        assert count == 2  # the refused ones wrote nothing


async def test_azure_monitor_log_alert_makes_one_diagnosis_per_exception(tenancy: Tenancy) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    key = await make_key(t, "ada@contoso.example", org, ["ingest"])
    alert = (WEBHOOKS / "azure-monitor-log-alert-appinsights.json").read_bytes()
    response = await t.client.post(
        f"/api/v1/ingest/azure-monitor?key={key}",
        content=alert,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    diagnoses = response.json()["diagnoses"]
    assert len(diagnoses) == 2  # three rows, two distinct exceptions (by problemId)
    reports = []
    for d in diagnoses:
        got = await t.client.get(d["report_url"], headers=t.person("ada@contoso.example", org))
        reports.append(got.json())
    contents = [r["log_data"]["content"] for r in reports]
    assert {c["problemId"] for c in contents} == {
        "KeyError at shop.cart.total",
        "ConnectionRefusedError at shop.payments.charge",
    }
    # The stack travels as parsed JSON, not a string, and the rows' count is kept.
    key_error = next(r for r in reports if r["log_data"]["content"]["type"] == "KeyError")
    assert key_error["log_data"]["content"]["details"][0]["parsedStack"][0]["line"] == 42
    assert key_error["log_data"]["metadata"]["rows"] == 2
    assert key_error["source"] == "azure-monitor:shop-api exceptions"


async def test_azure_monitor_metric_alerts_and_other_json_are_422(tenancy: Tenancy) -> None:
    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    key = await make_key(t, "ada@contoso.example", org, ["ingest"])
    metric = (WEBHOOKS / "azure-monitor-metric-alert.json").read_bytes()
    response = await t.client.post(f"/api/v1/ingest/azure-monitor?key={key}", content=metric)
    assert response.status_code == 422
    assert (
        "Metric alert" in response.json()["detail"]
        and "signalType 'Log'" in response.json()["detail"]
    )
    other = await t.client.post(
        f"/api/v1/ingest/azure-monitor?key={key}", content=json.dumps({"a": 1})
    )
    assert other.status_code == 422 and "common alert schema" in other.json()["detail"]
    broken = await t.client.post(f"/api/v1/ingest/azure-monitor?key={key}", content=b"{")
    assert broken.status_code == 422
    empty = await t.client.post(f"/api/v1/ingest/generic?key={key}", content=b"  ")
    assert empty.status_code == 422


async def test_single_tenant_needs_no_sign_in_but_checks_what_is_sent(
    client: httpx.AsyncClient,
) -> None:
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert [o["role"] for o in me.json()["organisations"]] == [Role.OWNER.value]
    assert (await client.post("/api/v1/orgs", json={"name": "Another"})).status_code == 409
    assert (
        await client.get("/api/v1/reports", headers={"X-API-Key": "ldk_nope"})
    ).status_code == 401
    assert (
        await client.get("/api/v1/reports", headers={"Authorization": "Bearer eyJ.x.y"})
    ).status_code == 401
    key = (await client.post("/api/v1/api-keys", json={"name": "ci"})).json()["key"]
    accepted = await client.post(
        "/api/v1/ingest/generic", content=b"panic: runtime error", headers={"X-API-Key": key}
    )
    assert accepted.status_code == 202
    config = (await client.get("/api/v1/auth/config")).json()
    assert config["mode"] == "single_tenant" and config["provider"] == "none"


async def test_auth_config_for_the_dev_issuer(tenancy: Tenancy) -> None:
    config = (await tenancy.client.get("/api/v1/auth/config")).json()
    assert config["provider"] == "dev"
    assert config["dev_issuer_url"].endswith("/dev-issuer")
    minted = await tenancy.client.post(
        "/dev-issuer/token", json={"email": "ada@contoso.example", "name": "Ada"}
    )
    assert minted.status_code == 200
    me = await tenancy.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {minted.json()['access_token']}"}
    )
    assert me.json()["user"]["display_name"] == "Ada"
    keys = (await tenancy.client.get("/dev-issuer/keys")).json()["keys"]
    assert keys[0]["kty"] == "RSA" and "d" not in keys[0]  # the public half only


async def test_generic_ingest_bad_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, tenant_db: TenantDb
) -> None:
    for body, headers in (
        (b"boom\x00here", {}),
        (b"\xff\xfe not utf-8", {"Content-Type": "text/plain"}),
        (b'{"message": "a\\u0000b"}', {"Content-Type": "application/json"}),
        (b'{"message": ', {"Content-Type": "application/json"}),
    ):
        response = await client.post("/api/v1/ingest/generic", content=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    async with as_owner(tenant_db):
        assert await tenant_db.conn.scalar(text("SELECT count(*) FROM reports")) == 0
    # Text without a content type is text, not malformed JSON.
    plain = await client.post("/api/v1/ingest/generic", content=b"Fatal error: out of memory")
    assert plain.status_code == 202, plain.text


async def test_secure_webhook_with_a_registered_service_principal(tenancy: Tenancy) -> None:
    """Azure Monitor's secure webhook: an app-only Entra token of the action group's principal,
    trusted by one organisation, may ingest there and do nothing else."""
    from app.auth.dev_issuer import DEV_TENANT

    t = tenancy
    org = await make_org(t, "ada@contoso.example", "Contoso")
    principal = "0f8fad5b-d9cb-469f-a165-70867728950e"
    alert = (WEBHOOKS / "azure-monitor-log-alert-appinsights.json").read_bytes()
    token = t.app.state.dev_issuer.mint_app(principal, ["Logdawg.Ingest"])
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    unknown = await t.client.post("/api/v1/ingest/azure-monitor", content=alert, headers=bearer)
    assert unknown.status_code == 401 and "not registered" in unknown.json()["detail"]

    owner = t.person("ada@contoso.example", org)
    registered = await t.client.post(
        "/api/v1/webhook-principals",
        json={"name": "Azure Monitor", "tenant_id": DEV_TENANT, "object_id": principal},
        headers=owner,
    )
    assert registered.status_code == 201, registered.text
    again = await t.client.post(
        "/api/v1/webhook-principals",
        json={"name": "twice", "tenant_id": DEV_TENANT, "object_id": principal},
        headers=owner,
    )
    assert again.status_code == 409

    accepted = await t.client.post("/api/v1/ingest/azure-monitor", content=alert, headers=bearer)
    assert accepted.status_code == 202, accepted.text
    assert len(accepted.json()["diagnoses"]) == 2
    # Ingest only: it reads nothing, and a token without the app role is refused.
    assert (await t.client.get("/api/v1/reports", headers=bearer)).status_code == 403
    roleless = t.app.state.dev_issuer.mint_app(principal, ["Something.Else"])
    refused = await t.client.get("/api/v1/reports", headers={"Authorization": f"Bearer {roleless}"})
    assert refused.status_code == 401 and "Logdawg.Ingest" in refused.json()["detail"]

    listed = (await t.client.get("/api/v1/webhook-principals", headers=owner)).json()
    removed = await t.client.delete(f"/api/v1/webhook-principals/{listed[0]['id']}", headers=owner)
    assert removed.status_code == 204
    gone = await t.client.post("/api/v1/ingest/azure-monitor", content=alert, headers=bearer)
    assert gone.status_code == 401
