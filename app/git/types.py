"""What every git provider speaks: repository references, files, commits and errors."""

from __future__ import annotations

import enum
import posixpath
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.git.diffs import Hunk


class Provider(enum.StrEnum):
    """Where a repository lives. Defined here, on the git side, so that the diagnosis engine
    and the terminal command never import the database layer (``app.db.models`` re-exports
    it for the tables)."""

    GITHUB = "github"
    AZURE_DEVOPS = "azure_devops"
    LOCAL = "local"


class RepositoryRecord(Protocol):
    """What ``RepoRef.of`` reads from a registered repository (the database row)."""

    @property
    def provider(self) -> Provider: ...
    @property
    def owner(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def project(self) -> str | None: ...
    @property
    def default_branch(self) -> str: ...
    @property
    def base_url(self) -> str | None: ...


@dataclass(frozen=True)
class RepoRef:
    """A repository as the provider addresses it. ``owner`` is the GitHub owner or the Azure
    DevOps organisation; ``base_url`` the GitHub Enterprise API root, the Azure DevOps Server
    collection URL, or a local checkout's path."""

    provider: Provider
    owner: str
    name: str
    project: str | None = None
    default_branch: str = "main"
    base_url: str | None = None

    @classmethod
    def of(cls, repository: RepositoryRecord) -> RepoRef:
        return cls(
            provider=repository.provider,
            owner=repository.owner,
            name=repository.name,
            project=repository.project,
            default_branch=repository.default_branch,
            base_url=repository.base_url,
        )

    @property
    def label(self) -> str:
        if self.provider is Provider.LOCAL:
            return self.base_url or self.name
        return "/".join(p for p in (self.owner, self.project, self.name) if p)


@dataclass(frozen=True)
class FileMeta:
    path: str
    size: int | None
    blob_id: str


@dataclass(frozen=True)
class CommitMeta:
    sha: str
    author_name: str | None
    author_email: str | None
    date: datetime | None
    message: str
    web_url: str | None = None
    parents: tuple[str, ...] = ()
    # Paths the commit changed; filled when the provider's answer includes them.
    files: tuple[str, ...] = field(default=())


class GitProvider(Protocol):
    """Reads a repository through its provider. Every method is addressed by a ref or commit;
    nothing is cloned. ``requests`` counts the calls that went to the provider."""

    @property
    def requests(self) -> int: ...

    async def aclose(self) -> None:
        """Release connections (HTTP clients); the provider is not used afterwards."""
        ...

    async def resolve_ref(self, repo: RepoRef, ref: str) -> str:
        """A branch, tag or (short) commit SHA → the full commit SHA."""
        ...

    async def list_files(self, repo: RepoRef, ref: str) -> list[FileMeta]: ...

    async def get_file_content(self, repo: RepoRef, path: str, ref: str) -> bytes: ...

    async def list_commits(
        self,
        repo: RepoRef,
        *,
        ref: str,
        path: str | None = None,
        since: datetime | None = None,
        limit: int = 30,
    ) -> list[CommitMeta]:
        """Commits reachable from ``ref`` (touching ``path`` when given), newest first."""
        ...

    async def get_commit(self, repo: RepoRef, sha: str) -> CommitMeta:
        """One commit with the paths it changed."""
        ...

    async def blame_line(self, repo: RepoRef, sha: str, path: str, line: int) -> CommitMeta | None:
        """The commit that last changed ``line`` of ``path`` at ``sha``, where the provider can
        tell in one request (GitHub's GraphQL blame, ``git blame``); None where it cannot
        (Azure DevOps has no blame API, or the token is not allowed GraphQL)."""
        ...

    async def changed_lines(self, repo: RepoRef, sha: str, path: str) -> list[Hunk]:
        """The hunks of commit ``sha``'s diff of ``path`` against its first parent, in both
        numberings (so a line can be followed back through the commit)."""
        ...


# --- errors a user can act on -----------------------------------------------------------------


class GitProviderError(Exception):
    """Base of every provider error. Messages are for people and never carry a token."""

    transient = False


class BadCredentials(GitProviderError):
    pass


class RepositoryNotFound(GitProviderError):
    """Not found, or the token has no access (providers answer both with 404)."""


class RefNotFound(GitProviderError):
    pass


class PathNotFound(GitProviderError):
    pass


class RateLimited(GitProviderError):
    transient = True

    def __init__(self, message: str, until: datetime | None) -> None:
        super().__init__(message)
        self.until = until


class ProviderUnavailable(GitProviderError):
    transient = True


class Refused(GitProviderError):
    """A request this platform will not make: an unsafe base URL or path, a local checkout
    in multi-tenant mode, a response over the size cap."""


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 timestamp as the providers send it (``2025-06-30T01:24:27Z``)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def safe_path(path: str) -> str:
    """A repository-relative path, normalised; anything that could leave the repository is
    refused (``..`` segments, absolute paths after normalisation, NULs)."""
    cleaned = path.replace("\\", "/").strip()
    if not cleaned or "\x00" in cleaned:
        raise Refused("an empty or invalid path")
    parts = cleaned.strip("/").split("/")
    if any(p == ".." for p in parts):
        raise Refused(f"the path {path!r} leaves the repository")
    normal = posixpath.normpath("/".join(p for p in parts if p not in ("", ".")))
    if normal in (".", "") or normal.startswith(("../", "/")):
        raise Refused(f"the path {path!r} leaves the repository")
    return normal
