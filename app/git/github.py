"""GitHub (and GitHub Enterprise Server) over the REST API, version 2022-11-28.

Requests per diagnosis are kept low: a ref is resolved with the ``vnd.github.sha`` media type
(a 40-byte answer, revalidated with its ETag), the whole tree comes from one recursive Git Trees
call, files from the contents API (raw) or, above 1 MB, the blobs API, and history from the
commits API filtered by path. Everything addressed by a SHA is cached for good.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from app.git.cache import ResponseCache
from app.git.diffs import Hunk, hunks
from app.git.http import HttpPolicy, RestClient
from app.git.tokens import TokenSource
from app.git.types import (
    BadCredentials,
    CommitMeta,
    FileMeta,
    PathNotFound,
    RefNotFound,
    RepoRef,
    RepositoryNotFound,
    parse_datetime,
    safe_path,
)

API = "https://api.github.com"
API_VERSION = "2022-11-28"
CONTENTS_LIMIT = 1024 * 1024  # the contents API serves files up to 1 MB; larger via blobs
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
BLAME_QUERY = """
query($owner: String!, $name: String!, $expr: String!, $path: String!) {
  repository(owner: $owner, name: $name) {
    object(expression: $expr) {
      ... on Commit {
        blame(path: $path) {
          ranges {
            startingLine
            endingLine
            commit { oid messageHeadline committedDate url author { name email } }
          }
        }
      }
    }
  }
}
"""


class GitHubClient(RestClient):
    provider = "GitHub"

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
        headers = {"X-GitHub-Api-Version": API_VERSION}
        if isinstance(token, str) and token:
            headers["Authorization"] = f"Bearer {token}"
        super().__init__(
            token,
            base_url=base_url or API,
            auth_headers=headers,
            cache=cache,
            cache_scope=cache_scope,
            policy=policy,
            transport=transport,
        )
        self._trees: dict[str, list[FileMeta]] = {}

    @staticmethod
    def _root(repo: RepoRef) -> str:
        return f"/repos/{quote(repo.owner, safe='')}/{quote(repo.name, safe='')}"

    @staticmethod
    def _missing(repo: RepoRef) -> RepositoryNotFound:
        return RepositoryNotFound(
            f"{repo.label} was not found on GitHub, or the token cannot read it"
        )

    async def resolve_ref(self, repo: RepoRef, ref: str) -> str:
        if not ref or ref.startswith("-") or len(ref) > 255:
            raise RefNotFound(f"{ref!r} is not a ref")
        answer = await self.http.request(
            "GET",
            f"{self._root(repo)}/commits/{quote(ref, safe='')}",
            accept="application/vnd.github.sha",
            immutable=bool(_FULL_SHA.match(ref)),
            not_found=RefNotFound(f"{repo.label} has no branch, tag or commit {ref!r}"),
            max_bytes=1024,
        )
        sha = answer.body.decode(errors="replace").strip()
        if not _FULL_SHA.match(sha):
            raise RefNotFound(f"{repo.label} has no branch, tag or commit {ref!r}")
        return sha

    async def _sha(self, repo: RepoRef, ref: str) -> str:
        return ref if _FULL_SHA.match(ref) else await self.resolve_ref(repo, ref)

    async def _tree(self, repo: RepoRef, sha: str, *, recursive: bool) -> dict[str, Any]:
        answer = await self.http.request(
            "GET",
            f"{self._root(repo)}/git/trees/{sha}",
            params={"recursive": "1"} if recursive else None,
            immutable=True,
            not_found=self._missing(repo),
        )
        body = answer.json()
        return body if isinstance(body, dict) else {}

    async def list_files(self, repo: RepoRef, ref: str) -> list[FileMeta]:
        sha = await self._sha(repo, ref)
        if sha in self._trees:
            return self._trees[sha]
        tree = await self._tree(repo, sha, recursive=True)
        if tree.get("truncated"):
            # GitHub caps recursive trees; walk the sub-trees instead of returning a part.
            files = await self._walk(repo, sha, "")
        else:
            files = [
                FileMeta(e["path"], e.get("size"), e["sha"])
                for e in tree.get("tree", [])
                if e.get("type") == "blob"
            ]
        self._trees[sha] = files
        return files

    async def _walk(self, repo: RepoRef, tree_sha: str, prefix: str) -> list[FileMeta]:
        tree = await self._tree(repo, tree_sha, recursive=False)
        files: list[FileMeta] = []
        for entry in tree.get("tree", []):
            path = f"{prefix}{entry['path']}"
            if entry.get("type") == "blob":
                files.append(FileMeta(path, entry.get("size"), entry["sha"]))
            elif entry.get("type") == "tree":
                files.extend(await self._walk(repo, entry["sha"], path + "/"))
        return files

    async def get_file_content(self, repo: RepoRef, path: str, ref: str) -> bytes:
        path = safe_path(path)
        sha = await self._sha(repo, ref)
        meta = next((f for f in await self.list_files(repo, sha) if f.path == path), None)
        if meta is None:
            raise PathNotFound(f"{repo.label} has no file {path} at {sha[:12]}")
        if meta.size is not None and meta.size > CONTENTS_LIMIT:
            answer = await self.http.request(
                "GET",
                f"{self._root(repo)}/git/blobs/{meta.blob_id}",
                accept="application/vnd.github.raw+json",
                immutable=True,
                not_found=PathNotFound(f"{repo.label} has no blob for {path}"),
            )
            return answer.body
        answer = await self.http.request(
            "GET",
            f"{self._root(repo)}/contents/{quote(path)}",
            params={"ref": sha},
            accept="application/vnd.github.raw+json",
            immutable=True,
            not_found=PathNotFound(f"{repo.label} has no file {path} at {sha[:12]}"),
        )
        return answer.body

    def _commit(self, repo: RepoRef, item: dict[str, Any]) -> CommitMeta:
        commit = item.get("commit") or {}
        author = commit.get("author") or {}
        return CommitMeta(
            sha=item.get("sha", ""),
            author_name=author.get("name"),
            author_email=author.get("email"),
            date=parse_datetime(author.get("date")),
            message=commit.get("message", ""),
            web_url=item.get("html_url"),
            parents=tuple(p.get("sha", "") for p in item.get("parents") or []),
            files=tuple(f.get("filename", "") for f in item.get("files") or []),
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
        params = {"sha": sha, "per_page": str(min(max(limit, 1), 100))}
        if path:
            params["path"] = safe_path(path)
        url: str | None = f"{self._root(repo)}/commits"
        commits: list[CommitMeta] = []
        while url and len(commits) < limit:
            answer = await self.http.request(
                "GET", url, params=params, immutable=True, not_found=self._missing(repo)
            )
            page = answer.json()
            if not isinstance(page, list):
                break
            for item in page:
                commit = self._commit(repo, item)
                if since is not None and commit.date is not None and commit.date < since:
                    return commits  # newest first: everything after is older
                commits.append(commit)
            url, params = self._next_page(answer.headers.get("link", "")), {}
        return commits[:limit]

    def _next_page(self, link: str) -> str | None:
        """The path of the next page; a link to anywhere but this API is not followed."""
        found = _NEXT.search(link)
        base = self.http.base_url + "/"
        if found is None or not found.group(1).startswith(base):
            return None
        return "/" + found.group(1)[len(base) :]

    async def _commit_detail(self, repo: RepoRef, sha: str) -> dict[str, Any]:
        answer = await self.http.request(
            "GET",
            f"{self._root(repo)}/commits/{sha}",
            immutable=bool(_FULL_SHA.match(sha)),
            not_found=RefNotFound(f"{repo.label} has no commit {sha}"),
        )
        body = answer.json()
        return body if isinstance(body, dict) else {}

    async def get_commit(self, repo: RepoRef, sha: str) -> CommitMeta:
        return self._commit(repo, await self._commit_detail(repo, sha))

    def _graphql_url(self) -> str:
        base = self.http.base_url
        # github.com: api.github.com/graphql; Enterprise Server: HOST/api/graphql.
        return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"

    async def blame_line(self, repo: RepoRef, sha: str, path: str, line: int) -> CommitMeta | None:
        """One GraphQL request; None when the token may not use GraphQL or has no answer."""
        try:
            answer = await self.http.request(
                "POST",
                self._graphql_url(),
                json_body={
                    "query": BLAME_QUERY,
                    "variables": {
                        "owner": repo.owner,
                        "name": repo.name,
                        "expr": await self._sha(repo, sha),
                        "path": safe_path(path),
                    },
                },
                immutable=True,
                not_found=self._missing(repo),
            )
        except (BadCredentials, RepositoryNotFound, PathNotFound):
            return None
        ranges = (
            ((((answer.json() or {}).get("data") or {}).get("repository") or {}).get("object")
             or {}).get("blame", {}).get("ranges") or []
        )  # fmt: skip
        for blamed in ranges:
            if blamed.get("startingLine", 0) <= line <= blamed.get("endingLine", -1):
                commit = blamed.get("commit") or {}
                author = commit.get("author") or {}
                return CommitMeta(
                    sha=commit.get("oid", ""),
                    author_name=author.get("name"),
                    author_email=author.get("email"),
                    date=parse_datetime(commit.get("committedDate")),
                    message=commit.get("messageHeadline", ""),
                    web_url=commit.get("url"),
                )
        return None

    async def changed_lines(self, repo: RepoRef, sha: str, path: str) -> list[Hunk]:
        path = safe_path(path)
        detail = await self._commit_detail(repo, sha)
        for changed in detail.get("files") or []:
            if changed.get("filename") == path:
                return hunks(changed.get("patch") or "")
        return []
