"""The API's app factory: ``uvicorn app.main:create_app --factory``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import telemetry
from app.api import observability, problems, spa
from app.api.limits import BodySizeLimit, JsonGuard
from app.api.routes import (
    access,
    api_keys,
    github_app,
    health,
    ingest,
    issue_links,
    issues,
    logs,
    notifications,
    reports,
    repositories,
    repository_checks,
    retention,
    stats,
    webhook_principals,
    webhooks_github,
)
from app.auth import dev_issuer
from app.auth.authenticate import Authentication
from app.auth.setup import install_access
from app.bootstrap import Platform, bootstrap
from app.observability import configure_logging
from app.settings import Settings, get_settings

# The cycle collector's thresholds in an API process. A request allocates a few hundred
# objects, nearly all freed by reference counting, so Python's default (a young collection
# every 700 allocations) ran one every couple of requests, to find almost nothing: raised,
# the API spends ~6 % less CPU per log submitted (benchmarks/ingest.py). Cycles (an
# exception and its traceback) are still collected, a few hundred requests later.
GC_THRESHOLDS = (20_000, 10, 10)


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """Build the API. ``platform`` lets a caller (the tests) hand in adapters it already runs;
    otherwise the lifespan bootstraps them from ``settings`` and closes them on shutdown."""
    telemetry.configure("logdawg-api")
    settings = settings or (platform.settings if platform else get_settings())
    settings.check_api()
    if platform is None:
        configure_logging(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if platform is not None:
            yield
            return
        owned = await bootstrap(settings)
        app.state.platform = owned
        access = install_access(app, owned)
        # What start-up built lives as long as the process: out of the collector's way, so a
        # full collection does not walk it in the middle of requests (latency spikes).
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            await access.aclose()
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
        install_access(app, platform)
    problems.install(app)
    # The last added runs first: the size limit, then authentication (so an unauthenticated
    # request is 401 before its body is judged), then the JSON guard on bounded bodies.
    app.add_middleware(JsonGuard)
    app.add_middleware(Authentication)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(observability.RequestContext)  # outermost: every answer carries them
    # The ingest routes first: a request is matched against the routes in this order, route
    # by route, and ingest is the hot path (every route ahead of it cost it a match).
    app.include_router(logs.ingest_router)
    app.include_router(logs.router)
    app.include_router(ingest.router)
    app.include_router(health.router)
    app.include_router(access.router)
    app.include_router(api_keys.router)
    app.include_router(webhook_principals.router)
    app.include_router(reports.router)
    app.include_router(issues.router)
    app.include_router(issues.changes)
    app.include_router(issue_links.router)
    app.include_router(notifications.router)
    app.include_router(repositories.router)
    app.include_router(repository_checks.router)
    app.include_router(stats.router)
    app.include_router(retention.router)
    app.include_router(github_app.router)
    app.include_router(webhooks_github.router)
    if settings.auth_provider == "dev":
        app.include_router(dev_issuer.router)
    # Outermost: a browser's preflight is answered before authentication sees it.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Logdawg-Org"],
            max_age=600,
        )
    # Last: the SPA's catch-all must not shadow any route above.
    spa.install(app, settings.spa_dir or spa.DEFAULT_DIST)
    return app
