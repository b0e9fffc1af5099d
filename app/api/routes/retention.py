"""The organisation's retention: how long its reports are kept."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import Admin, SessionDep, Viewer
from app.services import retention

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age_days: int | None = Field(
        ge=1,
        le=3650,
        description="Finished reports last seen longer ago than this are deleted by a periodic "
        "sweep, with their occurrences; null keeps them for good.",
    )


@router.get("")
async def get_retention(session: SessionDep, actor: Viewer) -> Retention:
    return Retention(max_age_days=await retention.get_retention(session, actor.org_id))


@router.put("")
async def set_retention(body: Retention, session: SessionDep, actor: Admin) -> Retention:
    """Admins and owners set it; the next sweep (hourly by default) applies it."""
    await retention.set_retention(session, actor.org_id, body.max_age_days)
    await session.commit()
    return body
