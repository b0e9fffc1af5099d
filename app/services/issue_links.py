"""Creating the GitHub issue or Azure DevOps work item of a report, once.

Two people clicking at once must not create two issues: the creation runs under a
transaction-scoped advisory lock on the report, and the second caller, once the first has
committed, finds the link and gets it back. The caller commits.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.analysis.markdown import render_markdown
from app.analysis.report import DiagnosisReport
from app.db.models import Provider, Report, ReportIssueLink, Repository
from app.git import writeback
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache
from app.git.factory import provider_for
from app.git.github import GitHubClient
from app.git.tokens import InstallationTokenSource
from app.git.types import GitProviderError, RepoRef
from app.notifications.messages import culprit_of, report_link, suspect_of
from app.secrets.base import KeyWrapper
from app.services.repository_access import RepositoryAccess
from app.settings import Settings

logger = logging.getLogger(__name__)


class CannotLink(Exception):
    """The report cannot have an issue (no diagnosis yet, no repository, a local one)."""


@dataclass(frozen=True)
class LinkResult:
    link: ReportIssueLink
    created: bool
    # Why the pull request was not commented on, when it was asked for and did not happen.
    pull_request_note: str | None = None


async def link_of(session: AsyncSession, report_id: uuid.UUID) -> ReportIssueLink | None:
    found: ReportIssueLink | None = await session.scalar(
        select(ReportIssueLink).where(ReportIssueLink.report_id == report_id)
    )
    return found


def _body(diagnosis: DiagnosisReport, data: dict[str, Any], link: str) -> str:
    header = [
        f"**Log Dawg** diagnosed this error: [open the report]({link})",
        "",
        f"- Culprit: `{culprit_of(data) or 'unknown'}`",
    ]
    suspect = suspect_of(data)
    if suspect:
        header.append(f"- Suspect commit: `{suspect['sha'][:12]}` {suspect['message']}")
    return "\n".join(header) + "\n\n---\n\n" + render_markdown(diagnosis)


def _comment(title: str, issue_url: str, link: str, sha: str) -> str:
    return (
        f"**Log Dawg**: commit `{sha[:12]}` of this pull request is the suspect of an error: "
        f"**{title}**.\n\nDiagnosis: {link}\nTracked in: {issue_url}"
    )


async def create_link(
    session: AsyncSession,
    report: Report,
    *,
    kek: KeyWrapper,
    access: RepositoryAccess,
    settings: Settings,
    created_by: uuid.UUID | None,
    comment_on_pull_request: bool,
    transport: Any = None,
) -> LinkResult:
    """The report's issue: the existing one, or a new one (``created``). Provider errors
    (``GitProviderError``, ``WriteForbidden`` among them) propagate with a person's message."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"logdawg:issue-link:{report.id}"},
    )
    existing = await link_of(session, report.id)
    if existing is not None:
        return LinkResult(existing, created=False)
    data = report.report_data
    if data is None:
        raise CannotLink(f"Report {report.id} has no diagnosis yet ({report.status}).")
    try:
        diagnosis = DiagnosisReport.model_validate(data)
    except ValidationError:
        raise CannotLink(
            f"Report {report.id} was stored in a form this build cannot render; re-run it."
        ) from None
    repository = await session.get(Repository, report.repo_id) if report.repo_id else None
    if repository is None:
        raise CannotLink(
            "The report has no repository to create an issue in: register the repository "
            "and send logs naming it."
        )
    if repository.provider is Provider.LOCAL:
        raise CannotLink("A local repository has no issue tracker.")
    repo = RepoRef.of(repository)
    token = await access.credential_for(session, kek, repository)
    if isinstance(token, InstallationTokenSource):
        token = token.for_writing()
    client = await provider_for(
        repo,
        token,
        settings,
        cache=MemoryCache(max_bytes=1024 * 1024),
        cache_scope=f"writeback:{repository.id}",
        transport=transport,
    )
    link = report_link(settings.public_url, report.id)
    note: str | None = None
    try:
        body = _body(diagnosis, data, link)
        if isinstance(client, GitHubClient):
            made = await writeback.github_issue_holding(
                client, repo, link
            ) or await writeback.github_issue(client, repo, diagnosis.title, body)
        elif isinstance(client, AzureDevOpsClient):
            made = await writeback.azure_work_item_holding(
                client, repo, link
            ) or await writeback.azure_work_item(client, repo, diagnosis.title, body, link)
        else:  # pragma: no cover - local providers were refused above
            raise CannotLink("This repository's provider has no issue tracker.")
        row = ReportIssueLink(
            org_id=report.org_id,
            report_id=report.id,
            repo_id=repository.id,
            provider=repository.provider.value,
            external_id=made.external_id,
            url=made.url,
            created_by=created_by,
        )
        session.add(row)
        await session.flush()
        suspect = suspect_of(data)
        if comment_on_pull_request and suspect and suspect["sha"]:
            try:
                row.pull_request_comment_url = await _comment_on_pull(
                    client, repo, suspect["sha"], _comment(diagnosis.title, made.url, link,
                                                           suspect["sha"])
                )  # fmt: skip
                if row.pull_request_comment_url is None:
                    note = f"No pull request brought in commit {suspect['sha'][:12]}."
            except GitProviderError as exc:
                # The issue exists: keep it; say why the comment did not happen.
                note = f"The issue was created, but not the pull request comment: {exc}"
                logger.warning("report %s: pull request comment failed: %s", report.id, exc)
            await session.flush()
        elif comment_on_pull_request:
            note = "The diagnosis names no suspect commit, so no pull request was commented on."
    finally:
        await client.aclose()
    return LinkResult(row, created=True, pull_request_note=note)


async def _comment_on_pull(
    client: GitHubClient | AzureDevOpsClient, repo: RepoRef, sha: str, body: str
) -> str | None:
    if isinstance(client, GitHubClient):
        number = await writeback.github_pull_request(client, repo, sha)
        return (
            None if number is None else await writeback.github_comment(client, repo, number, body)
        )
    pull = await writeback.azure_pull_request(client, repo, sha)
    return None if pull is None else await writeback.azure_comment(client, repo, pull, body)
