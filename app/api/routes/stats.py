"""The overview page's figures: the organisation's reports and the system's health."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import PlatformDep, SessionDep, Viewer
from app.services import stats

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


class NoisyFingerprint(BaseModel):
    fingerprint: str
    title: str | None
    reports: int
    occurrences: int
    latest_report_id: uuid.UUID
    last_seen_at: datetime


class Health(BaseModel):
    api_ready: bool
    schema_revision: str | None
    schema_head: str
    # Jobs of this organisation waiting for a worker, and when the oldest was queued.
    queue_depth: int
    oldest_pending_job_at: datetime | None


class StatsOut(BaseModel):
    total: int
    today: int
    this_week: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    noisiest: list[NoisyFingerprint]
    average_confidence: float | None
    health: Health


@router.get("")
async def get_stats(session: SessionDep, platform: PlatformDep, actor: Viewer) -> StatsOut:
    """Counts (today, the last 7 days, by status, by category), the noisiest fingerprints,
    the average confidence of complete reports, and the system's health."""
    figures = await stats.compute(session)
    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return StatsOut(
        total=figures.total,
        today=figures.today,
        this_week=figures.this_week,
        by_status=figures.by_status,
        by_category=figures.by_category,
        noisiest=[
            NoisyFingerprint.model_validate(f, from_attributes=True) for f in figures.noisiest
        ],
        average_confidence=figures.average_confidence,
        health=Health(
            api_ready=revision == platform.head_revision,
            schema_revision=revision,
            schema_head=platform.head_revision,
            queue_depth=figures.queue_depth,
            oldest_pending_job_at=figures.oldest_pending_job_at,
        ),
    )
