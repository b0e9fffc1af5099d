"""Connecting an organisation's GitHub account through the platform's GitHub App, and keeping
what the installation grants current from GitHub's webhooks. The caller owns the transaction.

The install flow: an admin starts it (a one-time ``state``, bound to the organisation and the
person, kept as its SHA-256 with an expiry), GitHub sends the browser back with
``installation_id`` and the ``state``, and the callback checks both before it stores the
installation: the state is unused, unexpired and this person's in this organisation, and the
installation belongs to the GitHub account the admin named when starting.

An organisation member who may not install apps on the GitHub organisation can only request
the install; GitHub sends the browser back with ``setup_action=request`` and no installation.
The spent state then stays as the request (``requested_at``, and the requesting GitHub user
when the platform verifies people), completed when the ``installation`` ``created`` webhook of
the owner's approval arrives for that account (and requester), or when the admin installs
again once it is approved.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    AuthKind,
    Credential,
    GitHubInstallation,
    GitHubInstallState,
    Provider,
    Repository,
)
from app.db.session import act_in_org
from app.git.tokens import GitHubApp
from app.settings import Settings


class InstallRefused(Exception):
    """The callback cannot be accepted; the message says why (for the person)."""


class InstallationTaken(Exception):
    pass


class NotGranted(Exception):
    pass


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True)
class InstallStart:
    install_url: str
    expires_at: datetime


async def start_install(
    session: AsyncSession,
    settings: Settings,
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID | None,
    account: str | None,
) -> InstallStart:
    state = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(seconds=settings.github_install_state_ttl_s)
    session.add(
        GitHubInstallState(
            org_id=org_id,
            user_id=user_id,
            state_hash=state_hash(state),
            account=account,
            expires_at=expires,
        )
    )
    await session.flush()
    slug = quote(settings.github_app_slug or "", safe="")
    base = settings.github_web_url.rstrip("/")
    return InstallStart(
        f"{base}/apps/{slug}/installations/new?{urlencode({'state': state})}", expires
    )


async def spend_state(
    session: AsyncSession, state: str, user_id: uuid.UUID | None
) -> GitHubInstallState:
    """The state, used up: a second callback with it is refused. The caller commits even
    when this refuses (an expired state is spent too)."""
    row = await session.scalar(
        select(GitHubInstallState)
        .where(GitHubInstallState.state_hash == state_hash(state))
        .with_for_update()
    )
    if row is None or row.used_at is not None:
        raise InstallRefused(
            "this install link is unknown or was already used: start the install again"
        )
    if row.user_id != user_id:
        raise InstallRefused("this install was started by someone else: start it yourself")
    row.used_at = datetime.now(UTC)
    await session.flush()
    if row.expires_at <= datetime.now(UTC):
        raise InstallRefused("this install link has expired: start the install again")
    return row


def _full_names(repositories: list[dict[str, Any]]) -> list[str]:
    return sorted(str(r["full_name"]) for r in repositories if isinstance(r.get("full_name"), str))


async def complete_install(
    session: AsyncSession,
    app: GitHubApp,
    *,
    started: GitHubInstallState,
    installation_id: int,
    code: str | None,
) -> tuple[GitHubInstallation, list[dict[str, Any]]]:
    """Check that the installation belongs to the account chosen at ``started`` (a spent
    state) and, when the app verifies people, that the GitHub user who installed it (``code``)
    can see it; store it for the organisation, and return it with what it grants."""
    org_id, user_id = started.org_id, started.user_id
    if app.verifies_users:
        if not code:
            raise InstallRefused(
                "GitHub sent no authorisation code: the app must request user authorisation "
                "during installation (see the README)"
            )
        if not await app.person_can_see(code, installation_id):
            raise InstallRefused(
                f"your GitHub user cannot see the installation {installation_id}: install the "
                "app yourself, or ask an owner of that GitHub account"
            )
    details = await app.installation(installation_id)
    account = details.get("account") or {}
    login = str(account.get("login") or "")
    if started.account and login.lower() != started.account.lower():
        raise InstallRefused(
            f"the installation belongs to the GitHub account {login!r}, not {started.account!r} "
            "as chosen when the install started"
        )
    granted = await app.repositories(installation_id)
    existing = await session.scalar(
        select(GitHubInstallation).where(GitHubInstallation.installation_id == installation_id)
    )
    try:
        async with session.begin_nested():
            if existing is None:
                existing = GitHubInstallation(
                    org_id=org_id,
                    installation_id=installation_id,
                    account_login=login[:200],
                    account_type=str(account.get("type") or "")[:40],
                    repositories=_full_names(granted),
                    added_by=user_id,
                )
                session.add(existing)
            else:
                existing.account_login = login[:200]
                existing.repositories = _full_names(granted)
                existing.removed_at = None
            await session.flush()
    except IntegrityError as exc:
        raise InstallationTaken(
            f"the GitHub App installation {installation_id} is connected to another organisation"
        ) from exc
    await _reachable_again(session, existing)
    await _complete_requests(session, existing)
    return existing, granted


async def record_request(
    session: AsyncSession, app: GitHubApp, *, started: GitHubInstallState, code: str | None
) -> GitHubInstallState:
    """GitHub only recorded a request for an organisation owner to approve: keep the spent
    state as that request, with the GitHub user who asked when the app verifies people."""
    if app.verifies_users and code:
        who = await app.who(code)
        if who is None:
            raise InstallRefused(
                "GitHub did not accept the authorisation code sent with the request: start the "
                "install again"
            )
        started.requester_id, started.requester_login = who
    started.requested_at = datetime.now(UTC)
    await session.flush()
    return started


async def install_requests(session: AsyncSession) -> list[GitHubInstallState]:
    """The organisation's install requests of the last 30 days, newest first."""
    since = datetime.now(UTC) - timedelta(days=30)
    rows = await session.scalars(
        select(GitHubInstallState)
        .where(GitHubInstallState.requested_at > since)
        .order_by(GitHubInstallState.requested_at.desc())
        .limit(50)
    )
    return list(rows.all())


async def _complete_requests(session: AsyncSession, installation: GitHubInstallation) -> None:
    """Close the organisation's open requests for the installation's account (and those that
    named no account: the organisation has now connected what it asked for)."""
    await session.execute(
        update(GitHubInstallState)
        .where(
            GitHubInstallState.requested_at.is_not(None),
            GitHubInstallState.completed_at.is_(None),
            or_(
                GitHubInstallState.account.is_(None),
                func.lower(GitHubInstallState.account) == installation.account_login.lower(),
            ),
        )
        .values(completed_at=datetime.now(UTC), installation_id=installation.id)
    )


async def _approved(
    session: AsyncSession, payload: dict[str, Any], installation_id: int, app: GitHubApp | None
) -> str:
    """An ``installation`` ``created`` for an installation no organisation has: the approval
    of an open request, when one names this account (and this requester, when the platform
    verifies people: the webhook names who asked)."""
    account = (payload.get("installation") or {}).get("account") or {}
    login = account.get("login")
    if not isinstance(login, str) or not login:
        return "ignored: installation without an account"
    requester = payload.get("requester")
    requester_id = requester.get("id") if isinstance(requester, dict) else None
    verifies = app is not None and app.verifies_users
    if verifies and not isinstance(requester_id, int):
        return "ignored: installation not connected to an organisation"
    match = requester_id if verifies else None
    org_id = await session.scalar(
        select(func.logdawg_github_install_request_org(login[:200], match))
    )
    if org_id is None:
        return "ignored: installation not connected to an organisation"
    await act_in_org(session, org_id)
    request = await session.scalar(
        select(GitHubInstallState)
        .where(
            GitHubInstallState.requested_at.is_not(None),
            GitHubInstallState.completed_at.is_(None),
            func.lower(GitHubInstallState.account) == login.lower(),
        )
        .where(GitHubInstallState.requester_id == match if match is not None else true())
        .order_by(GitHubInstallState.requested_at.desc())
        .limit(1)
    )
    repositories = payload.get("repositories")
    installation = GitHubInstallation(
        org_id=org_id,
        installation_id=installation_id,
        account_login=login[:200],
        account_type=str(account.get("type") or "")[:40],
        repositories=_full_names(repositories if isinstance(repositories, list) else []),
        added_by=request.user_id if request is not None else None,
    )
    session.add(installation)
    await session.flush()
    await _complete_requests(session, installation)
    return "created: the requested install was approved and is connected"


async def installations(session: AsyncSession) -> list[GitHubInstallation]:
    rows = await session.scalars(select(GitHubInstallation).order_by(GitHubInstallation.created_at))
    return list(rows.all())


async def refresh_repositories(
    session: AsyncSession, app: GitHubApp, installation: GitHubInstallation
) -> list[dict[str, Any]]:
    granted = await app.repositories(installation.installation_id)
    installation.repositories = _full_names(granted)
    await session.flush()
    return granted


async def register_granted(
    session: AsyncSession,
    installation: GitHubInstallation,
    chosen: list[tuple[str, str]],
) -> list[Repository]:
    """Register the chosen repositories (full name, default branch) to be read through the
    installation. A repository already registered with a pasted token moves to the app, and
    its token is destroyed."""
    granted = {name.lower() for name in installation.repositories}
    refused = [name for name, _ in chosen if name.lower() not in granted]
    if refused:
        raise NotGranted(
            f"the installation on {installation.account_login} does not grant "
            + ", ".join(sorted(refused))
        )
    done: list[Repository] = []
    for full_name, branch in chosen:
        owner, _, name = full_name.partition("/")
        repository = await session.scalar(
            select(Repository).where(
                Repository.provider == Provider.GITHUB,
                func.lower(Repository.owner) == owner.lower(),
                func.lower(Repository.name) == name.lower(),
                Repository.project.is_(None),
                Repository.base_url.is_(None),
            )
        )
        stale_credential = None
        if repository is None:
            repository = Repository(
                org_id=installation.org_id,
                provider=Provider.GITHUB,
                owner=owner,
                name=name,
                default_branch=branch,
            )
            session.add(repository)
        else:
            stale_credential = repository.credential_id
            repository.credential_id = None
        repository.auth_kind = AuthKind.GITHUB_APP.value
        repository.github_installation_id = installation.id
        repository.unreachable_reason = None
        repository.unreachable_at = None
        await session.flush()
        if stale_credential is not None:
            old = await session.get(Credential, stale_credential)
            if old is not None:
                await session.delete(old)
        done.append(repository)
    await session.flush()
    return done


async def mark_unreachable(
    session: AsyncSession, repository_ids: list[uuid.UUID], reason: str
) -> None:
    if repository_ids:
        await session.execute(
            update(Repository)
            .where(Repository.id.in_(repository_ids))
            .values(unreachable_reason=reason[:500], unreachable_at=datetime.now(UTC))
        )


async def _repositories_of(
    session: AsyncSession, installation: GitHubInstallation
) -> list[Repository]:
    rows = await session.scalars(
        select(Repository).where(Repository.github_installation_id == installation.id)
    )
    return list(rows.all())


def _label(repository: Repository) -> str:
    return f"{repository.owner}/{repository.name}".lower()


async def _reachable_again(session: AsyncSession, installation: GitHubInstallation) -> None:
    granted = {n.lower() for n in installation.repositories}
    for repository in await _repositories_of(session, installation):
        if _label(repository) in granted and repository.unreachable_reason is not None:
            repository.unreachable_reason = None
            repository.unreachable_at = None
    await session.flush()


# --- webhooks ------------------------------------------------------------------------------


async def first_delivery(session: AsyncSession, delivery_id: str, event: str) -> bool:
    """True the first time a delivery id is seen (in this transaction's outcome)."""
    seen = await session.scalar(
        select(func.logdawg_github_delivery(delivery_id[:100], event[:100]))
    )
    return bool(seen)


async def apply_event(
    session: AsyncSession, event: str, payload: dict[str, Any], app: GitHubApp | None
) -> str:
    """Apply an ``installation`` or ``installation_repositories`` event to the organisation
    the installation belongs to. Returns what was done, for the log and the answer."""
    raw_id = (payload.get("installation") or {}).get("id")
    if not isinstance(raw_id, int):
        return "ignored: no installation"
    org_id = await session.scalar(select(func.logdawg_github_installation_org(raw_id)))
    if org_id is None:
        if event == "installation" and payload.get("action") == "created":
            return await _approved(session, payload, raw_id, app)
        return "ignored: installation not connected to an organisation"
    await act_in_org(session, org_id)
    installation = await session.scalar(
        select(GitHubInstallation).where(GitHubInstallation.installation_id == raw_id)
    )
    if installation is None:  # pragma: no cover - the function just named its organisation
        return "ignored: installation not found"
    if app is not None:
        app.forget(raw_id)  # tokens minted before the change may no longer be valid
    action = str(payload.get("action") or "")
    account = installation.account_login
    if event == "installation":
        if action == "deleted":
            installation.removed_at = datetime.now(UTC)
            installation.repositories = []
            gone = await _repositories_of(session, installation)
            await mark_unreachable(
                session,
                [r.id for r in gone],
                f"the GitHub App was uninstalled from {account}: install it again",
            )
            return f"uninstalled; {len(gone)} repositories marked unreachable"
        if action == "suspend":
            gone = await _repositories_of(session, installation)
            await mark_unreachable(
                session,
                [r.id for r in gone],
                f"the GitHub App's installation on {account} is suspended",
            )
            return f"suspended; {len(gone)} repositories marked unreachable"
        if action in ("created", "unsuspend", "new_permissions_accepted"):
            if isinstance(payload.get("repositories"), list):
                installation.repositories = _full_names(payload["repositories"])
            installation.removed_at = None
            await session.flush()
            if action == "unsuspend":
                for repository in await _repositories_of(session, installation):
                    repository.unreachable_reason = None
                    repository.unreachable_at = None
            await _reachable_again(session, installation)
            return action
        return f"ignored: installation {action}"
    if event == "installation_repositories":
        added = _full_names(payload.get("repositories_added") or [])
        removed = {n.lower() for n in _full_names(payload.get("repositories_removed") or [])}
        current = [n for n in installation.repositories if n.lower() not in removed]
        installation.repositories = sorted({*current, *added})
        await session.flush()
        dropped = [
            r.id for r in await _repositories_of(session, installation) if _label(r) in removed
        ]
        await mark_unreachable(
            session,
            dropped,
            f"the repository was removed from the GitHub App's installation on {account}",
        )
        await _reachable_again(session, installation)
        return f"{len(added)} added, {len(removed)} removed; {len(dropped)} marked unreachable"
    return f"ignored: {event}"
