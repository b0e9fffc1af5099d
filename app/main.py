"""The API's app factory: ``uvicorn app.main:create_app --factory``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import observability, problems
from app.api.limits import BodySizeLimit, JsonGuard
from app.api.routes import health, logs, reports, repositories
from app.bootstrap import Platform, bootstrap
from app.observability import configure_logging
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """Build the API. ``platform`` lets a caller (the tests) hand in adapters it already runs;
    otherwise the lifespan bootstraps them from ``settings`` and closes them on shutdown."""
    settings = settings or (platform.settings if platform else get_settings())
    if platform is None:
        configure_logging(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if platform is not None:
            yield
            return
        owned = await bootstrap(settings)
        app.state.platform = owned
        # What start-up built lives as long as the process: out of the collector's way, so a
        # full collection does not walk it in the middle of requests (latency spikes).
        gc.freeze()
        try:
            yield
        finally:
            await owned.aclose()

    app = FastAPI(
        title="Log Dawg Cloud",
        version="0.1.0",
        description="Diagnoses application error logs with the code of your own repository.",
        lifespan=lifespan,
        # LOGDAWG_DOCS_ENABLED=false: no /docs, /redoc or /openapi.json.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    if settings.docs_enabled:
        observability.add_docs(app)
    if platform is not None:
        app.state.platform = platform
    problems.install(app)
    app.add_middleware(JsonGuard)  # inside the size limit: it reads only bounded bodies
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(observability.RequestContext)  # outermost: every answer carries them
    app.include_router(health.router)
    app.include_router(logs.router)
    app.include_router(reports.router)
    app.include_router(repositories.router)
    return app
