"""The overview's figures, the retention setting and its sweep, and the connection test."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from app.bootstrap import Platform
from app.db.models import NotificationDelivery, Report, ReportStatus
from app.db.session import tenant_session
from app.notifications import rules
from app.services import retention
from tests.conftest import TenantDb
from tests.fakes.git_servers import GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo
from worker.main import run_once

pytestmark = pytest.mark.integration


async def test_stats_count_group_and_report_health(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb, sample_request: bytes
) -> None:
    empty = (await client.get("/api/v1/stats")).json()
    assert empty["total"] == 0
    assert empty["average_confidence"] is None
    assert empty["health"]["api_ready"] is True
    assert empty["health"]["schema_revision"] == platform.head_revision

    headers = {"Content-Type": "application/json"}
    first = await client.post("/api/v1/logs/diagnose", content=sample_request, headers=headers)
    await client.post("/api/v1/logs/diagnose", content=sample_request, headers=headers)  # repeat
    other = await client.post(
        "/api/v1/logs/diagnose", json={"log_data": {"content": "ValueError: bad thing"}}
    )
    queued = (await client.get("/api/v1/stats")).json()
    assert queued["health"]["queue_depth"] == 2
    assert queued["health"]["oldest_pending_job_at"] is not None
    assert queued["by_status"] == {"pending": 2, "running": 0, "complete": 0, "failed": 0}

    assert await run_once(platform, "w")
    assert await run_once(platform, "w")
    async with tenant_session(tenant_db.sessions, tenant_db.org_b) as session:
        session.add(Report(org_id=tenant_db.org_b, log_data={"content": "theirs"}))
        await session.commit()
    stats = (await client.get("/api/v1/stats")).json()
    assert stats["total"] == 2
    assert stats["today"] == 2
    assert stats["this_week"] == 2
    assert stats["by_status"]["complete"] == 2
    assert sum(stats["by_category"].values()) == 2
    assert stats["health"]["queue_depth"] == 0
    assert stats["health"]["oldest_pending_job_at"] is None
    top = stats["noisiest"][0]
    assert top["latest_report_id"] == first.json()["diagnosis_id"]
    assert top["occurrences"] == 2
    assert {n["latest_report_id"] for n in stats["noisiest"]} == {
        first.json()["diagnosis_id"],
        other.json()["diagnosis_id"],
    }
    assert 0 < stats["average_confidence"] <= 1


async def test_retention_is_set_validated_and_swept(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb
) -> None:
    assert (await client.get("/api/v1/retention")).json() == {"max_age_days": None}
    bad = await client.put("/api/v1/retention", json={"max_age_days": 0})
    assert bad.status_code == 422
    assert (await client.put("/api/v1/retention", json={"max_age_days": 30})).status_code == 200
    assert (await client.get("/api/v1/retention")).json() == {"max_age_days": 30}

    ids: dict[str, uuid.UUID] = {}
    for org, name, age_days, status in (
        (tenant_db.org_a, "old", 40, ReportStatus.COMPLETE),
        (tenant_db.org_a, "young", 10, ReportStatus.COMPLETE),
        (tenant_db.org_a, "old-pending", 40, ReportStatus.PENDING),
        (tenant_db.org_b, "theirs-old", 400, ReportStatus.COMPLETE),  # b keeps for good
    ):
        async with tenant_session(tenant_db.sessions, org) as session:
            report = Report(org_id=org, log_data={"content": name}, status=status)
            session.add(report)
            await session.flush()
            await session.execute(
                text("UPDATE reports SET last_seen_at = now() - make_interval(days => :d) "
                     "WHERE id = :id"),
                {"d": age_days, "id": report.id},
            )  # fmt: skip
            await session.commit()
            ids[name] = report.id

    # A notification about the old report still waits to be sent: it cannot be any more.
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        rule = await rules.create(
            session, platform.kek,
            rules.RuleInput(name="r", trigger="new", channel="slack", config={},
                            secret="https://hooks.slack.example/services/T0/B0/x"),
            org_id=tenant_db.org_a, created_by=None, multi_tenant=False,
        )  # fmt: skip
        session.add(
            NotificationDelivery(org_id=tenant_db.org_a, rule_id=rule.id, event="new",
                                 report_id=ids["old"], payload={}, status="retrying")
        )  # fmt: skip
        await session.commit()

    assert await retention.sweep(tenant_db.conn) == 1
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        [delivery] = (await session.scalars(select(NotificationDelivery))).all()
    assert delivery.status == "failed" and "retention" in (delivery.error or "")
    remaining = {r["id"] for r in (await client.get("/api/v1/reports")).json()["items"]}
    assert remaining == {str(ids["young"]), str(ids["old-pending"])}
    async with tenant_session(tenant_db.sessions, tenant_db.org_b) as session:
        assert await session.get(Report, ids["theirs-old"]) is not None
    assert await retention.sweep(tenant_db.conn) == 0


async def test_connection_test_reads_a_local_checkout_and_says_what_is_wrong(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    repo = build_sample_repo(tmp_path)
    good = await client.post(
        "/api/v1/repositories", json={"provider": "local", "name": "shop", "base_url": str(repo)}
    )
    tested = await client.post(f"/api/v1/repositories/{good.json()['id']}/test")
    assert tested.status_code == 200
    assert tested.json()["ok"] is True
    assert len(tested.json()["head_commit"]) == 40

    wrong_branch = await client.post(
        "/api/v1/repositories",
        json={"provider": "local", "name": "shop2", "base_url": str(repo),
              "default_branch": "trunk"},
    )  # fmt: skip
    answer = (await client.post(f"/api/v1/repositories/{wrong_branch.json()['id']}/test")).json()
    assert answer["ok"] is False
    assert answer["problem"] == "branch_not_found"
    assert "trunk" in answer["detail"]
    assert (await client.post(f"/api/v1/repositories/{uuid.uuid4()}/test")).status_code == 404


async def test_connection_test_against_github_tells_a_bad_token(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    repo = build_sample_repo(tmp_path)
    with serve(GitHubHandler, repo, token="right-token") as fake:
        body = {"provider": "github", "owner": "acme", "name": "shop",
                "base_url": fake.url, "token": "wrong-token"}  # fmt: skip
        registered = (await client.post("/api/v1/repositories", json=body)).json()
        bad = (await client.post(f"/api/v1/repositories/{registered['id']}/test")).json()
        assert bad["ok"] is False
        assert bad["problem"] in ("bad_credentials", "not_found")
        assert "wrong-token" not in str(bad)
        await client.put(
            f"/api/v1/repositories/{registered['id']}/token", json={"token": "right-token"}
        )
        good = (await client.post(f"/api/v1/repositories/{registered['id']}/test")).json()
    assert good["ok"] is True, good
    assert "acme/shop" in good["detail"]
