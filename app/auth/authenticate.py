"""Who is calling: a signed-in person, an API key, or (single-tenant mode, no credentials) the
local organisation's owner.

Authentication runs as ASGI middleware before routing, so a request without valid credentials
is answered 401 before its body is read or judged.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.problems import PUBLIC_API_PATHS, RETRY_AFTER_S, problem, unavailable
from app.auth.api_keys import KeyHasher, looks_like_key, well_formed
from app.auth.tokens import Identity, InvalidToken, IssuerUnavailable, Verifier

# Paths under /api/ that need no credentials.
# The GitHub webhook authenticates by its signature (app/api/routes/webhooks_github.py).
PUBLIC_PATHS = PUBLIC_API_PATHS | {"/api/v1/webhooks/github"}
# Where an API key may come in the query string: webhooks whose senders cannot set headers.
QUERY_KEY_PREFIX = "/api/v1/ingest/"


@dataclass(frozen=True)
class Caller:
    kind: Literal["local", "user", "api_key", "service_principal"]
    user_id: uuid.UUID | None = None
    # The organisation an API key, a webhook's service principal (or the local owner) always
    # acts in.
    org_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    key_id: uuid.UUID | None = None
    email: str | None = None


class AuthError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


K = TypeVar("K")
V = TypeVar("V")


class _TtlCache(Generic[K, V]):
    """At most ``size`` entries, each good for ``ttl_s``; the least recently stored go first."""

    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K) -> V | None:
        hit = self._entries.get(key)
        return hit[0] if hit is not None and time.monotonic() - hit[1] < self.ttl_s else None

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (value, time.monotonic())
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def drop_where(self, matches: Callable[[V], bool]) -> None:
        for key, (value, _) in list(self._entries.items()):
            if matches(value):
                del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class _CachedKey:
    id: uuid.UUID
    org_id: uuid.UUID
    scopes: frozenset[str]
    expires_at: datetime | None
    revoked: bool


class Authenticator:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        hasher: KeyHasher,
        verifier: Verifier | None,
        local_org_id: uuid.UUID | None,
        local_user_id: uuid.UUID | None = None,
        ingest_role: str = "Logdawg.Ingest",
        key_cache_s: float = 5.0,
        user_cache_s: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.hasher = hasher
        self.verifier = verifier
        self.local_org_id = local_org_id
        self.local_user_id = local_user_id
        self.ingest_role = ingest_role
        # Revocation reaches this process at once (``forget_key``) and others within this.
        self._keys: _TtlCache[str, _CachedKey] = _TtlCache(key_cache_s)
        self._users: _TtlCache[Identity, uuid.UUID] = _TtlCache(user_cache_s)

    async def authenticate(self, headers: Headers, query: QueryParams, path: str) -> Caller:
        credential = self._credential(headers, query, path)
        if credential is None:
            if self.local_org_id is not None:
                return Caller(kind="local", user_id=self.local_user_id, org_id=self.local_org_id)
            raise AuthError(
                401,
                "Sign in: send 'Authorization: Bearer <access token>', or an API key as "
                "'Authorization: Bearer ldk_…' or 'X-API-Key: ldk_…'.",
            )
        if looks_like_key(credential):
            return await self._api_key(credential)
        if self.verifier is None:
            raise AuthError(
                401,
                "This platform runs in single-tenant mode: send an API key (ldk_…) or no "
                "credentials at all.",
            )
        try:
            identity = await self.verifier.verify(credential)
        except InvalidToken as exc:
            raise AuthError(401, f"The access token was refused: {exc}.") from None
        except IssuerUnavailable:
            raise AuthError(503, "Sign-in is unavailable right now; try again shortly.") from None
        if identity.app:
            return await self._service_principal(identity)
        user_id = await self._user_id(identity)
        return Caller(kind="user", user_id=user_id, email=identity.email)

    async def _service_principal(self, identity: Identity) -> Caller:
        """An app-only token: a service principal an organisation registered to send alerts
        (Azure Monitor's secure webhook), holding the API's ingest app role."""
        if self.ingest_role not in identity.roles:
            raise AuthError(401, f"The app-only token lacks the app role {self.ingest_role!r}.")
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    text("SELECT * FROM logdawg_webhook_principal(:tid, :oid)"),
                    {"tid": identity.tenant_id, "oid": identity.object_id},
                )
            ).one_or_none()
        if row is None:
            raise AuthError(
                401,
                f"The service principal {identity.object_id} of tenant {identity.tenant_id} is "
                "not registered with an organisation (POST /api/v1/webhook-principals).",
            )
        return Caller(
            kind="service_principal", org_id=row.org_id, scopes=frozenset({"ingest"}), key_id=row.id
        )

    @staticmethod
    def _credential(headers: Headers, query: QueryParams, path: str) -> str | None:
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise AuthError(401, "The Authorization header must be 'Bearer <token>'.")
            return value.strip()
        if (key := headers.get("x-api-key")) is not None:
            return key.strip()
        if path.startswith(QUERY_KEY_PREFIX) and (key := query.get("key")) is not None:
            return key.strip()
        return None

    async def _api_key(self, key: str) -> Caller:
        if not well_formed(key):
            raise AuthError(401, "The API key is malformed (expected ldk_<id>_<secret>).")
        digest = self.hasher.hash(key)
        cached = self._keys.get(digest) or await self._lookup_key(digest)
        if cached.revoked:
            raise AuthError(401, "The API key has been revoked.")
        if cached.expires_at is not None and cached.expires_at <= datetime.now(UTC):
            raise AuthError(401, "The API key has expired.")
        return Caller(kind="api_key", org_id=cached.org_id, scopes=cached.scopes, key_id=cached.id)

    async def _lookup_key(self, digest: str) -> _CachedKey:
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    text("SELECT * FROM logdawg_api_key(:hash)"), {"hash": digest}
                )
            ).one_or_none()
        if row is None:
            self._keys.pop(digest)
            raise AuthError(401, "The API key is not known.")
        entry = _CachedKey(
            id=row.id,
            org_id=row.org_id,
            scopes=frozenset(row.scopes),
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None,
        )
        self._keys.put(digest, entry)
        return entry

    def forget_key(self, key_id: uuid.UUID) -> None:
        self._keys.drop_where(lambda entry: entry.id == key_id)

    async def _user_id(self, identity: Identity) -> uuid.UUID:
        if (known := self._users.get(identity)) is not None:
            return known
        async with self.sessions() as session, session.begin():
            user_id = (
                await session.execute(
                    text("SELECT logdawg_sign_in(:tid, :oid, :name, :email)"),
                    {
                        "tid": identity.tenant_id,
                        "oid": identity.object_id,
                        "name": identity.name,
                        "email": identity.email,
                    },
                )
            ).scalar_one()
        user = uuid.UUID(str(user_id))
        self._users.put(identity, user)
        return user


class Authentication:
    """ASGI middleware: puts the ``Caller`` in ``request.state.caller`` for /api/ paths, or
    answers 401 (503 while the database or the issuer is unreachable)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        authenticator: Authenticator = scope["app"].state.authenticator
        headers = Headers(scope=scope)
        try:
            caller = await authenticator.authenticate(
                headers, QueryParams(scope["query_string"]), path
            )
        except AuthError as exc:
            response = problem(exc.status, exc.detail, instance=path)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="logdawg"'
            else:
                response.headers["Retry-After"] = str(RETRY_AFTER_S)
            await response(scope, receive, send)
            return
        except (DBAPIError, PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError, OSError):
            await unavailable(path)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)
