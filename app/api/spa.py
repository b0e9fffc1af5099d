"""Serving the built SPA at ``/`` (one port locally): its files, and ``index.html`` for the
client-side routes, without shadowing the API, its documentation or the health probes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response

from app.api.problems import allowed_methods

# Paths the SPA never answers for: an unknown one there is the API's 404, not index.html.
RESERVED = ("api/", "docs", "redoc", "openapi.json", "healthz", "readyz", "dev-issuer/")

# What the app uses: its own scripts and styles, calls to its own origin, and Entra ID's
# sign-in endpoints when sign-in goes through MSAL (popup/redirect, token requests).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' https://login.microsoftonline.com; "
    "frame-src https://login.microsoftonline.com; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}

DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"


def install(app: FastAPI, dist: Path) -> bool:
    """Serve ``dist`` when it holds a build; False (and nothing served) otherwise."""
    root = dist.resolve()
    index = root / "index.html"
    if not index.is_file():
        return False

    async def spa(request: Request, path: str) -> Response:
        if path.startswith(RESERVED):
            if allowed := allowed_methods(request):  # an API path, asked with another method
                raise HTTPException(405, "Method Not Allowed", headers={"Allow": allowed})
            raise HTTPException(404, f"Nothing at /{path}.")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            # Vite names built assets by content hash: they never change under one name.
            cache = (
                "public, max-age=31536000, immutable"
                if candidate.parent == root / "assets"
                else "no-cache"
            )
            return FileResponse(candidate, headers={**SECURITY_HEADERS, "Cache-Control": cache})
        if "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404, f"Nothing at /{path}.")  # a missing file, not a route
        return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    app.add_api_route(
        "/{path:path}", spa, methods=["GET", "HEAD"], include_in_schema=False, name="spa"
    )
    return True
