"""Validating Entra ID (v2) access tokens with PyJWT: the signature against the issuer's
published keys, then audience, issuer, tenant, expiry and scope.

The keys come from a ``KeySource``: the issuer's JWKS over HTTP (Entra ID; discovered from its
OpenID configuration), or the in-process key of the local development issuer. Both go through
the same checks, so the dev issuer signs in exactly like Entra does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt

# Entra ID signs access tokens with RS256; anything else (``none``, HS256 with the public key
# as the secret, ...) is refused before a key is looked up.
ALGORITHMS = ("RS256",)


class InvalidToken(Exception):
    """The token is not acceptable; the message says why and is safe to return."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched (a 503, not the caller's fault)."""


@dataclass(frozen=True)
class Identity:
    """A signed-in person: ``tenant_id`` + ``object_id`` is the stable key."""

    tenant_id: str
    object_id: str
    name: str
    email: str | None
    # A service principal's app-only token (Azure Monitor's secure webhook): no delegated
    # scope, app roles instead.
    app: bool = False
    roles: tuple[str, ...] = ()


class KeySource(Protocol):
    async def key(self, kid: str) -> jwt.PyJWK: ...


class JwksKeys:
    """An issuer's JWKS, fetched on first use, kept, and fetched again when a token names an
    unknown ``kid`` (keys roll over) — at most once per ``min_refresh_s``, so tokens with made-up
    key ids cannot turn into a flood of requests to the issuer."""

    def __init__(
        self,
        jwks_uri: str,
        http: httpx.AsyncClient,
        *,
        min_refresh_s: float = 10.0,
        max_age_s: float = 24 * 3600.0,
    ) -> None:
        self._uri = jwks_uri
        self._http = http
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._refetched_at = float("-inf")  # the last fetch caused by an unknown kid
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys and time.monotonic() - self._fetched_at < self._max_age_s:
            return self._keys[kid]
        async with self._lock:
            now = time.monotonic()
            if now - self._fetched_at >= self._max_age_s:  # never fetched, or stale
                await self._fetch()
            elif kid not in self._keys and now - self._refetched_at >= self._min_refresh_s:
                self._refetched_at = now
                await self._fetch()
        if kid not in self._keys:
            raise InvalidToken("the token is signed with a key the issuer does not publish")
        return self._keys[kid]

    async def _fetch(self) -> None:
        try:
            response = await self._http.get(self._uri)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
            raise IssuerUnavailable(f"the sign-in keys could not be read: {exc}") from exc
        self._keys = {k.key_id: k for k in keys if k.key_id}
        self._fetched_at = time.monotonic()


class StaticKeys:
    """Keys known in-process (the local development issuer)."""

    def __init__(self, keys: dict[str, jwt.PyJWK]) -> None:
        self._keys = keys

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            raise InvalidToken("the token is signed with a key the issuer does not publish")
        return self._keys[kid]


@dataclass(frozen=True)
class Discovery:
    issuer: str
    jwks_uri: str


async def discover(authority: str, tenant: str, http: httpx.AsyncClient) -> Discovery:
    """The OpenID configuration of ``{authority}/{tenant}/v2.0``. For ``organizations`` the
    issuer is a template holding ``{tenantid}``."""
    url = f"{authority.rstrip('/')}/{tenant}/v2.0/.well-known/openid-configuration"
    try:
        response = await http.get(url)
        response.raise_for_status()
        data = response.json()
        return Discovery(issuer=str(data["issuer"]), jwks_uri=str(data["jwks_uri"]))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise IssuerUnavailable(f"the sign-in configuration at {url} could not be read") from exc


def _guid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


class Verifier(Protocol):
    async def verify(self, token: str) -> Identity: ...


class EntraVerifier:
    """A ``TokenVerifier`` for an Entra ID tenant, set up on first use from the tenant's
    OpenID configuration (so the API starts even while Entra is unreachable)."""

    def __init__(
        self,
        *,
        authority: str,
        tenant: str,
        audiences: tuple[str, ...],
        allowed_tenants: tuple[str, ...],
        scope: str,
        leeway_s: float,
    ) -> None:
        self._authority = authority
        self._tenant = tenant
        self._audiences = audiences
        self._allowed = allowed_tenants
        self._scope = scope
        self._leeway = leeway_s
        self._http: httpx.AsyncClient | None = None
        self._verifier: TokenVerifier | None = None
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Identity:
        if self._verifier is None:
            async with self._lock:
                if self._verifier is None:
                    self._http = self._http or httpx.AsyncClient(timeout=10.0)
                    found = await discover(self._authority, self._tenant, self._http)
                    self._verifier = TokenVerifier(
                        keys=JwksKeys(found.jwks_uri, self._http),
                        issuer=found.issuer,
                        audiences=self._audiences,
                        tenant=self._tenant,
                        allowed_tenants=self._allowed,
                        scope=self._scope,
                        leeway_s=self._leeway,
                    )
        return await self._verifier.verify(token)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


class TokenVerifier:
    def __init__(
        self,
        *,
        keys: KeySource,
        issuer: str,
        audiences: tuple[str, ...],
        tenant: str,
        allowed_tenants: tuple[str, ...] = (),
        scope: str,
        leeway_s: float = 60.0,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audiences = list(audiences)
        self._tenant = tenant.lower()
        self._allowed = {t.lower() for t in allowed_tenants}
        self._scope = scope
        self._leeway = leeway_s

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("the bearer token is not a JWT") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(f"tokens signed with {header.get('alg')!r} are not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        signing_key = await self._keys.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=signing_key.key,
                algorithms=list(ALGORITHMS),
                audience=self._audiences,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("the token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("the token is for another audience") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from exc
        return self._identity(claims)

    def _identity(self, claims: dict[str, Any]) -> Identity:
        tid = _guid(claims.get("tid"))
        oid = _guid(claims.get("oid"))
        if tid is None or oid is None:
            raise InvalidToken("the token's tid and oid must be GUIDs")
        if self._tenant not in ("organizations", "common") and tid != self._tenant:
            raise InvalidToken("the token is from another tenant")
        if self._allowed and tid not in self._allowed:
            raise InvalidToken("the token's tenant is not allowed to sign in here")
        if claims.get("iss") != self._issuer.replace("{tenantid}", tid):
            raise InvalidToken("the token is from another issuer")
        if claims.get("ver") != "2.0":
            raise InvalidToken("only v2.0 access tokens are accepted")
        roles = claims.get("roles") or []
        if "scp" not in claims and isinstance(roles, list) and roles:
            return Identity(
                tenant_id=tid,
                object_id=oid,
                name=str(claims.get("azp") or claims.get("appid") or oid)[:200],
                email=None,
                app=True,
                roles=tuple(str(r) for r in roles),
            )
        if self._scope not in str(claims.get("scp", "")).split():
            raise InvalidToken(f"the token does not carry the scope {self._scope!r}")
        name = str(claims.get("name") or claims.get("preferred_username") or oid)[:200]
        email = claims.get("email") or claims.get("preferred_username")
        return Identity(
            tenant_id=tid,
            object_id=oid,
            name=name,
            email=str(email)[:320] if email else None,
        )
