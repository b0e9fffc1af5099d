"""Write-back from a report: a GitHub issue or an Azure DevOps work item, created once, with a
comment on the suspect commit's pull request; against the providers' stand-ins on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.analysis import engine
from app.analysis.report import DiagnosisReport
from app.bootstrap import Platform, bootstrap
from app.db.embedded import EmbeddedDatabase
from app.db.models import Report, ReportStatus
from app.db.session import tenant_session
from app.main import create_app
from app.settings import Settings
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo
from tests.integration.notifications.conftest import SHA, report_data

pytestmark = pytest.mark.integration
TOKEN = "t0k3n-secret"
LOG = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/cart.py", line 42, in total\n'
    "ZeroDivisionError: division by zero"
)


async def _report(platform: Platform, repo_id: str | None) -> uuid.UUID:
    org = platform.local_org_id
    assert org is not None
    diagnosed = await engine.diagnose({"content": LOG})
    data = diagnosed.report.model_dump(mode="json")
    given = report_data()
    data.update(title=given["title"], culprit_file=given["culprit_file"],
                suspect_commits=given["suspect_commits"])  # fmt: skip
    data["culprit"] = {**data["culprit"], "line": 42}
    DiagnosisReport.model_validate(data)  # still a report this build renders
    async with tenant_session(platform.sessions, org) as session:
        report = Report(
            org_id=org, repo_id=uuid.UUID(repo_id) if repo_id else None,
            status=ReportStatus.COMPLETE,
            log_data={"content": "x"}, report_data=data, fingerprint="fp-1",
        )  # fmt: skip
        session.add(report)
        await session.commit()
        return report.id


async def _register(client: httpx.AsyncClient, fake: FakeServer, provider: str) -> str:
    body: dict[str, Any] = (
        {"provider": "github", "owner": "acme", "name": "shop"}
        if provider == "github"
        else {"provider": "azure_devops", "owner": "contoso", "project": "Shop", "name": "shop"}
    )
    base = fake.url if provider == "github" else f"{fake.url}/contoso"
    answer = await client.post(
        "/api/v1/repositories", json={**body, "base_url": base, "token": TOKEN}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_a_github_issue_once_with_a_pull_request_comment(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    with serve(GitHubHandler, build_sample_repo(tmp_path), token=TOKEN) as github:
        github.pulls[SHA] = [17]
        report = await _report(platform, await _register(client, github, "github"))
        assert (await client.get(f"/api/v1/reports/{report}/linked-issue")).json() is None
        first = await client.post(f"/api/v1/reports/{report}/linked-issue")
        again = await client.post(f"/api/v1/reports/{report}/linked-issue")
        shown = await client.get(f"/api/v1/reports/{report}/linked-issue")
    assert first.status_code == 201, first.text
    link = first.json()
    assert link["url"] == "https://github.com/acme/shop/issues/1" and link["created"] is True
    assert link["pull_request_comment_url"].startswith("https://github.com/acme/shop/pull/17#")
    assert again.status_code == 200 and again.json()["url"] == link["url"]
    assert again.json()["created"] is False
    assert shown.json()["url"] == link["url"]
    [issue] = github.issues
    assert issue["title"] == "ZeroDivisionError in checkout total"
    assert f"https://logdawg.example.com/reports/{report}" in issue["body"] or (
        f"/reports/{report}" in issue["body"]
    )
    assert "`src/app/cart.py:42`" in issue["body"] and "## " in issue["body"]  # the diagnosis
    [comment] = github.comments
    assert comment["number"] == 17 and SHA[:12] in comment["body"]
    assert link["url"] in comment["body"]


@pytest.mark.parametrize("provider", ["github", "azure_devops"])
async def test_an_issue_an_earlier_attempt_created_is_linked_not_created_again(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path, provider: str
) -> None:
    """An attempt whose issue reached the provider but whose answer (or record) was lost: the
    next one finds it by the report's link among the newest and links it, creating none."""
    from app.notifications.messages import report_link

    github = provider == "github"
    handler = GitHubHandler if github else AzureDevOpsHandler
    with serve(handler, build_sample_repo(tmp_path), token=TOKEN) as fake:
        repository = await _register(client, fake, provider)
        report = await _report(platform, repository)
        link = report_link(platform.settings.public_url, report)
        other = report_link(platform.settings.public_url, uuid.uuid4())
        if github:
            fake.issues += [
                {"number": 1, "title": "Lost answer", "body": f"[open the report]({link})"},
                {"number": 2, "title": "Another report's", "body": f"[the report]({other})"},
            ]
            lost, next_new = (
                "https://github.com/acme/shop/issues/1", "https://github.com/acme/shop/issues/3",
            )  # fmt: skip
        else:
            fake.issues += [
                {"id": 100 + n, "fields": {"System.Title": title, "System.Tags": tags},
                 "relations": [{"rel": "Hyperlink", "url": url}], "patch": []}
                for n, title, tags, url in (
                    (0, "Lost answer", "logdawg", link),
                    (1, "Another report's", "logdawg", other),
                    (2, "Someone's bug naming it", "triage", link),  # not ours: no tag
                )
            ]  # fmt: skip
            base = "https://dev.azure.com/contoso/Shop/_workitems/edit"
            lost, next_new = f"{base}/100", f"{base}/103"
        answer = await client.post(
            f"/api/v1/reports/{report}/linked-issue", json={"comment_on_pull_request": False}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["url"] == lost
        planted = len(fake.issues)
        fresh = await _report(platform, repository)
        created = await client.post(
            f"/api/v1/reports/{fresh}/linked-issue", json={"comment_on_pull_request": False}
        )
        assert created.json()["url"] == next_new
        assert len(fake.issues) == planted + 1  # only the fresh report's


async def test_a_read_only_github_token_is_a_clear_422(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    with serve(GitHubHandler, build_sample_repo(tmp_path), token=TOKEN) as github:
        github.read_only = True
        report = await _report(platform, await _register(client, github, "github"))
        refused = await client.post(f"/api/v1/reports/{report}/linked-issue")
        assert (await client.get(f"/api/v1/reports/{report}/linked-issue")).json() is None
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Issues: Read and write" in refused.json()["detail"]
    assert github.issues == []


async def test_an_azure_devops_work_item_with_a_pull_request_thread(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    with serve(AzureDevOpsHandler, build_sample_repo(tmp_path), token=TOKEN) as ado:
        ado.pulls[SHA] = [42]
        report = await _report(platform, await _register(client, ado, "azure_devops"))
        created = await client.post(f"/api/v1/reports/{report}/linked-issue")
        again = await client.post(f"/api/v1/reports/{report}/linked-issue")
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["provider"] == "azure_devops" and link["external_id"] == "100"
    assert link["url"] == "https://dev.azure.com/contoso/Shop/_workitems/edit/100"
    assert "/pullrequest/42?discussionId=1" in link["pull_request_comment_url"]
    assert again.status_code == 200 and len(ado.issues) == 1
    assert ado.content_types == ["application/json-patch+json"]
    [item] = ado.issues
    assert item["fields"]["System.Title"] == "ZeroDivisionError in checkout total"
    assert "src/app/cart.py:42" in item["fields"]["Microsoft.VSTS.TCM.ReproSteps"]
    assert {"op": "add", "path": "/multilineFieldsFormat/Microsoft.VSTS.TCM.ReproSteps",
            "value": "Markdown"} in item["patch"]  # fmt: skip
    assert item["relations"][0]["rel"] == "Hyperlink"
    assert item["relations"][0]["url"].endswith(f"/reports/{report}")
    [thread] = ado.comments
    assert thread["pull"] == 42 and SHA[:12] in thread["comments"][0]["content"]


async def test_a_report_without_a_repository_is_409(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    report = await _report(platform, None)
    answer = await client.post(f"/api/v1/reports/{report}/linked-issue")
    assert answer.status_code == 409 and "no repository" in answer.json()["detail"]
    missing = await client.post(f"/api/v1/reports/{uuid.uuid4()}/linked-issue")
    assert missing.status_code == 404


@pytest.fixture
async def committed(fresh_database: EmbeddedDatabase, tmp_path: Path) -> AsyncIterator[Platform]:
    """A platform on a database of its own, so concurrent requests really are concurrent."""
    settings = Settings(
        database_url=fresh_database.app_url, migration_database_url=fresh_database.owner_url,
        data_dir=tmp_path, public_url="https://logdawg.example.com",
    )  # fmt: skip
    platform = await bootstrap(settings)
    yield platform
    await platform.aclose()


async def test_concurrent_clicks_create_one_issue(committed: Platform, tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=create_app(platform=committed))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        with serve(GitHubHandler, build_sample_repo(tmp_path), token=TOKEN) as github:
            github.delay_s = 0.2  # both requests are in flight while the first creates
            report = await _report(committed, await _register(client, github, "github"))
            answers = await asyncio.gather(
                *[
                    client.post(
                        f"/api/v1/reports/{report}/linked-issue",
                        json={"comment_on_pull_request": False},
                    )
                    for _ in range(4)
                ]
            )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["url"] for a in answers}) == 1
    assert len(github.issues) == 1


async def test_a_rule_creates_the_github_issue_of_a_new_issue(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from app.issues.events import IssueEvent, IssueEventKind
    from app.notifications.delivery import Notifier
    from app.notifications.sink import NotificationSink

    org = platform.local_org_id
    assert org is not None
    rule = await client.post(
        "/api/v1/notification-rules",
        json={"name": "file it", "trigger": "new", "channel": "issue_tracker"},
    )
    assert rule.status_code == 201, rule.text
    notifier = Notifier(platform.sessions, platform.queue, platform.kek, platform.settings,
                        access=platform.access)  # fmt: skip
    try:
        with serve(GitHubHandler, build_sample_repo(tmp_path), token=TOKEN) as github:
            report = await _report(platform, await _register(client, github, "github"))
            event = IssueEvent(kind=IssueEventKind.NEW, org_id=org, repo_id=None,
                               issue_id=uuid.uuid4(), report_id=report,
                               occurred_at=datetime.now(UTC))  # fmt: skip
            async with tenant_session(platform.sessions, org) as session:
                await NotificationSink(platform.queue, platform.settings).publish(session, event)
                await session.commit()
            [job] = await platform.queue.claim_many("w", 5)
            assert await notifier(job) == "delivered"
        assert len(github.issues) == 1
        shown = (await client.get(f"/api/v1/reports/{report}/linked-issue")).json()
        assert shown["url"] == "https://github.com/acme/shop/issues/1"
        log = await client.get(f"/api/v1/notification-rules/{rule.json()['id']}/deliveries")
        assert [d["status"] for d in log.json()] == ["delivered"]
    finally:
        await notifier.aclose()
