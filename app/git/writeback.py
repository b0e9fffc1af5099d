"""Writing a finding back where the team works: a GitHub issue or an Azure DevOps work item,
and a comment on the pull request that brought in the suspect commit.

The calls (all documented REST endpoints):

- GitHub: ``POST /repos/{owner}/{repo}/issues``; ``GET /repos/{owner}/{repo}/commits/{sha}/pulls``
  (the pull requests associated with a commit); ``POST /repos/{owner}/{repo}/issues/{pr}/comments``.
  The token needs Issues: Read and write and Pull requests: Read and write (fine-grained PAT,
  or the GitHub App's permissions), or the ``repo`` scope (classic PAT).
- Azure DevOps (7.1): ``POST {org}/{project}/_apis/wit/workitems/$Bug`` with a JSON Patch body;
  ``POST .../git/repositories/{repo}/pullrequestquery`` (the pull requests that merged a
  commit); ``POST .../pullRequests/{id}/threads``. The PAT needs Work Items (Read & write) and
  Code (Read & write) for the comment.

A 403 from the provider raises ``WriteForbidden`` naming exactly that permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.git.azure_devops import VERSION, AzureDevOpsClient
from app.git.github import GitHubClient
from app.git.types import GitProviderError, RepoRef

BODY_LIMIT = 60_000  # GitHub's issue and comment bodies hold 65,536 characters


class WriteForbidden(GitProviderError):
    """The provider refused the write (403): the token lacks a write permission."""


class TrackerMissing(GitProviderError):
    """The repository (or its issue tracker) was not found."""


@dataclass(frozen=True)
class Created:
    external_id: str
    url: str


def _clip(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 40] + "\n\n… (shortened)"


def _github_root(repo: RepoRef) -> str:
    return f"/repos/{quote(repo.owner, safe='')}/{quote(repo.name, safe='')}"


GITHUB_ISSUES = (
    "the token needs Issues: Read and write (a fine-grained token or the GitHub App's "
    "permissions) or the repo scope (a classic token)"
)
GITHUB_PULLS = (
    "the token needs Pull requests: Read and write to comment on the pull request "
    "(or the repo scope)"
)
ADO_WORK_ITEMS = "the token needs the Work Items (Read & write) scope (vso.work_write)"
ADO_CODE_WRITE = "the token needs the Code (Read & write) scope to comment on the pull request"


# The tag on every work item write-back creates: how a retry finds the one it made.
ADO_TAG = "logdawg"


def _github_issues_missing(repo: RepoRef) -> TrackerMissing:
    return TrackerMissing(
        f"GitHub has no issues for {repo.label}: the repository was not found, the token "
        "cannot see it, or its Issues are turned off"
    )


def _ado_project_missing(repo: RepoRef) -> TrackerMissing:
    return TrackerMissing(
        f"Azure DevOps has no project {repo.project!r} in {repo.owner!r}, or the token "
        "cannot see it"
    )


def _work_item_created(item: dict[str, Any]) -> Created:
    """A work item as Azure DevOps answers it: its id and its web page (else its API URL)."""
    web = ((item.get("_links") or {}).get("html") or {}).get("href")
    return Created(str(item["id"]), str(web or item.get("url")))


async def github_issue(client: GitHubClient, repo: RepoRef, title: str, body: str) -> Created:
    answer = await client.http.request(
        "POST",
        f"{_github_root(repo)}/issues",
        accept="application/vnd.github+json",
        json_body={"title": title[:256], "body": _clip(body)},
        immutable=False,
        cacheable=False,
        not_found=_github_issues_missing(repo),
        forbidden=WriteForbidden(f"GitHub refused to create an issue in {repo.label} (403): "
                                 f"{GITHUB_ISSUES}"),
    )  # fmt: skip
    data = answer.json()
    return Created(str(data["number"]), str(data["html_url"]))


async def github_issue_holding(client: GitHubClient, repo: RepoRef, marker: str) -> Created | None:
    """The issue among the repository's 30 newest whose body holds ``marker`` (the report's
    link): one an earlier attempt created before its answer, or its record, was lost. GitHub's
    issue list is read, not its search, which indexes new issues only after a while."""
    answer = await client.http.request(
        "GET",
        f"{_github_root(repo)}/issues",
        params={"state": "all", "sort": "created", "direction": "desc", "per_page": "30"},
        accept="application/vnd.github+json",
        immutable=False,
        cacheable=False,
        not_found=_github_issues_missing(repo),
    )
    issues = answer.json()
    for issue in issues if isinstance(issues, list) else []:
        if (
            isinstance(issue, dict)
            and "pull_request" not in issue  # the list holds pull requests too
            and marker in str(issue.get("body") or "")
        ):
            return Created(str(issue["number"]), str(issue["html_url"]))
    return None


async def github_pull_request(client: GitHubClient, repo: RepoRef, sha: str) -> int | None:
    answer = await client.http.request(
        "GET",
        f"{_github_root(repo)}/commits/{quote(sha, safe='')}/pulls",
        accept="application/vnd.github+json",
        immutable=False,
        cacheable=False,
        not_found=TrackerMissing(f"GitHub knows no commit {sha[:12]} in {repo.label}"),
    )
    pulls = answer.json()
    if not isinstance(pulls, list):
        return None
    # The one that merged it, if any; otherwise the first that contains it.
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
    candidates = merged or [p for p in pulls if isinstance(p, dict)]
    return int(candidates[0]["number"]) if candidates else None


async def github_comment(client: GitHubClient, repo: RepoRef, number: int, body: str) -> str:
    answer = await client.http.request(
        "POST",
        f"{_github_root(repo)}/issues/{number}/comments",
        accept="application/vnd.github+json",
        json_body={"body": _clip(body)},
        immutable=False,
        cacheable=False,
        not_found=TrackerMissing(f"GitHub has no pull request #{number} in {repo.label}"),
        forbidden=WriteForbidden(f"GitHub refused the comment on #{number} (403): {GITHUB_PULLS}"),
    )
    return str(answer.json()["html_url"])


def _ado_collection(client: AzureDevOpsClient, repo: RepoRef) -> str:
    return client.collection(repo)


def _ado_project(client: AzureDevOpsClient, repo: RepoRef) -> str:
    return f"{_ado_collection(client, repo)}/{quote(repo.project or '', safe='')}"


async def azure_work_item(
    client: AzureDevOpsClient, repo: RepoRef, title: str, markdown: str, link: str
) -> Created:
    """A Bug whose Repro Steps hold the diagnosis as Markdown, with a hyperlink to the report."""
    patch: list[dict[str, Any]] = [
        {"op": "add", "path": "/fields/System.Title", "value": title[:255]},
        {"op": "add", "path": "/fields/Microsoft.VSTS.TCM.ReproSteps", "value": _clip(markdown)},
        {"op": "add", "path": "/multilineFieldsFormat/Microsoft.VSTS.TCM.ReproSteps",
         "value": "Markdown"},
        {"op": "add", "path": "/fields/System.Tags", "value": ADO_TAG},
        {"op": "add", "path": "/relations/-",
         "value": {"rel": "Hyperlink", "url": link, "attributes": {"comment": "Log Dawg report"}}},
    ]  # fmt: skip
    answer = await client.http.request(
        "POST",
        f"{_ado_project(client, repo)}/_apis/wit/workitems/$Bug",
        params={"api-version": VERSION},
        json_body=patch,
        content_type="application/json-patch+json",
        immutable=False,
        cacheable=False,
        not_found=_ado_project_missing(repo),
        forbidden=WriteForbidden(
            f"Azure DevOps refused to create a work item in {repo.label} (403): {ADO_WORK_ITEMS}"
        ),
    )
    return _work_item_created(answer.json())


_ADO_NEWEST_OURS = (  # WIQL made of constants only
    "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "  # noqa: S608
    f"AND [System.Tags] CONTAINS '{ADO_TAG}' ORDER BY [System.CreatedDate] DESC"
)


async def azure_work_item_holding(
    client: AzureDevOpsClient, repo: RepoRef, link: str
) -> Created | None:
    """The work item among the project's 30 newest tagged ``logdawg`` whose Hyperlink is
    ``link`` (the report): one an earlier attempt created before its answer, or its record,
    was lost. A WIQL query on the tag (a field, not the full-text index), then the items with
    their relations."""
    missing = _ado_project_missing(repo)
    project = _ado_project(client, repo)
    found = await client.http.request(
        "POST",
        f"{project}/_apis/wit/wiql",
        params={"$top": "30", "api-version": VERSION},
        json_body={"query": _ADO_NEWEST_OURS},
        immutable=False,
        cacheable=False,
        not_found=missing,
    )
    listed = found.json().get("workItems") if isinstance(found.json(), dict) else None
    ids = [str(w["id"]) for w in listed or [] if isinstance(w, dict) and "id" in w][:30]
    if not ids:
        return None
    answer = await client.http.request(
        "GET",
        f"{project}/_apis/wit/workitems",
        params={"ids": ",".join(ids), "$expand": "all", "api-version": VERSION},
        immutable=False,
        cacheable=False,
        not_found=missing,
    )
    items = answer.json().get("value") if isinstance(answer.json(), dict) else None
    for item in items or []:
        relations = item.get("relations") if isinstance(item, dict) else None
        if any(
            isinstance(r, dict) and r.get("rel") == "Hyperlink" and r.get("url") == link
            for r in relations or []
        ):
            return _work_item_created(item)
    return None


def _ado_repository(client: AzureDevOpsClient, repo: RepoRef) -> str:
    return f"{_ado_project(client, repo)}/_apis/git/repositories/{quote(repo.name, safe='')}"


async def azure_pull_request(client: AzureDevOpsClient, repo: RepoRef, sha: str) -> int | None:
    """The pull request that merged ``sha`` (the Pull Request Query API, type ``commit``)."""
    answer = await client.http.request(
        "POST",
        f"{_ado_repository(client, repo)}/pullrequestquery",
        params={"api-version": VERSION},
        json_body={"queries": [{"type": "commit", "items": [sha]}]},
        immutable=False,
        cacheable=False,
        not_found=TrackerMissing(f"Azure DevOps has no repository {repo.label}"),
    )
    results = answer.json().get("results") or []
    for result in results:
        for pulls in (result or {}).values():
            for pull in pulls or []:
                if isinstance(pull, dict) and pull.get("pullRequestId"):
                    return int(pull["pullRequestId"])
    return None


async def azure_comment(client: AzureDevOpsClient, repo: RepoRef, pull_id: int, body: str) -> str:
    answer = await client.http.request(
        "POST",
        f"{_ado_repository(client, repo)}/pullRequests/{pull_id}/threads",
        params={"api-version": VERSION},
        json_body={
            "comments": [{"parentCommentId": 0, "content": _clip(body), "commentType": 1}],
            "status": 1,
        },
        immutable=False,
        cacheable=False,
        not_found=TrackerMissing(f"Azure DevOps has no pull request {pull_id} in {repo.label}"),
        forbidden=WriteForbidden(
            f"Azure DevOps refused the comment on pull request {pull_id} (403): {ADO_CODE_WRITE}"
        ),
    )
    thread = answer.json()
    web = f"{_ado_project(client, repo)}/_git/{quote(repo.name, safe='')}/pullrequest/{pull_id}"
    return f"{web}?discussionId={thread.get('id')}"
