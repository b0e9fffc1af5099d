"""Dependency aliases for the routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.bootstrap import Platform
from app.db.session import tenant_session
from app.queue.base import JobQueue


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in a worker thread, a thread hop per dependency per request.
async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_current_org(platform: PlatformDep) -> uuid.UUID:
    # Until sign-in exists, every request acts for the local organisation.
    if platform.local_org_id is None:
        raise HTTPException(401, "Authentication is required.")
    return platform.local_org_id


CurrentOrg = Annotated[uuid.UUID, Depends(get_current_org)]


async def get_session(platform: PlatformDep, org_id: CurrentOrg) -> AsyncIterator[AsyncSession]:
    async with tenant_session(platform.sessions, org_id) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_queue(platform: PlatformDep) -> JobQueue:
    return platform.queue


QueueDep = Annotated[JobQueue, Depends(get_queue)]
