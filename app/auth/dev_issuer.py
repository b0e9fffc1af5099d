"""The local development issuer: Entra ID's part, played on one machine.

It signs RS256 access tokens shaped like Entra's v2 tokens (``iss``, ``aud``, ``tid``, ``oid``,
``scp``, ``ver``) with a key made at start-up, and publishes an OpenID configuration and its
keys. The API checks its tokens with the same ``TokenVerifier`` as Entra's. Settings refuse it
outside ``LOGDAWG_ENVIRONMENT=local``, so it can never run in a deployed environment.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.auth.tokens import StaticKeys, TokenVerifier

# A fixed, recognisable tenant: people signed in here are never confused with Entra's.
DEV_TENANT = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://logdawg.invalid/dev-issuer"))
DEV_ISSUER = "https://logdawg.invalid/dev-issuer/{tenantid}/v2.0"
DEV_AUDIENCE = "logdawg-local-api"
TOKEN_LIFETIME_S = 3600


class DevIssuer:
    def __init__(self, *, audience: str, scope: str) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private.public_key()))
        self.jwks: dict[str, Any] = {
            "keys": [{**public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]
        }
        self.audience = audience
        self.scope = scope

    def verifier(self, *, leeway_s: float) -> TokenVerifier:
        keys = {k.key_id or "": k for k in jwt.PyJWKSet.from_dict(self.jwks).keys}
        return TokenVerifier(
            keys=StaticKeys(keys),
            issuer=DEV_ISSUER,
            audiences=(self.audience,),
            tenant=DEV_TENANT,
            scope=self.scope,
            leeway_s=leeway_s,
        )

    def mint(self, email: str, name: str, *, lifetime_s: int = TOKEN_LIFETIME_S) -> str:
        """An access token for the person with this e-mail (the same e-mail is the same
        person: the object id is derived from it)."""
        now = int(time.time())
        claims = {
            "iss": DEV_ISSUER.replace("{tenantid}", DEV_TENANT),
            "aud": self.audience,
            "tid": DEV_TENANT,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.lower()}")),
            "name": name,
            "preferred_username": email,
            "email": email,
            "scp": self.scope,
            "ver": "2.0",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid})

    def mint_app(
        self, object_id: str, roles: list[str], *, lifetime_s: int = TOKEN_LIFETIME_S
    ) -> str:
        """An app-only token for a service principal of the dev tenant (no scope, app roles),
        as Azure Monitor's secure webhook sends."""
        now = int(time.time())
        claims = {
            "iss": DEV_ISSUER.replace("{tenantid}", DEV_TENANT),
            "aud": self.audience,
            "tid": DEV_TENANT,
            "oid": object_id,
            "azp": "461e8683-5575-4561-ac7f-899cc907d62a",
            "roles": roles,
            "ver": "2.0",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid})


class DevTokenRequest(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=200)


class DevToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token type, not a secret
    expires_in: int = TOKEN_LIFETIME_S


router = APIRouter(prefix="/dev-issuer", tags=["local development issuer"])


def _issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer = request.app.state.dev_issuer
    return issuer


@router.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "issuer": DEV_ISSUER,
        "jwks_uri": f"{base}/dev-issuer/keys",
        "token_endpoint": f"{base}/dev-issuer/token",
        "id_token_signing_alg_values_supported": ["RS256"],
    }


@router.get("/keys")
async def keys(request: Request) -> dict[str, Any]:
    return _issuer(request).jwks


@router.post("/token")
async def token(body: DevTokenRequest, request: Request) -> DevToken:
    """Sign in as anyone: for development on one machine only."""
    return DevToken(access_token=_issuer(request).mint(str(body.email), body.name))
