from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def build_sha() -> str:
    """The commit this image was built from (the Dockerfile's BUILD_SHA), or "unknown"."""
    return os.environ.get("LOGDAWG_BUILD_SHA") or "unknown"


@router.get("/readyz", response_model=None)
async def readyz(platform: PlatformDep) -> dict[str, Any] | JSONResponse:
    """Readiness: the database answers and its schema is at this build's head revision. The
    body names the build, so a deploy can tell that the new release, not the old, is ready."""
    try:
        async with platform.engine.connect() as conn:
            revision = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"database unreachable: {type(exc).__name__}",
                "build_sha": build_sha(),
                "head": platform.head_revision,
            },
            status_code=503,
        )
    body = {
        "status": "ok",
        "revision": revision,
        "head": platform.head_revision,
        "build_sha": build_sha(),
    }
    if revision != platform.head_revision:
        body["status"] = "migrating"
        return JSONResponse(body, status_code=503)
    return body
