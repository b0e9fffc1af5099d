"""Multi-tenant mode on one machine, for real: `logdawg up` with the local development issuer.
A person signs in, creates an organisation and an ingest key; a machine sends the sample through
the generic webhook with that key; a member reads the complete report; a viewer cannot write; a
person of another organisation cannot read it; no local organisation was made."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from app.db.embedded import start_embedded
from tests.e2e.platform import logdawg_up


def sign_in(base: str, email: str, org: str | None = None) -> dict[str, str]:
    token = httpx.post(
        f"{base}/dev-issuer/token", json={"email": email, "name": email.split("@")[0]}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return headers | ({"X-Logdawg-Org": org} if org else {})


def join(base: str, owner: dict[str, str], email: str, role: str) -> dict[str, str]:
    invited = httpx.post(
        f"{base}/api/v1/invitations", json={"email": email, "role": role}, headers=owner
    )
    assert invited.status_code == 201, invited.text
    accepted = httpx.post(
        f"{base}/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=sign_in(base, email),
    )
    assert accepted.status_code == 200, accepted.text
    return sign_in(base, email, owner["X-Logdawg-Org"])


@pytest.mark.timeout(180)
def test_multi_tenant_sign_in_to_report(tmp_path: Path, sample_request: bytes) -> None:
    data = tmp_path / "data"
    with logdawg_up(data, LOGDAWG_MODE="multi_tenant", LOGDAWG_AUTH_PROVIDER="dev") as running:
        base = running.url
        assert "sign in with the local development issuer" in running.printed
        assert httpx.get(f"{base}/api/v1/reports").status_code == 401

        created = httpx.post(
            f"{base}/api/v1/orgs",
            json={"name": "Craft Co"},
            headers=sign_in(base, "ada@craft.example"),
        )
        assert created.status_code == 201, created.text
        org = created.json()["id"]
        owner = sign_in(base, "ada@craft.example", org)
        key = httpx.post(
            f"{base}/api/v1/api-keys", json={"name": "ci", "scopes": ["ingest"]}, headers=owner
        )
        assert key.status_code == 201, key.text

        # A machine sends the sample's log as the body of the generic webhook.
        content = json.loads(sample_request)["log_data"]["content"]
        body = content if isinstance(content, str) else json.dumps(content)
        accepted = httpx.post(
            f"{base}/api/v1/ingest/generic?key={key.json()['key']}",
            content=body.encode(),
            headers={
                "Content-Type": "application/json" if isinstance(content, dict) else "text/plain"
            },
        )
        assert accepted.status_code == 202, accepted.text
        report_url = base + accepted.json()["diagnoses"][0]["report_url"]

        member = join(base, owner, "bob@craft.example", "member")
        report: dict[str, object] = {}
        for _ in range(200):
            report = httpx.get(report_url, headers=member).json()
            if report["status"] in ("complete", "failed"):
                break
            time.sleep(0.1)
        assert report["status"] == "complete", report
        assert report["report_data"]["title"]  # type: ignore[index]

        viewer = join(base, owner, "vic@craft.example", "viewer")
        assert httpx.get(report_url, headers=viewer).status_code == 200
        writes = httpx.post(
            f"{base}/api/v1/logs/diagnose",
            content=sample_request,
            headers=viewer | {"Content-Type": "application/json"},
        )
        assert writes.status_code == 403
        assert (
            httpx.delete(report_url.replace("/reports/", "/api-keys/"), headers=viewer).status_code
            == 403
        )

        other = httpx.post(
            f"{base}/api/v1/orgs",
            json={"name": "Rival"},
            headers=sign_in(base, "eve@rival.example"),
        )
        eve = sign_in(base, "eve@rival.example", other.json()["id"])
        assert httpx.get(report_url, headers=eve).status_code == 404
        assert (
            httpx.get(report_url, headers=sign_in(base, "eve@rival.example", org)).status_code
            == 404
        )
    assert running.exit_code == 0

    # Multi-tenant start-up made no local organisation: the two people's, and nothing else.
    db = start_embedded(data)
    try:
        with psycopg.connect(db.superuser_conninfo("logdawg")) as conn:
            names = sorted(r[0] for r in conn.execute("SELECT name FROM organisations"))
    finally:
        db.handle.cleanup()
    assert names == ["Craft Co", "Rival"]
