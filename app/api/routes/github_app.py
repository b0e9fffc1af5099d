"""Connecting GitHub through the platform's GitHub App: start an install, complete it when
GitHub sends the browser back, list what an installation grants and register it in one step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, NoReturn

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.api.deps import Admin, PlatformDep, SessionDep, Viewer
from app.api.routes.repositories import _out
from app.api.schemas import RepositoryOut
from app.db.models import GitHubInstallation, GitHubInstallState, Provider, Repository
from app.git.tokens import GitHubApp, InstallationGone
from app.git.types import GitProviderError
from app.services import github_app

router = APIRouter(prefix="/api/v1/github-app", tags=["github-app"])

# A GitHub account's login: letters, digits and single hyphens, at most 39 characters.
LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"
FULL_NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"


class InstallStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(
        default=None,
        pattern=LOGIN,
        description="The GitHub account (organisation or user) you will install the app on; "
        "the callback refuses an installation on any other account.",
    )


class InstallStarted(BaseModel):
    install_url: str = Field(description="Send the browser here; GitHub sends it back.")
    expires_at: datetime


class InstallCallback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # GitHub's ids are far below 2**53, the largest integer every JSON reader keeps exact.
    installation_id: int = Field(ge=1, le=2**53 - 1)
    state: str = Field(min_length=16, max_length=200)
    setup_action: str | None = Field(default=None, max_length=40)
    code: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The authorisation code GitHub adds to the redirect (the app requests user "
        "authorisation during installation); proves the person can see the installation.",
    )


class InstallRequested(BaseModel):
    """GitHub's redirect after ``setup_action=request``: no installation yet."""

    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=16, max_length=200)
    setup_action: Literal["request"] = "request"
    code: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The authorisation code, when GitHub sent one: names the GitHub user who "
        "asked, whom the approval's webhook must name too.",
    )


class GrantedRepository(BaseModel):
    full_name: str
    default_branch: str
    private: bool | None = None
    registered: bool = Field(description="Already registered in this organisation.")


class InstallationOut(BaseModel):
    id: uuid.UUID
    installation_id: int
    account_login: str
    account_type: str
    uninstalled: bool
    repositories: list[str]
    created_at: datetime


class InstallRequestOut(BaseModel):
    id: uuid.UUID
    account: str | None = Field(description="The GitHub account the app was requested on.")
    requester_login: str | None = Field(description="The GitHub user who asked, when known.")
    requested_at: datetime
    waiting: bool = Field(
        description="Still waiting for a GitHub organisation owner to approve the request."
    )
    completed_at: datetime | None
    installation: InstallationOut | None = Field(
        description="The installation the approved request became."
    )
    detail: str


class InstallationDetail(InstallationOut):
    granted: list[GrantedRepository]


class ChosenRepository(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(pattern=FULL_NAME)
    default_branch: str = Field(default="main", min_length=1, max_length=255)


class RegisterGranted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repositories: list[ChosenRepository] = Field(min_length=1, max_length=100)


def _app(platform: PlatformDep) -> GitHubApp:
    app = platform.access.github_app
    if app is None or platform.settings.github_app_slug is None:
        raise HTTPException(
            409,
            "This platform has no GitHub App configured (LOGDAWG_GITHUB_APP_ID and the other "
            "LOGDAWG_GITHUB_APP_* settings): register repositories with a token instead.",
        )
    return app


def _provider_failed(exc: GitProviderError) -> NoReturn:
    if isinstance(exc, InstallationGone):
        raise HTTPException(422, str(exc)) from None
    raise HTTPException(502, f"GitHub: {exc}") from None


def _installation_out(row: GitHubInstallation) -> InstallationOut:
    return InstallationOut(
        id=row.id,
        installation_id=row.installation_id,
        account_login=row.account_login,
        account_type=row.account_type,
        uninstalled=row.removed_at is not None,
        repositories=list(row.repositories),
        created_at=row.created_at,
    )


async def _granted(session: SessionDep, found: list[dict[str, Any]]) -> list[GrantedRepository]:
    rows = await session.execute(
        select(Repository.owner, Repository.name).where(
            Repository.provider == Provider.GITHUB, Repository.base_url.is_(None)
        )
    )
    registered = {f"{owner}/{name}".lower() for owner, name in rows.all()}
    return [
        GrantedRepository(
            full_name=str(r["full_name"]),
            default_branch=str(r.get("default_branch") or "main"),
            private=r.get("private") if isinstance(r.get("private"), bool) else None,
            registered=str(r["full_name"]).lower() in registered,
        )
        for r in found
        if isinstance(r.get("full_name"), str)
    ]


class GitHubAppStatus(BaseModel):
    configured: bool = Field(description="This platform has a GitHub App to install.")
    slug: str | None
    web_url: str = Field(description="Where the app is installed (github.com or a GHES host).")


@router.get("")
async def app_status(platform: PlatformDep, actor: Viewer) -> GitHubAppStatus:
    """Whether repositories can be connected through the platform's GitHub App."""
    settings = platform.settings
    configured = platform.access.github_app is not None and settings.github_app_slug is not None
    return GitHubAppStatus(
        configured=configured,
        slug=settings.github_app_slug if configured else None,
        web_url=settings.github_web_url,
    )


@router.post("/install", status_code=status.HTTP_201_CREATED)
async def start_install(
    body: InstallStart, session: SessionDep, platform: PlatformDep, actor: Admin
) -> InstallStarted:
    """Start installing the platform's GitHub App: a one-time link, bound to this
    organisation and to you, valid for ``LOGDAWG_GITHUB_INSTALL_STATE_TTL_S``."""
    _app(platform)
    started = await github_app.start_install(
        session,
        platform.settings,
        org_id=actor.org_id,
        user_id=actor.user_id,
        account=body.account,
    )
    await session.commit()
    return InstallStarted(install_url=started.install_url, expires_at=started.expires_at)


@router.post("/callback", status_code=status.HTTP_201_CREATED)
async def complete_install(
    body: InstallCallback, session: SessionDep, platform: PlatformDep, actor: Admin
) -> InstallationDetail:
    """What GitHub's redirect carries (``installation_id``, ``state``): check it, store the
    installation for the organisation, and list the repositories it grants."""
    app = _app(platform)
    try:
        started = await github_app.spend_state(session, body.state, actor.user_id)
    except github_app.InstallRefused as exc:
        await session.commit()
        raise HTTPException(422, str(exc)) from None
    await session.commit()  # spent for good, whatever follows
    try:
        row, found = await github_app.complete_install(
            session, app, started=started, installation_id=body.installation_id, code=body.code
        )
    except github_app.InstallRefused as exc:
        raise HTTPException(422, str(exc)) from None
    except github_app.InstallationTaken as exc:
        raise HTTPException(409, str(exc)) from None
    except GitProviderError as exc:
        _provider_failed(exc)
    await session.commit()
    await session.refresh(row)
    return InstallationDetail(
        **_installation_out(row).model_dump(), granted=await _granted(session, found)
    )


async def _request_out(
    session: SessionDep, row: GitHubInstallState, *, verifies_users: bool
) -> InstallRequestOut:
    installation = (
        await session.get(GitHubInstallation, row.installation_id)
        if row.installation_id is not None
        else None
    )
    account = row.account or "the GitHub organisation"
    by_webhook = row.account is not None and (row.requester_id is not None or not verifies_users)
    if row.completed_at is not None:
        detail = f"Approved: the app is installed on {account}; register its repositories."
    elif by_webhook:
        detail = (
            f"Requested — waiting for a GitHub organisation owner of {account} to approve. "
            "It completes by itself when GitHub tells the platform; or press Connect GitHub "
            "again once it is approved."
        )
    else:
        detail = (
            f"Requested — waiting for a GitHub organisation owner of {account} to approve. "
            "Once they have, press Connect GitHub again to finish."
        )
    return InstallRequestOut(
        id=row.id,
        account=row.account,
        requester_login=row.requester_login,
        requested_at=row.requested_at or row.created_at,
        waiting=row.completed_at is None,
        completed_at=row.completed_at,
        installation=_installation_out(installation) if installation is not None else None,
        detail=detail,
    )


@router.post("/requests", status_code=status.HTTP_202_ACCEPTED)
async def install_requested(
    body: InstallRequested, session: SessionDep, platform: PlatformDep, actor: Admin
) -> InstallRequestOut:
    """GitHub sent the browser back with ``setup_action=request``: you may not install apps
    on that GitHub organisation, so GitHub asked its owners to approve. The install is kept
    as a request and completes when the approval's ``installation`` webhook arrives (or when
    you install again after the approval)."""
    app = _app(platform)
    try:
        started = await github_app.spend_state(session, body.state, actor.user_id)
    except github_app.InstallRefused as exc:
        await session.commit()
        raise HTTPException(422, str(exc)) from None
    try:
        row = await github_app.record_request(session, app, started=started, code=body.code)
    except github_app.InstallRefused as exc:
        await session.commit()
        raise HTTPException(422, str(exc)) from None
    except GitProviderError as exc:
        await session.commit()
        _provider_failed(exc)
    await session.commit()
    await session.refresh(row)
    return await _request_out(session, row, verifies_users=app.verifies_users)


@router.get("/requests")
async def list_requests(
    session: SessionDep, platform: PlatformDep, actor: Viewer
) -> list[InstallRequestOut]:
    """Install requests of the last 30 days, newest first: waiting, or what they became."""
    app = platform.access.github_app
    verifies = app is not None and app.verifies_users
    return [
        await _request_out(session, r, verifies_users=verifies)
        for r in await github_app.install_requests(session)
    ]


@router.get("/installations")
async def list_installations(session: SessionDep, actor: Viewer) -> list[InstallationOut]:
    return [_installation_out(r) for r in await github_app.installations(session)]


async def _installation(session: SessionDep, installation_uuid: uuid.UUID) -> GitHubInstallation:
    row = await session.get(GitHubInstallation, installation_uuid)
    if row is None:
        raise HTTPException(404, f"No GitHub App installation {installation_uuid}.")
    return row


@router.get("/installations/{installation_uuid}/repositories")
async def granted_repositories(
    installation_uuid: uuid.UUID, session: SessionDep, platform: PlatformDep, actor: Admin
) -> list[GrantedRepository]:
    """The repositories the installation grants now (asked of GitHub), and which of them are
    registered here already."""
    row = await _installation(session, installation_uuid)
    app = _app(platform)
    try:
        found = await github_app.refresh_repositories(session, app, row)
    except GitProviderError as exc:
        _provider_failed(exc)
    await session.commit()
    return await _granted(session, found)


@router.post("/installations/{installation_uuid}/repositories", status_code=status.HTTP_201_CREATED)
async def register_granted(
    installation_uuid: uuid.UUID,
    body: RegisterGranted,
    session: SessionDep,
    platform: PlatformDep,
    actor: Admin,
) -> list[RepositoryOut]:
    """Register the chosen repositories, read through the installation from now on (one
    registered with a token moves to the app, and its token is destroyed)."""
    row = await _installation(session, installation_uuid)
    if row.removed_at is not None:
        raise HTTPException(422, "The GitHub App was uninstalled from this account.")
    try:
        done = await github_app.register_granted(
            session, row, [(r.full_name, r.default_branch) for r in body.repositories]
        )
    except github_app.NotGranted as exc:
        raise HTTPException(422, str(exc)) from None
    await session.commit()
    for repository in done:
        await session.refresh(repository)
    return [_out(r) for r in done]
