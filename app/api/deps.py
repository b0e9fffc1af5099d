"""Dependency aliases for the routes.

Every request under /api/v1 acts in one organisation: the one named by the ``X-Logdawg-Org``
header, or the caller's only one (an API key always has exactly one). An organisation the
caller is not a member of answers 404, the same as one that does not exist. Each route declares
the least role (and, for API keys, the scope) it needs with one of the ``Viewer``, ``Person``,
``Member``, ``Submitter``/``Ingest``, ``Admin``, ``Owner`` aliases.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.limits import GuardedJsonRoute
from app.auth.api_keys import Scope
from app.auth.authenticate import Authenticator, Caller
from app.auth.ratelimit import RateLimiter
from app.bootstrap import Platform
from app.db.models import Membership, Role
from app.db.session import act_in_org, tenant_session
from app.queue.base import JobQueue

ORG_HEADER = "X-Logdawg-Org"
RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in a worker thread, a thread hop per dependency per request.
async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


async def get_caller(request: Request) -> Caller:
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:  # only routes outside /api/ skip authentication
        raise HTTPException(401, "Authentication is required.")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def _requested_org(request: Request) -> uuid.UUID | None:
    raw = request.headers.get(ORG_HEADER)
    if raw is None or not raw.strip():
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise HTTPException(404, f"No organisation {raw.strip()[:64]!r}.") from None


async def get_session(platform: PlatformDep, caller: CallerDep) -> AsyncIterator[AsyncSession]:
    """The request's one session. Row-level security sees the signed-in person, and an
    organisation only once it is known to be the caller's: an API key's (or the local one)
    from the start, a person's after ``get_actor`` has checked the membership."""
    async with tenant_session(platform.sessions, caller.org_id, user_id=caller.user_id) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@dataclass(frozen=True)
class Actor:
    """The caller acting in one organisation: a role (people) or scopes (API keys)."""

    caller: Caller
    org_id: uuid.UUID
    role: Role | None

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.caller.user_id


def _org_actor(caller: Caller, requested: uuid.UUID | None) -> Actor:
    """An API key's (or the local owner's) one organisation: nothing to look up."""
    assert caller.org_id is not None
    if requested is not None and requested != caller.org_id:
        raise HTTPException(404, f"No organisation {requested}.")
    role = Role.OWNER if caller.kind == "local" else None
    return Actor(caller=caller, org_id=caller.org_id, role=role)


async def _member_actor(
    caller: Caller, session: AsyncSession, requested: uuid.UUID | None
) -> Actor:
    """A person acting in the organisation named by the header, or their only one; the
    session then acts in it."""
    query = select(Membership.org_id, Membership.role).where(Membership.user_id == caller.user_id)
    if requested is not None:
        query = query.where(Membership.org_id == requested)
    rows = (await session.execute(query.limit(2))).all()
    if requested is not None and not rows:
        raise HTTPException(404, f"No organisation {requested}.")
    if not rows:
        raise HTTPException(
            404,
            "You are not a member of any organisation yet: create one (POST /api/v1/orgs) "
            "or accept an invitation.",
        )
    if len(rows) > 1:
        raise HTTPException(
            422, f"You belong to several organisations: name one in the {ORG_HEADER} header."
        )
    org_id, role = rows[0]
    await act_in_org(session, org_id)
    return Actor(caller=caller, org_id=org_id, role=role)


async def get_actor(caller: CallerDep, session: SessionDep, request: Request) -> Actor:
    requested = _requested_org(request)
    if caller.org_id is not None:
        return _org_actor(caller, requested)
    return await _member_actor(caller, session, requested)


ActorDep = Annotated[Actor, Depends(get_actor)]


def _permit(actor: Actor, role: Role, scope: Scope | None) -> Actor:
    if actor.role is not None:
        if RANK[actor.role] < RANK[role]:
            raise HTTPException(
                403, f"This needs the {role.value} role; you are {actor.role.value}."
            )
        return actor
    if scope is None:
        raise HTTPException(403, "API keys cannot do this; sign in as a person.")
    if scope.value not in actor.caller.scopes:
        raise HTTPException(403, f"This API key lacks the {scope.value!r} scope.")
    return actor


def require(role: Role, scope: Scope | None = None) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets a person with at least ``role`` through, and an API key when
    ``scope`` is given and the key has it. Anyone else: 403."""

    async def check(actor: ActorDep) -> Actor:
        return _permit(actor, role, scope)

    check.required_role = role  # type: ignore[attr-defined]  # read by the roles-table test
    check.required_scope = scope  # type: ignore[attr-defined]
    return check


Viewer = Annotated[Actor, Depends(require(Role.VIEWER, Scope.READ))]
# Read-only, for people only (what names people, such as the member list).
Person = Annotated[Actor, Depends(require(Role.VIEWER))]
Member = Annotated[Actor, Depends(require(Role.MEMBER))]
Submitter = Annotated[Actor, Depends(require(Role.MEMBER, Scope.INGEST))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]
Owner = Annotated[Actor, Depends(require(Role.OWNER))]


@dataclass(frozen=True)
class IngestLimits:
    per_sender: RateLimiter  # an API key, or a signed-in person
    per_org: RateLimiter


async def _lean_actor(request: Request) -> Actor:
    """``get_actor`` without the request's session: none for an API key or the local owner,
    a short one for a person's membership."""
    caller = await get_caller(request)
    requested = _requested_org(request)
    if caller.org_id is not None:
        return _org_actor(caller, requested)
    platform: Platform = request.app.state.platform
    async with tenant_session(platform.sessions, None, user_id=caller.user_id) as session:
        return await _member_actor(caller, session, requested)


def require_lean(role: Role, scope: Scope | None = None) -> Callable[[Request], Awaitable[Actor]]:
    """``require`` as one dependency and without the request's session, for the hot routes
    that run their statements outside a session (ingest, the reports list)."""

    async def check(request: Request) -> Actor:
        return _permit(await _lean_actor(request), role, scope)

    check.required_role = role  # type: ignore[attr-defined]
    check.required_scope = scope  # type: ignore[attr-defined]
    return check


LeanViewer = Annotated[Actor, Depends(require_lean(Role.VIEWER, Scope.READ))]


async def limit_ingest(request: Request) -> Actor:
    """A ``Submitter`` (a member, or an API key with the ``ingest`` scope) within the
    sender's and the organisation's rates: 429 with Retry-After past them. The local owner of
    a single-tenant platform is not limited.

    One dependency, not the chain the other routes use (caller, session, actor, role), and
    no session unless a person's membership must be looked up: this runs on every log
    submitted, and each dependency FastAPI solves costs about as much CPU as the rest of
    this function."""
    actor = _permit(await _lean_actor(request), Role.MEMBER, Scope.INGEST)
    if actor.caller.kind == "local":
        return actor
    limits: IngestLimits = request.app.state.ingest_limits
    sender = str(actor.caller.key_id or actor.caller.user_id)
    for limiter, key, who in (
        (limits.per_sender, sender, "this sender"),
        (limits.per_org, str(actor.org_id), "this organisation"),
    ):
        wait = limiter.take(key)
        if wait > 0:
            raise HTTPException(
                429,
                f"Too many logs from {who}: at most {limiter.rate:g} a second "
                f"(bursts of {limiter.burst}). Retry after the Retry-After seconds.",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )
    return actor


limit_ingest.required_role = Role.MEMBER  # type: ignore[attr-defined]
limit_ingest.required_scope = Scope.INGEST  # type: ignore[attr-defined]
Ingest = Annotated[Actor, Depends(limit_ingest)]

# Where ``IngestRoute`` leaves the caller it checked (an ASGI scope extension key).
_INGEST_ACTOR = "logdawg.ingest_actor"


class IngestRoute(GuardedJsonRoute):
    """The route of ``POST /api/v1/logs/diagnose``, the one every log sender calls: it runs
    ``limit_ingest`` itself, before FastAPI reads and validates the body, as the ``Ingest``
    dependency would (a viewer is 403 and a sender over its rate 429, whatever the body),
    and the endpoint takes the caller with ``ingest_actor``. FastAPI solves a dependency
    with a pass over the request's parameters of its own: ~5 % of the API's CPU per log."""

    required_role = Role.MEMBER  # read by the roles-table test, as for the dependencies
    required_scope = Scope.INGEST

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            request.scope[_INGEST_ACTOR] = await limit_ingest(request)
            return await handler(request)

        return limited


def ingest_actor(request: Request) -> Actor:
    """The caller ``IngestRoute`` checked for this request."""
    actor: Actor = request.scope[_INGEST_ACTOR]
    return actor


async def get_queue(platform: PlatformDep) -> JobQueue:
    return platform.queue


QueueDep = Annotated[JobQueue, Depends(get_queue)]
