"""The engine's view of a repository (``CodeSource``) over any ``GitProvider``.

Provider errors become ``SourceError``: transient ones (rate limits, an unavailable provider)
are retried by the job; the others (bad credentials, no access, unknown ref) are written into
the report for a person to fix.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.analysis.engine import SourceError
from app.analysis.report import SuspectCommit
from app.git.diffs import Hunk
from app.git.local import LocalGitProvider
from app.git.types import CommitMeta, GitProvider, GitProviderError, Provider, RepoRef


class ProviderSource:
    def __init__(self, provider: GitProvider, repo: RepoRef) -> None:
        self.provider = provider
        self.repo = repo

    @property
    def requests(self) -> int:
        return self.provider.requests

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def resolve(self, ref: str) -> str:
        try:
            return await self.provider.resolve_ref(self.repo, ref)
        except GitProviderError as exc:
            raise SourceError(str(exc), transient=exc.transient) from None

    async def list_paths(self, sha: str) -> dict[str, int | None]:
        try:
            return {f.path: f.size for f in await self.provider.list_files(self.repo, sha)}
        except GitProviderError as exc:
            raise SourceError(str(exc), transient=exc.transient) from None

    async def read(self, path: str, sha: str) -> bytes:
        try:
            return await self.provider.get_file_content(self.repo, path, sha)
        except GitProviderError as exc:
            raise SourceError(str(exc), transient=exc.transient) from None

    async def path_commits(
        self, path: str, sha: str, since: datetime, limit: int
    ) -> list[SuspectCommit]:
        try:
            commits = await self.provider.list_commits(
                self.repo, ref=sha, path=path, since=since, limit=limit
            )
        except GitProviderError as exc:
            raise SourceError(str(exc), transient=exc.transient) from None
        return [self._suspect(c, path) for c in commits]

    async def blame(self, path: str, sha: str, line: int) -> SuspectCommit | None:
        try:
            commit = await self.provider.blame_line(self.repo, sha, path, line)
        except GitProviderError as exc:
            if exc.transient:
                raise SourceError(str(exc), transient=True) from None
            return None
        return self._suspect(commit, path) if commit is not None else None

    @staticmethod
    def _suspect(commit: CommitMeta, path: str) -> SuspectCommit:
        return SuspectCommit(
            sha=commit.sha,
            author=commit.author_name,
            date=commit.date.isoformat() if commit.date else None,
            message=commit.message.splitlines()[0] if commit.message else "",
            url=commit.web_url,
            files=[path],
        )

    async def changed_lines(self, commit_sha: str, path: str) -> list[Hunk] | None:
        try:
            return await self.provider.changed_lines(self.repo, commit_sha, path)
        except GitProviderError as exc:
            if exc.transient:
                raise SourceError(str(exc), transient=True) from None
            return None


class GitCheckoutSource(ProviderSource):
    """A local checkout (the CLI, single-tenant platforms)."""

    def __init__(self, root: Path) -> None:
        super().__init__(
            LocalGitProvider(root),
            RepoRef(provider=Provider.LOCAL, owner="", name=root.name, base_url=str(root)),
        )
