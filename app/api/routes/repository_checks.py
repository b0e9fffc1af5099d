"""``POST /api/v1/repositories/{id}/test``: can the platform read this repository?"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from app.api.deps import Admin, PlatformDep, SessionDep
from app.db.models import Repository
from app.git.cache import MemoryCache
from app.git.factory import provider_for
from app.git.tokens import InstallationGone
from app.git.types import (
    BadCredentials,
    GitProviderError,
    RateLimited,
    RefNotFound,
    Refused,
    RepoRef,
    RepositoryNotFound,
)
from app.services.repository_access import mark_unreachable

router = APIRouter(prefix="/api/v1/repositories", tags=["repositories"])

Problem = Literal[
    "bad_credentials",
    "not_found",
    "branch_not_found",
    "refused",
    "rate_limited",
    "unavailable",
    "access_removed",
]


class ConnectionTest(BaseModel):
    ok: bool
    # What is wrong, for a person: which token, which permission, which branch.
    detail: str
    problem: Problem | None = None
    # The default branch's head commit, when it could be read.
    head_commit: str | None = None


def _problem(exc: GitProviderError) -> Problem:
    if isinstance(exc, InstallationGone):
        return "access_removed"
    if isinstance(exc, BadCredentials):
        return "bad_credentials"
    if isinstance(exc, RepositoryNotFound):
        return "not_found"
    if isinstance(exc, RefNotFound):
        return "branch_not_found"
    if isinstance(exc, Refused):
        return "refused"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    return "unavailable"


_ADVICE: dict[Problem, str] = {
    "bad_credentials": "replace the token with a valid one",
    "not_found": "check the owner, project and name, and that the token can read this "
    "repository (Contents: Read-only on GitHub, Code (Read) on Azure DevOps)",
    "branch_not_found": "check the default branch's name",
    "refused": "",
    "rate_limited": "try again later",
    "unavailable": "try again later",
    "access_removed": "",
}


@router.post("/{repo_id}/test")
async def test_connection(
    repo_id: uuid.UUID, session: SessionDep, platform: PlatformDep, actor: Admin
) -> ConnectionTest:
    """Read the default branch's head with the stored token, as a diagnosis would, and say
    what is wrong if that fails. Nothing is cached or stored."""
    repository = await session.get(Repository, repo_id)
    if repository is None:
        raise HTTPException(404, f"No repository {repo_id}.")
    repo = RepoRef.of(repository)
    provider = None
    try:
        token = await platform.access.credential_for(session, platform.kek, repository)
        provider = await provider_for(
            repo,
            token,
            platform.settings,
            cache=MemoryCache(max_bytes=1024 * 1024),
            cache_scope=f"test:{repo_id}",
        )
        head = await provider.resolve_ref(repo, repository.default_branch)
    except GitProviderError as exc:
        problem = _problem(exc)
        if isinstance(exc, InstallationGone):
            await mark_unreachable(session, repository.id, exc)
            await session.commit()
        advice = _ADVICE[problem]
        detail = f"{repo.label}: {exc}" + (f"; {advice}" if advice else "")
        return ConnectionTest(ok=False, detail=detail, problem=problem)
    finally:
        if provider is not None:
            await provider.aclose()
    return ConnectionTest(
        ok=True,
        detail=f"{repo.label}: read {repository.default_branch} at {head[:12]}",
        head_commit=head,
    )
