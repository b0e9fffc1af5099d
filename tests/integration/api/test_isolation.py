"""Tenant isolation, endpoint by endpoint: organisation A's people and keys against every id
of organisation B. Each answer is 404 (never 403: a foreign organisation's things do not
exist for you), nothing of B changes, and no list shows a row of B."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute

from app.db.models import GitHubInstallation, Issue, Report
from app.db.session import tenant_session
from app.notifications import rules
from tests.integration.conftest import Tenancy

pytestmark = pytest.mark.integration

LOG = {
    "log_data": {
        "content": "Traceback (most recent call last):\n"
        '  File "/srv/b/jobs.py", line 7, in run\n'
        "ZeroDivisionError: division by zero"
    }
}


@dataclass
class Org:
    id: str
    owner: dict[str, str]
    key: str  # ingest + read
    report: str
    repository: str
    api_key: str
    member: str
    invitation: str
    principal: str
    installation: str
    issue: str
    rule: str


async def build_org(t: Tenancy, slug: str) -> Org:
    owner_email = f"owner@{slug}.example"
    created = await t.client.post(
        "/api/v1/orgs", json={"name": slug}, headers=t.person(owner_email)
    )
    org_id = created.json()["id"]
    owner = t.person(owner_email, org_id)
    key = (
        await t.client.post(
            "/api/v1/api-keys", json={"name": "k", "scopes": ["ingest", "read"]}, headers=owner
        )
    ).json()
    repo = await t.client.post(
        "/api/v1/repositories",
        json={
            "provider": "github",
            "owner": slug,
            "name": "app",
            "token": "github_pat_" + "x" * 30,
        },
        headers=owner,
    )
    assert repo.status_code == 201, repo.text
    submitted = await t.client.post(
        "/api/v1/logs/diagnose", json=LOG, headers={"X-API-Key": key["key"]}
    )
    assert submitted.status_code == 202, submitted.text
    again = await t.client.post(
        "/api/v1/logs/diagnose", json=LOG, headers={"X-API-Key": key["key"]}
    )
    assert again.json()["repeat"] is True  # an occurrence row too
    invited = await t.client.post(
        "/api/v1/invitations",
        json={"email": f"member@{slug}.example", "role": "member"},
        headers=owner,
    )
    accepted = await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=t.person(f"member@{slug}.example"),
    )
    assert accepted.status_code == 200
    members = (await t.client.get("/api/v1/members", headers=owner)).json()
    member_id = next(m["user_id"] for m in members if m["role"] == "member")
    principal = await t.client.post(
        "/api/v1/webhook-principals",
        json={"name": "monitor", "tenant_id": str(uuid.uuid4()), "object_id": str(uuid.uuid4())},
        headers=owner,
    )
    assert principal.status_code == 201, principal.text
    pending = await t.client.post(
        "/api/v1/invitations", json={"email": f"later@{slug}.example"}, headers=owner
    )
    # A GitHub App installation (completing an install needs GitHub; the row is what counts).
    installation = uuid.uuid4()
    # The report's issue (diagnosing needs GitHub here; the worker's linking is what it does).
    issue = uuid.uuid4()
    async with tenant_session(t.platform.sessions, uuid.UUID(org_id)) as session:
        report = await session.get(Report, uuid.UUID(submitted.json()["diagnosis_id"]))
        assert report is not None
        now = datetime.now(UTC)
        session.add(
            Issue(
                id=issue, org_id=report.org_id, repo_id=report.repo_id, fingerprint="f" * 16,
                title="ZeroDivisionError", first_seen_at=now, last_seen_at=now,
                occurrence_count=1, releases={}, commits={},
            )
        )  # fmt: skip
        await session.flush()
        report.issue_id = issue
        session.add(
            GitHubInstallation(
                id=installation, org_id=uuid.UUID(org_id),
                installation_id=uuid.UUID(org_id).int % 2**40, account_login=slug,
                account_type="Organization", repositories=[f"{slug}/app"],
            )
        )  # fmt: skip
        rule = await rules.create(
            session, t.platform.kek,
            rules.RuleInput(name="on-call", trigger="new", channel="slack", config={},
                            secret="https://hooks.slack.example/services/T0/B0/secret"),
            org_id=uuid.UUID(org_id), created_by=None, multi_tenant=False,
        )  # fmt: skip
        await session.commit()
    return Org(
        id=org_id, owner=owner, key=key["key"], report=submitted.json()["diagnosis_id"],
        repository=repo.json()["id"], api_key=key["id"], member=member_id,
        invitation=pending.json()["id"], principal=principal.json()["id"],
        installation=str(installation), issue=str(issue), rule=str(rule.id),
    )  # fmt: skip


def foreign_ids(b: Org) -> dict[str, str]:
    return {
        "report_id": b.report,
        "diagnosis_id": b.report,
        "repo_id": b.repository,
        "key_id": b.api_key,
        "user_id": b.member,
        "invitation_id": b.invitation,
        "principal_id": b.principal,
        "installation_uuid": b.installation,
        "issue_id": b.issue,
        "rule_id": b.rule,
    }


BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/repositories/{repo_id}/token"): {"token": "github_pat_" + "y" * 30},
    ("PATCH", "/api/v1/members/{user_id}"): {"role": "viewer"},
    ("POST", "/api/v1/github-app/installations/{installation_uuid}/repositories"): {
        "repositories": [{"full_name": "beta/app"}]
    },
    ("PATCH", "/api/v1/issues/{issue_id}"): {"state_change": {"state": "resolved"}},
}


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """The API's routes, through routers included in routers."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            found += api_routes(inner.routes)
    return [r for r in found if r.path.startswith("/api/v1/")]


def id_routes(t: Tenancy) -> list[tuple[str, str]]:
    return [
        (method, re.sub(r"{(\w+):\w+}", r"{\1}", route.path))
        for route in api_routes(t.app.routes)
        if "{" in route.path
        for method in sorted(route.methods)
    ]


async def snapshot(t: Tenancy, b: Org) -> dict[str, Any]:
    """What B's owner sees of B: it must be the same before and after A's attempts."""
    views = {}
    for path in (
        "/api/v1/reports",
        "/api/v1/repositories",
        "/api/v1/api-keys",
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/webhook-principals",
        "/api/v1/org",
        "/api/v1/github-app/installations",
        "/api/v1/notification-rules",
        f"/api/v1/notification-rules/{b.rule}/deliveries",
        f"/api/v1/reports/{b.report}/linked-issue",
        f"/api/v1/reports/{b.report}",
        f"/api/v1/reports/{b.report}/occurrences",
        "/api/v1/issues",
        f"/api/v1/issues/{b.issue}",
    ):
        response = await t.client.get(path, headers=b.owner)
        assert response.status_code == 200, (path, response.text)
        views[path] = response.json()
    return views


async def test_no_endpoint_reaches_another_organisation(
    tenancy: Tenancy, capsys: pytest.CaptureFixture[str]
) -> None:
    t = tenancy
    a = await build_org(t, "alpha")
    b = await build_org(t, "bravo")
    before = await snapshot(t, b)
    callers = {
        "A's owner": a.owner,
        "A's owner naming B": {**a.owner, "X-Logdawg-Org": b.id},
        "A's key": {"X-API-Key": a.key},
        "A's key naming B": {"X-API-Key": a.key, "X-Logdawg-Org": b.id},
        "A's member": t.person("member@alpha.example", a.id),
    }
    ids = foreign_ids(b)
    routes = id_routes(t)
    assert len(routes) >= 10, routes
    tried = found404 = 0
    for who, headers in callers.items():
        for method, path in routes:
            names = re.findall(r"{(\w+)}", path)
            assert all(n in ids for n in names), f"no foreign id for {path}: add one to foreign_ids"
            url = path.format(**{n: ids[n] for n in names})
            body = BODIES.get((method, path))
            response = await t.client.request(method, url, headers=headers, json=body)
            tried += 1
            # B's id answers exactly like an id that exists nowhere: 404, or, when this
            # caller may not use the endpoint at all (a key on a people-only route, a
            # member on an admin route), the same 403 whatever the id.
            nowhere = path.format(**{n: str(uuid.uuid4()) for n in names})
            control = await t.client.request(method, nowhere, headers=headers, json=body)
            assert response.status_code in (403, 404), (who, method, url, response.text)
            assert response.status_code == control.status_code, (who, method, url, response.text)
            if response.status_code == 403:
                assert response.json()["detail"] == control.json()["detail"]
            else:
                found404 += 1
        # Naming B in the header is 404 even for lists.
        if headers.get("X-Logdawg-Org") == b.id:
            for path in ("/api/v1/reports", "/api/v1/repositories", "/api/v1/org"):
                got = await t.client.get(path, headers=headers)
                assert got.status_code == 404, (who, path, got.text)
        # A submission naming B's repository is refused as unknown, and writes nothing.
        if who in ("A's owner", "A's key"):
            refused = await t.client.post(
                "/api/v1/logs/diagnose",
                json={**LOG, "repository_id": b.repository},
                headers=headers,
            )
            assert refused.status_code == 404 and "No repository" in refused.json()["detail"]

    # Every list A can read holds A's rows only.
    b_ids = {
        b.id,
        b.report,
        b.repository,
        b.api_key,
        b.member,
        b.invitation,
        b.principal,
        b.installation,
        b.issue,
        b.rule,
    }
    seen = 0
    for headers in (a.owner, {"X-API-Key": a.key}):
        for path in (
            "/api/v1/reports",
            "/api/v1/repositories",
            "/api/v1/api-keys",
            "/api/v1/members",
            "/api/v1/invitations",
            "/api/v1/webhook-principals",
            "/api/v1/orgs",
            "/api/v1/me",
            "/api/v1/github-app/installations",
            "/api/v1/issues",
            "/api/v1/notification-rules",
        ):
            response = await t.client.get(path, headers=headers)
            if response.status_code == 200:
                seen += sum(i in response.text for i in b_ids)
    after = await snapshot(t, b)
    assert after == before, "a request from A changed B"
    with capsys.disabled():
        print(
            f"\ntenant isolation: {tried} foreign-id requests ({found404} answered 404, the rest "
            f"the caller's own 403); foreign rows seen: {seen}"
        )
    assert seen == 0
    assert found404 >= tried // 2


async def test_a_revoked_key_reads_nothing(tenancy: Tenancy) -> None:
    t = tenancy
    a = await build_org(t, "alpha")
    assert (await t.client.get("/api/v1/reports", headers={"X-API-Key": a.key})).status_code == 200
    assert (
        await t.client.delete(f"/api/v1/api-keys/{a.api_key}", headers=a.owner)
    ).status_code == 204
    for path in (
        "/api/v1/reports",
        f"/api/v1/reports/{a.report}",
        f"/api/v1/logs/diagnose/status/{a.report}",
    ):
        assert (await t.client.get(path, headers={"X-API-Key": a.key})).status_code == 401


async def test_a_viewer_cannot_write_anything(tenancy: Tenancy) -> None:
    t = tenancy
    a = await build_org(t, "alpha")
    invited = await t.client.post(
        "/api/v1/invitations",
        json={"email": "viewer@alpha.example", "role": "viewer"},
        headers=a.owner,
    )
    await t.client.post(
        "/api/v1/invitation-acceptances",
        json={"token": invited.json()["token"]},
        headers=t.person("viewer@alpha.example"),
    )
    viewer = t.person("viewer@alpha.example", a.id)
    before = await snapshot(t, a)
    own = {**foreign_ids(a)}
    writes = 0
    for method, path in [
        *id_routes(t),
        ("POST", "/api/v1/repositories"),
        ("POST", "/api/v1/api-keys"),
        ("POST", "/api/v1/invitations"),
        ("POST", "/api/v1/logs/diagnose"),
        ("PATCH", "/api/v1/org"),
        ("DELETE", "/api/v1/org"),
    ]:
        if method == "GET":
            continue
        names = re.findall(r"{(\w+)}", path)
        url = path.format(**{n: own[n] for n in names})
        response = await t.client.request(
            method, url, headers=viewer, json=BODIES.get((method, path), {})
        )
        writes += 1
        assert response.status_code == 403, (method, url, response.status_code, response.text)
    assert writes >= 8
    assert await snapshot(t, a) == before


def test_every_route_declares_who_may_call_it(tenancy: Tenancy) -> None:
    """Each /api/v1 route needs a role (people) and says whether API keys may call it; the
    README's roles table is this list."""
    unscoped = {
        ("GET", "/api/v1/auth/config"), ("GET", "/api/v1/me"), ("GET", "/api/v1/orgs"),
        ("POST", "/api/v1/orgs"), ("POST", "/api/v1/invitation-acceptances"),
        ("POST", "/api/v1/webhooks/github"),  # public: authenticated by its signature
    }  # fmt: skip
    missing = []
    routes = api_routes(tenancy.app.routes)
    assert len(routes) >= 25
    for route in routes:
        calls = {getattr(d.call, "required_role", None) for d in _flatten(route.dependant)}
        calls = (calls | {getattr(route, "required_role", None)}) - {None}  # ``IngestRoute``
        for method in route.methods:
            if not calls and (method, route.path) not in unscoped:
                missing.append((method, route.path))
    assert missing == [], f"routes without a required role: {missing}"


def _flatten(dependant: Any) -> list[Any]:
    found = []
    for d in dependant.dependencies:
        found.append(d)
        found += _flatten(d)
    return found
