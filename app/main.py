"""The API's app factory: ``uvicorn app.main:create_app --factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import telemetry
from app.api import problems
from app.api.limits import BodySizeLimit
from app.api.routes import health, logs, reports, repositories
from app.bootstrap import Platform, bootstrap
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """Build the API. ``platform`` lets a caller (the tests) hand in adapters it already runs;
    otherwise the lifespan bootstraps them from ``settings`` and closes them on shutdown."""
    telemetry.configure("logdawg-api")
    settings = settings or (platform.settings if platform else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if platform is not None:
            yield
            return
        owned = await bootstrap(settings)
        app.state.platform = owned
        try:
            yield
        finally:
            await owned.aclose()

    app = FastAPI(
        title="Log Dawg Cloud",
        version="0.1.0",
        description="Diagnoses application error logs with the code of your own repository.",
        lifespan=lifespan,
    )
    if platform is not None:
        app.state.platform = platform
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(logs.router)
    app.include_router(reports.router)
    app.include_router(repositories.router)
    return app
