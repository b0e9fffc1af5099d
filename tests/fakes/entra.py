"""A stand-in for Microsoft Entra ID's sign-in metadata on 127.0.0.1: the OpenID configuration
at ``/{tenant}/v2.0/.well-known/openid-configuration`` and the signing keys (JWKS) it names,
in the documented shapes, plus a minter of v2.0 access tokens signed with keys made in the
test. Keys can be rotated, and every request is counted."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.http import serve_http

TENANT = "8b1f6a52-4e1c-4d2a-9c3e-1f0a2b3c4d5e"
OTHER_TENANT = "d4c3b2a1-0f9e-4d8c-a7b6-5e4d3c2b1a09"
API_APP_ID = "6e2c5a11-9b7d-4f3e-8a21-7c6b5d4e3f20"
SCOPE = "access_as_user"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> SigningKey:
        return cls(kid=uuid.uuid4().hex, private=rsa.generate_private_key(65537, 2048))

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "kty": "RSA"}


@dataclass
class FakeEntra:
    url: str = ""
    published: list[SigningKey] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def issuer(self, tenant: str) -> str:
        # Entra's v2.0 issuer; for "organizations" its metadata holds the {tenantid} template.
        return f"{self.url}/{tenant}/v2.0"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        tenant = overrides.pop("tid", TENANT)
        claims = {
            "aud": API_APP_ID,
            "iss": self.issuer(tenant),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": tenant,
            "oid": str(uuid.uuid4()),
            "name": "Ada Lovelace",
            "preferred_username": "ada@contoso.example",
            "scp": f"{SCOPE} offline_access",
            "ver": "2.0",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: SigningKey | None = None, **overrides: Any) -> str:
        key = key or self.published[0]
        return jwt.encode(
            self.claims(**overrides), key.private, algorithm="RS256", headers={"kid": key.kid}
        )


@contextmanager
def fake_entra() -> Iterator[FakeEntra]:
    entra = FakeEntra(published=[SigningKey.new()])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            entra.requests.append(self.path)
            parts = self.path.strip("/").split("/")
            if self.path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = parts[0]
                issuer_tenant = "{tenantid}" if tenant in ("organizations", "common") else tenant
                body: Any = {
                    "issuer": entra.issuer(issuer_tenant),
                    "jwks_uri": f"{entra.url}/{tenant}/discovery/v2.0/keys",
                    "token_endpoint": f"{entra.url}/{tenant}/oauth2/v2.0/token",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path.endswith("/discovery/v2.0/keys"):
                body = {"keys": [k.jwk() for k in entra.published]}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve_http(Handler) as url:
        entra.url = url
        yield entra
