"""Issues end to end: a diagnosed error becomes an issue; resolving it in a release and seeing it
again from a later one reopens it as a regression (one REGRESSION event); an older or equal
release (an old deployment) leaves it resolved and publishes nothing. Ignore until N
occurrences or a date; assignees are members; bulk changes are all or nothing."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from app.bootstrap import Platform
from app.db.models import Issue
from app.db.session import tenant_session
from app.issues.events import IssueEventKind
from app.main import create_app
from tests.conftest import TenantDb
from tests.fakes.issue_events import RecordingSink
from tests.integration.api.test_access import as_owner
from tests.integration.conftest import Tenancy
from worker.main import run_once

pytestmark = pytest.mark.integration

DIAGNOSE = "/api/v1/logs/diagnose"
NEW, REGRESSION, OCCURRENCE = (
    IssueEventKind.NEW,
    IssueEventKind.REGRESSION,
    IssueEventKind.OCCURRENCE,
)


def log(release: str | None = None, *, message: str = "checkout failed") -> dict[str, Any]:
    metadata = {"release": release} if release else {}
    return {
        "log_data": {
            "content": {
                "level": "error",
                "message": message,
                "stack": 'Traceback (most recent call last):\n  File "/app/shop/cart.py", '
                "line 42, in total\n    return prices[sku]\nKeyError: 'SKU-1'",
            },
            "source": "test",
            "metadata": metadata,
        }
    }


@dataclasses.dataclass
class Api:
    client: httpx.AsyncClient
    platform: Platform
    sink: RecordingSink

    async def send(self, release: str | None = None, **kw: Any) -> dict[str, Any]:
        response = await self.client.post(DIAGNOSE, json=log(release, **kw))
        assert response.status_code in (200, 202), response.text
        while await run_once(self.platform, "w1"):
            pass
        body: dict[str, Any] = response.json()
        return body

    async def only_issue(self) -> dict[str, Any]:
        listed = (await self.client.get("/api/v1/issues")).json()["items"]
        assert len(listed) == 1, listed
        detail = await self.client.get(f"/api/v1/issues/{listed[0]['id']}")
        assert detail.status_code == 200, detail.text
        body: dict[str, Any] = detail.json()
        return body

    async def patch(self, issue_id: str, body: dict[str, Any], status: int = 200) -> Any:
        response = await self.client.patch(f"/api/v1/issues/{issue_id}", json=body)
        assert response.status_code == status, response.text
        return response.json()


async def _api(platform: Platform, **settings: Any) -> AsyncIterator[Api]:
    sink = RecordingSink()
    platform = dataclasses.replace(
        platform,
        issue_events=sink,
        settings=platform.settings.model_copy(update=settings),
    )
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield Api(client=client, platform=platform, sink=sink)


@pytest.fixture(params=["grouped", "diagnosed afresh"])
async def api(request: pytest.FixtureRequest, platform: Platform) -> AsyncIterator[Api]:
    """Both ways an occurrence arrives: a repeat grouped onto the report (counted by the
    API), and a new report diagnosed by the worker (grouping off)."""
    window = platform.settings.grouping_window_s if request.param == "grouped" else 0
    async for api in _api(platform, grouping_window_s=window):
        yield api


async def test_a_later_release_reopens_a_resolved_issue_and_an_old_one_does_not(
    api: Api,
) -> None:
    first = await api.send("1.1")
    issue = await api.only_issue()
    assert issue["state"] == "unresolved" and issue["occurrence_count"] == 1
    assert issue["reports"][0]["id"] == first["diagnosis_id"]
    assert [r["name"] for r in issue["releases"]] == ["1.1"]
    report = (await api.client.get(f"/api/v1/reports/{first['diagnosis_id']}")).json()
    assert report["issue_id"] == issue["id"]
    assert api.sink.kinds() == [NEW]
    assert api.sink.events[0].issue_id == uuid.UUID(issue["id"])

    resolved = await api.patch(
        issue["id"], {"state_change": {"state": "resolved", "in_release": "1.2"}}
    )
    assert resolved["state"] == "resolved" and resolved["resolved_in_release"] == "1.2"
    entry = resolved["timeline"][-1]
    assert entry["kind"] == "resolved" and entry["data"]["release"] == "1.2"

    # An old deployment still running 1.2 (and 1.1): resolved it stays, and nobody hears.
    await api.send("1.2")
    await api.send("1.1")
    issue = await api.only_issue()
    assert issue["state"] == "resolved"
    assert issue["occurrence_count"] == 3
    assert api.sink.kinds() == [NEW]

    # 1.3 has the bug again: a regression, once.
    await api.send("1.3")
    issue = await api.only_issue()
    assert issue["state"] == "unresolved"
    assert issue["resolved_in_release"] is None
    assert api.sink.kinds() == [NEW, REGRESSION]
    regression = [e for e in issue["timeline"] if e["kind"] == "regression"]
    assert len(regression) == 1
    assert regression[0]["data"]["release"] == "1.3"
    assert regression[0]["data"]["resolved_in_release"] == "1.2"
    assert regression[0]["actor"] is None

    # It is unresolved now: the next one is an ordinary occurrence.
    await api.send("1.3")
    assert api.sink.kinds() == [NEW, REGRESSION, OCCURRENCE]
    issue = await api.only_issue()
    assert issue["occurrence_count"] == 5
    assert {r["name"]: r["count"] for r in issue["releases"]} == {
        "1.1": 2, "1.2": 1, "1.3": 2,
    }  # fmt: skip
    assert [e["kind"] for e in issue["timeline"]] == ["created", "resolved", "regression"]


async def test_ignored_until_n_more_occurrences(api: Api) -> None:
    await api.send()
    issue = await api.only_issue()
    ignored = await api.patch(issue["id"], {"state_change": {"state": "ignored", "count": 2}})
    assert ignored["state"] == "ignored" and ignored["ignore_until_count"] == 3
    await api.send()
    assert (await api.only_issue())["state"] == "ignored"
    assert api.sink.kinds() == [NEW]  # ignored: nothing published
    await api.send()
    issue = await api.only_issue()
    assert issue["state"] == "unresolved"
    assert issue["timeline"][-1]["kind"] == "ignore_lapsed"
    assert issue["timeline"][-1]["data"]["reason"] == "occurrences"
    assert api.sink.kinds() == [NEW, OCCURRENCE]


async def test_ignored_until_a_date(api: Api, tenant_db: TenantDb) -> None:
    await api.send()
    issue = await api.only_issue()
    until = datetime.now(UTC) + timedelta(hours=1)
    await api.patch(issue["id"], {"state_change": {"state": "ignored", "until": until.isoformat()}})
    await api.send()
    assert (await api.only_issue())["state"] == "ignored"
    assert api.sink.kinds() == [NEW]

    # The hour passes (the clock is the database's: move the date instead).
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await session.execute(
            update(Issue).values(ignore_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    listed = (await api.client.get("/api/v1/issues", params={"state": "ignored"})).json()
    assert listed["items"] == []  # lapsed on its own, without an occurrence
    issue = await api.only_issue()
    assert issue["state"] == "unresolved" and issue["ignore_until"] is None
    assert issue["timeline"][-1]["kind"] == "ignore_lapsed"
    assert issue["timeline"][-1]["data"]["reason"] == "date"


@pytest.fixture
async def grouped(platform: Platform) -> AsyncIterator[Api]:
    async for api in _api(platform):
        yield api


async def test_repeats_before_the_diagnosis_are_counted_once(grouped: Api) -> None:
    api = grouped
    for _ in range(3):  # all grouped onto the pending report
        response = await api.client.post(DIAGNOSE, json=log("2.0"))
        assert response.status_code in (200, 202)
    assert (await api.client.get("/api/v1/issues")).json()["items"] == []
    while await run_once(api.platform, "w1"):
        pass
    issue = await api.only_issue()
    assert issue["occurrence_count"] == 3
    assert api.sink.kinds() == [NEW, OCCURRENCE, OCCURRENCE]
    await api.send("2.0")
    assert (await api.only_issue())["occurrence_count"] == 4
    assert api.sink.kinds() == [NEW, OCCURRENCE, OCCURRENCE, OCCURRENCE]


async def test_repeats_during_a_re_run_are_counted_when_it_completes(grouped: Api) -> None:
    """A linked report diagnosed again goes back to pending: the repeats that arrive meanwhile
    are left to the worker, which counts them when the re-run completes."""
    api = grouped
    first = await api.send("2.0")
    assert (await api.only_issue())["occurrence_count"] == 1
    rerun = await api.client.post(f"/api/v1/reports/{first['diagnosis_id']}/rerun")
    assert rerun.status_code == 202, rerun.text
    for _ in range(2):  # grouped onto the pending report: the API leaves them to the worker
        response = await api.client.post(DIAGNOSE, json=log("2.0"))
        assert response.status_code == 200, response.text
    assert (await api.only_issue())["occurrence_count"] == 1
    while await run_once(api.platform, "w1"):
        pass
    issue = await api.only_issue()
    assert issue["occurrence_count"] == 3
    assert api.sink.kinds() == [NEW, OCCURRENCE, OCCURRENCE]


async def test_a_failing_notification_side_never_costs_the_diagnosis(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's event cannot be recorded (the sink fails inside the worker's completing
    transaction): the diagnosis is kept and the job done; the report stays unlinked."""

    class FailingSink(RecordingSink):
        async def publish(self, session: Any, event: Any) -> None:
            await session.execute(text("SELECT 1"))  # inside the transaction, like the real one
            raise RuntimeError("the notification rules could not be read")

    failing = dataclasses.replace(platform, issue_events=FailingSink())
    transport = httpx.ASGITransport(app=create_app(platform=failing))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        accepted = await client.post(DIAGNOSE, json=log("1.0"))
        assert accepted.status_code == 202, accepted.text
        assert await run_once(failing, "w1")
        report = (await client.get(f"/api/v1/reports/{accepted.json()['diagnosis_id']}")).json()
        assert report["status"] == "complete" and report["report_data"]["title"]
        assert report["issue_id"] is None
        assert (await client.get("/api/v1/issues")).json()["items"] == []
    assert await run_once(failing, "w1") is False  # done, not retried
    assert "not linked to its issue" in caplog.text


async def test_assignees_are_members_and_filters_narrow_the_list(
    grouped: Api, tenant_db: TenantDb
) -> None:
    api = grouped
    await api.send(message="one")
    await api.send()
    other = await api.client.post(
        DIAGNOSE,
        json={"log_data": {"content": "Traceback (most recent call last):\n  File "
                           '"/app/jobs.py", line 7, in run\nZeroDivisionError: division by zero'}},
    )  # fmt: skip
    assert other.status_code == 202
    while await run_once(api.platform, "w1"):
        pass
    items = (await api.client.get("/api/v1/issues")).json()["items"]
    assert len(items) == 2
    target = items[0]["id"]

    await api.patch(target, {"assignee_id": str(uuid.uuid4())}, status=404)
    # A member (as the owner role: people are created by signing in).
    async with as_owner(tenant_db):
        member = (
            await tenant_db.conn.execute(text("SELECT logdawg_sign_in('t', 'dev', 'Dev', NULL)"))
        ).scalar_one()
        await tenant_db.conn.execute(
            text("INSERT INTO memberships (org_id, user_id, role) VALUES (:o, :u, 'member')"),
            {"o": tenant_db.org_a, "u": member},
        )
    assigned = await api.patch(target, {"assignee_id": str(member)})
    assert assigned["assignee"] == {"id": str(member), "name": "Dev"}
    assert assigned["timeline"][-1]["kind"] == "assigned"

    mine = (await api.client.get("/api/v1/issues", params={"assignee_id": str(member)})).json()
    assert [i["id"] for i in mine["items"]] == [target]
    nobody = (await api.client.get("/api/v1/issues", params={"unassigned": "true"})).json()
    assert [i["id"] for i in nobody["items"]] == [items[1]["id"]]
    page = (await api.client.get("/api/v1/issues", params={"limit": 1})).json()
    rest = (
        await api.client.get("/api/v1/issues", params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in items]
    assert rest["next_cursor"] is None

    unassigned = await api.patch(target, {"assignee_id": None})
    assert unassigned["timeline"][-1]["kind"] == "unassigned"
    assert unassigned["assignee"] is None
    assert (await api.client.patch(f"/api/v1/issues/{target}", json={})).status_code == 422
    bad = await api.client.patch(
        f"/api/v1/issues/{target}", json={"state_change": {"state": "unresolved", "count": 2}}
    )
    assert bad.status_code == 422 and bad.json()["detail"]

    bulk = await api.client.post(
        "/api/v1/issue-changes",
        json={"issue_ids": [i["id"] for i in items], "state_change": {"state": "resolved"}},
    )
    assert bulk.status_code == 200, bulk.text
    assert {i["state"] for i in bulk.json()["items"]} == {"resolved"}
    resolved = (await api.client.get("/api/v1/issues", params={"state": "resolved"})).json()
    assert len(resolved["items"]) == 2


async def test_bulk_with_a_foreign_id_changes_nothing_and_viewers_read_only(
    tenancy: Tenancy,
) -> None:
    t = tenancy
    orgs = {}
    for slug in ("alpha", "bravo"):
        email = f"owner@{slug}.example"
        org = (await t.client.post("/api/v1/orgs", json={"name": slug},
                                   headers=t.person(email))).json()["id"]  # fmt: skip
        owner = t.person(email, org)
        key = await t.client.post(
            "/api/v1/api-keys", json={"name": "k", "scopes": ["ingest"]}, headers=owner
        )
        sent = await t.client.post(
            DIAGNOSE, json=log("1.0", message=slug), headers={"X-API-Key": key.json()["key"]}
        )
        assert sent.status_code == 202, sent.text
        while await run_once(t.platform, "w1"):
            pass
        issues = (await t.client.get("/api/v1/issues", headers=owner)).json()["items"]
        assert len(issues) == 1
        orgs[slug] = (owner, issues[0]["id"])
    (a_owner, a_issue), (b_owner, b_issue) = orgs["alpha"], orgs["bravo"]

    # B's issue does not exist for A: 404, and nothing changes, A's own issue included.
    refused = await t.client.post(
        "/api/v1/issue-changes",
        json={"issue_ids": [a_issue, b_issue], "state_change": {"state": "ignored"}},
        headers=a_owner,
    )
    assert refused.status_code == 404
    assert b_issue in refused.json()["detail"] and a_issue not in refused.json()["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    for owner, issue in orgs.values():
        got = (await t.client.get(f"/api/v1/issues/{issue}", headers=owner)).json()
        assert got["state"] == "unresolved" and [e["kind"] for e in got["timeline"]] == ["created"]
    assert (await t.client.get(f"/api/v1/issues/{b_issue}", headers=a_owner)).status_code == 404
    # An assignee from another organisation is no member here.
    b_me = (await t.client.get("/api/v1/me", headers=b_owner)).json()
    b_user = b_me["user"]["id"] if "user" in b_me else b_me["id"]
    cross = await t.client.patch(
        f"/api/v1/issues/{a_issue}", json={"assignee_id": b_user}, headers=a_owner
    )
    assert cross.status_code == 404

    # A viewer of A reads issues but changes none.
    invited = await t.client.post(
        "/api/v1/invitations", json={"email": "viewer@alpha.example", "role": "viewer"},
        headers=a_owner,
    )  # fmt: skip
    await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=t.person("viewer@alpha.example"),
    )
    a_id = a_owner["X-Logdawg-Org"]
    viewer = t.person("viewer@alpha.example", a_id)
    assert (await t.client.get(f"/api/v1/issues/{a_issue}", headers=viewer)).status_code == 200
    resolve = {"state_change": {"state": "resolved"}}
    assert (
        await t.client.patch(f"/api/v1/issues/{a_issue}", json=resolve, headers=viewer)
    ).status_code == 403
    assert (
        await t.client.post(
            "/api/v1/issue-changes", json={"issue_ids": [a_issue], **resolve}, headers=viewer
        )
    ).status_code == 403
    # The owner can; the timeline says who.
    done = await t.client.patch(f"/api/v1/issues/{a_issue}", json=resolve, headers=a_owner)
    assert done.status_code == 200
    assert done.json()["timeline"][-1]["actor"]["name"] == "Owner"
