"""Azure DevOps Services (and Azure DevOps Server) Git over REST API 7.1.

Items with ``recursionLevel=Full`` list a commit's tree in one call; item content comes as an
octet stream; history comes from Commits with ``searchCriteria.itemPath``; the lines one commit
changed in a file come from the File Diffs API. Authentication is a PAT (HTTP Basic with an
empty user name) or an Entra ID access token (Bearer).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from app.git.cache import ResponseCache
from app.git.diffs import Hunk
from app.git.http import HttpPolicy, RestClient
from app.git.tokens import TokenSource
from app.git.types import (
    CommitMeta,
    FileMeta,
    PathNotFound,
    RefNotFound,
    RepoRef,
    RepositoryNotFound,
    parse_datetime,
    safe_path,
)

API = "https://dev.azure.com"
VERSION = "7.1"
FILE_DIFFS_VERSION = "7.1-preview.1"
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def auth_headers(token: str | None) -> dict[str, str]:
    """An Entra ID access token is a JWT (three base64url parts); anything else is a PAT."""
    if not token:
        return {}
    if token.count(".") == 2 and token.startswith("eyJ"):
        return {"Authorization": f"Bearer {token}"}
    basic = base64.b64encode(f":{token}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


class AzureDevOpsClient(RestClient):
    provider = "Azure DevOps"

    def __init__(
        self,
        token: str | TokenSource | None,
        *,
        cache: ResponseCache,
        cache_scope: str,
        base_url: str | None = None,
        policy: HttpPolicy | None = None,
        transport: Any = None,
    ) -> None:
        # Requests carry whole URLs: the organisation is part of each repository's root.
        super().__init__(
            token,
            base_url="",
            # A token source (Entra ID) sets a fresh Bearer token on each request.
            auth_headers=auth_headers(token) if isinstance(token, str) or token is None else {},
            cache=cache,
            cache_scope=cache_scope,
            policy=policy,
            transport=transport,
        )
        self._base_url = base_url

    def __repr__(self) -> str:
        return f"AzureDevOpsClient({self._base_url or API})"

    def collection(self, repo: RepoRef) -> str:
        """The organisation's (or Azure DevOps Server collection's) URL."""
        return (self._base_url or f"{API}/{quote(repo.owner, safe='')}").rstrip("/")

    def _root(self, repo: RepoRef) -> str:
        collection = self.collection(repo)
        project = quote(repo.project or "", safe="")
        return f"{collection}/{project}/_apis/git/repositories/{quote(repo.name, safe='')}"

    @staticmethod
    def _missing(repo: RepoRef) -> RepositoryNotFound:
        return RepositoryNotFound(
            f"{repo.label} was not found on Azure DevOps, or the token cannot read it "
            "(it needs Code (Read))"
        )

    async def _get(
        self,
        repo: RepoRef,
        path: str,
        params: dict[str, str],
        *,
        immutable: bool,
        not_found: Exception | None = None,
        accept: str = "application/json",
    ) -> Any:
        answer = await self.http.request(
            "GET",
            self._root(repo) + path,
            params={**params, "api-version": VERSION},
            accept=accept,
            immutable=immutable,
            not_found=not_found or self._missing(repo),  # type: ignore[arg-type]
        )
        return answer.body if accept != "application/json" else answer.json()

    async def resolve_ref(self, repo: RepoRef, ref: str) -> str:
        missing = RefNotFound(f"{repo.label} has no branch, tag or commit {ref!r}")
        if not ref or ref.startswith("-") or len(ref) > 255:
            raise missing
        if _FULL_SHA.match(ref):
            body = await self._get(repo, f"/commits/{ref}", {}, immutable=True, not_found=missing)
            return str(body.get("commitId", ref))
        for kind in ("heads", "tags"):
            body = await self._get(
                repo,
                "/refs",
                {"filter": f"{kind}/{ref}", "peelTags": "true"},
                immutable=False,
                not_found=missing,
            )
            for item in body.get("value", []):
                if item.get("name") == f"refs/{kind}/{ref}":
                    return str(item.get("peeledObjectId") or item["objectId"])
        raise missing

    async def _sha(self, repo: RepoRef, ref: str) -> str:
        return ref if _FULL_SHA.match(ref) else await self.resolve_ref(repo, ref)

    @staticmethod
    def _version(sha: str) -> dict[str, str]:
        return {"versionDescriptor.version": sha, "versionDescriptor.versionType": "commit"}

    async def list_files(self, repo: RepoRef, ref: str) -> list[FileMeta]:
        sha = await self._sha(repo, ref)
        body = await self._get(
            repo,
            "/items",
            {"scopePath": "/", "recursionLevel": "Full", **self._version(sha)},
            immutable=True,
        )
        return [
            FileMeta(item["path"].lstrip("/"), item.get("size"), item.get("objectId", ""))
            for item in body.get("value", [])
            if item.get("gitObjectType") == "blob" and not item.get("isFolder")
        ]

    async def get_file_content(self, repo: RepoRef, path: str, ref: str) -> bytes:
        path = safe_path(path)
        sha = await self._sha(repo, ref)
        content: bytes = await self._get(
            repo,
            "/items",
            {
                "path": f"/{path}",
                "$format": "octetStream",
                "download": "true",
                **self._version(sha),
            },
            immutable=True,
            not_found=PathNotFound(f"{repo.label} has no file {path} at {sha[:12]}"),
            accept="application/octet-stream",
        )
        return content

    def _commit(self, item: dict[str, Any]) -> CommitMeta:
        author = item.get("author") or {}
        changes = item.get("changes") or []
        return CommitMeta(
            sha=item.get("commitId", ""),
            author_name=author.get("name"),
            author_email=author.get("email"),
            date=parse_datetime(author.get("date")),
            message=item.get("comment", ""),
            web_url=item.get("remoteUrl"),
            parents=tuple(item.get("parents") or ()),
            files=tuple(c["item"]["path"].lstrip("/") for c in changes if c.get("item")),
        )

    async def list_commits(
        self,
        repo: RepoRef,
        *,
        ref: str,
        path: str | None = None,
        since: datetime | None = None,
        limit: int = 30,
    ) -> list[CommitMeta]:
        sha = await self._sha(repo, ref)
        params = {
            "searchCriteria.itemVersion.version": sha,
            "searchCriteria.itemVersion.versionType": "commit",
            "searchCriteria.$top": str(min(max(limit, 1), 1000)),
        }
        if path:
            params["searchCriteria.itemPath"] = f"/{safe_path(path)}"
        body = await self._get(repo, "/commits", params, immutable=True)
        commits = [self._commit(item) for item in body.get("value", [])]
        if since is not None:
            commits = [c for c in commits if c.date is None or c.date >= since]
        return commits[:limit]

    async def get_commit(self, repo: RepoRef, sha: str) -> CommitMeta:
        missing = RefNotFound(f"{repo.label} has no commit {sha}")
        body = await self._get(repo, f"/commits/{sha}", {}, immutable=True, not_found=missing)
        changes = await self._get(
            repo, f"/commits/{sha}/changes", {}, immutable=True, not_found=missing
        )
        return self._commit({**body, "changes": changes.get("changes", [])})

    async def blame_line(self, repo: RepoRef, sha: str, path: str, line: int) -> CommitMeta | None:
        return None  # Azure DevOps has no blame API; history by path and file diffs serve

    async def changed_lines(self, repo: RepoRef, sha: str, path: str) -> list[Hunk]:
        path = safe_path(path)
        missing = RefNotFound(f"{repo.label} has no commit {sha}")
        body = await self._get(repo, f"/commits/{sha}", {}, immutable=True, not_found=missing)
        parents = body.get("parents") or []
        if not parents:
            return [Hunk(0, 0, 1, 1_000_000)]  # the first commit wrote every line
        answer = await self.http.request(
            "POST",
            self._root(repo) + "/filediffs",
            params={"api-version": FILE_DIFFS_VERSION},
            json_body={
                "baseVersionCommit": parents[0],
                "targetVersionCommit": sha,
                "fileDiffParams": [{"path": f"/{path}", "originalPath": f"/{path}"}],
            },
            immutable=True,
            not_found=missing,
        )
        found: list[Hunk] = []
        for diff in answer.json() or []:
            for block in diff.get("lineDiffBlocks") or []:
                if block.get("changeType") in ("none", 0):
                    continue
                found.append(
                    Hunk(
                        int(block.get("originalLineNumberStart") or 0),
                        int(block.get("originalLinesCount") or 0),
                        int(block.get("modifiedLineNumberStart") or 0),
                        int(block.get("modifiedLinesCount") or 0),
                    )
                )
        return found
