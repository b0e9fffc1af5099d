"""Microsoft Entra ID's token endpoint for a service principal (the OAuth 2.0 client
credentials grant), on 127.0.0.1, in the documented shapes:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and ``GET
  /common/discovery/instance`` (what MSAL reads first);
- ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials`` and either a
  ``client_secret`` or a ``client_assertion`` (a JWT signed with the certificate's private key,
  ``x5t``/``x5t#S256`` naming the certificate, ``aud`` the token endpoint, ``iss`` = ``sub`` =
  the client id). It answers ``access_token`` with ``expires_in``, or ``invalid_client``.

azure-identity insists on an https authority, so it is reached through azure-identity's own
transport seam: ``LoopbackTransport`` sends what is addressed to login.microsoftonline.com to
this server instead. Tokens issued are handed to ``on_issue`` (a fake Azure DevOps accepts
them)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from azure.core.pipeline.transport import RequestsTransport
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.fakes.http import serve_http

AUTHORITY_HOST = "login.microsoftonline.com"


@dataclass
class Principal:
    tenant_id: str
    client_id: str
    secret: str | None = None
    certificate: x509.Certificate | None = None


@dataclass
class FakeEntraTokens:
    url: str = ""
    principals: dict[str, Principal] = field(default_factory=dict)  # by client id
    lifetime_s: int = 3600
    issued: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    assertions: list[str] = field(default_factory=list)
    on_issue: Callable[[str, float], None] = lambda token, expires: None

    def _assertion_ok(self, principal: Principal, endpoint: str, assertion: str) -> str | None:
        """None when the client assertion proves the certificate, else why not."""
        certificate = principal.certificate
        if certificate is None:
            return "the principal has no certificate"
        header = jwt.get_unverified_header(assertion)
        sha1 = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).rstrip(b"=")  # noqa: S303
        sha256 = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256())).rstrip(b"=")
        named = {str(header.get(k, "")).rstrip("=") for k in ("x5t", "x5t#S256")}
        if not named & {sha1.decode(), sha256.decode()}:
            return "the assertion names another certificate"
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=endpoint,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            return f"bad assertion: {type(exc).__name__}"
        if claims["iss"] != principal.client_id or claims["sub"] != principal.client_id:
            return "the assertion's iss/sub is not the client id"
        return None

    def grant(self, tenant: str, form: dict[str, str], endpoint: str) -> tuple[int, Any]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        principal = self.principals.get(form.get("client_id", ""))
        why: str | None
        if principal is None or principal.tenant_id != tenant:
            why = "unknown client in this tenant"
        elif "client_assertion" in form:
            self.assertions.append(form["client_assertion"])
            why = (
                "wrong client_assertion_type"
                if form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                else self._assertion_ok(principal, endpoint, form["client_assertion"])
            )
        elif principal.secret is not None and secrets.compare_digest(
            form.get("client_secret", ""), principal.secret
        ):
            why = None
        else:
            why = "wrong or missing client secret"
        if why is not None:
            self.refused.append(why)
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        token = "eyJ0eXAiOiJKV1QifQ.eyJzcCI6MX0." + secrets.token_urlsafe(24)
        self.issued.append(token)
        self.on_issue(token, time.time() + self.lifetime_s)
        return 200, {"token_type": "Bearer", "expires_in": self.lifetime_s,
                     "ext_expires_in": self.lifetime_s, "access_token": token}  # fmt: skip


@contextmanager
def fake_entra_tokens() -> Iterator[FakeEntraTokens]:
    entra = FakeEntraTokens()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            tenant = urlsplit(self.path).path.strip("/").split("/")[0]
            if urlsplit(self.path).path == "/common/discovery/instance":
                # Instance metadata: which hosts are aliases of one another (MSAL's cache).
                self._send(200, {
                    "tenant_discovery_endpoint": f"https://{AUTHORITY_HOST}/common/v2.0/"
                                                 ".well-known/openid-configuration",
                    "api-version": "1.1",
                    "metadata": [{"preferred_network": AUTHORITY_HOST,
                                  "preferred_cache": "login.windows.net",
                                  "aliases": [AUTHORITY_HOST, "login.windows.net"]}],
                })  # fmt: skip
                return
            if not self.path.endswith("/v2.0/.well-known/openid-configuration"):
                self._send(404, {"error": "not_found"})
                return
            base = f"https://{AUTHORITY_HOST}/{tenant}"
            self._send(200, {
                "issuer": f"https://{AUTHORITY_HOST}/{tenant}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt"],
            })  # fmt: skip

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            parts = path.strip("/").split("/")
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
                self._send(404, {"error": "not_found"})
                return
            status, body = entra.grant(parts[0], form, f"https://{AUTHORITY_HOST}{path}")
            self._send(status, body)

    with serve_http(Handler) as url:
        entra.url = url
        yield entra


class LoopbackTransport(RequestsTransport):
    """azure-identity's transport, sending Entra ID's requests to the fake on 127.0.0.1."""

    def __init__(self, fake_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fake_url = fake_url.rstrip("/")
        self.sent: list[str] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        if parts.hostname != AUTHORITY_HOST:
            raise AssertionError(f"a request outside Entra ID: {parts.hostname}")
        self.sent.append(f"{request.method} {parts.path}")
        request.url = self._fake_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)
