"""Request ids and security headers (JSON log lines: ``app.observability``).

- Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token, else a new
  one. It is answered in ``X-Request-ID``, carried on every log line written while the
  request runs, stored on the job a log submission queues, and carried on the worker's log
  lines for that job, so one id follows a log from its POST to its report.
- Security headers on every response; a strict Content-Security-Policy on the documentation
  page, whose one inline script is allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import secrets

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import request_id_var

_TOKEN = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
HSTS = b"max-age=31536000; includeSubDomains"


class _Ids:
    """Fresh request ids: 32 hex characters, a random half per process and a counter. As
    unique as a UUID for this purpose, without a call for random bytes on every request."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


_ids = _Ids()


def new_request_id(offered: str | None = None) -> str:
    if offered and _TOKEN.match(offered):
        return offered
    return _ids.next()


class RequestContext:
    """Request id in and out, and the security headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        request_id = new_request_id(offered)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP))
                if https:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)


def _script_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    ]


def add_docs(app: FastAPI, path: str = "/docs") -> None:
    """Swagger UI with a strict Content-Security-Policy: its assets from the one CDN FastAPI
    uses, its inline script by hash, nothing else."""

    @app.get(path, include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} - docs")
        html = bytes(page.body).decode()
        cdn = "https://cdn.jsdelivr.net"
        policy = (
            f"default-src 'none'; script-src {cdn} {' '.join(_script_hashes(html))}; "
            f"style-src {cdn} 'unsafe-inline'; img-src {cdn} https://fastapi.tiangolo.com data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})
