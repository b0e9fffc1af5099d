"""The organisation's overview figures. Row-level security scopes every query to its org."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Job, JobStatus, Report, ReportStatus


@dataclass(frozen=True)
class Fingerprint:
    fingerprint: str
    title: str | None
    reports: int
    occurrences: int
    latest_report_id: str
    last_seen_at: datetime


@dataclass(frozen=True)
class Stats:
    total: int
    today: int
    this_week: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    noisiest: list[Fingerprint]
    average_confidence: float | None
    queue_depth: int
    oldest_pending_job_at: datetime | None


async def compute(session: AsyncSession, *, top: int = 5) -> Stats:
    now = await session.scalar(select(func.now()))
    assert now is not None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Report.created_at >= midnight),
                func.count().filter(Report.created_at >= now - timedelta(days=7)),
                func.avg(cast(Report.report_data["confidence_score"].astext, Float)).filter(
                    Report.status == ReportStatus.COMPLETE
                ),
            )
        )
    ).one()
    by_status = {
        str(status): int(n)
        for status, n in await session.execute(
            select(Report.status, func.count()).group_by(Report.status)
        )
    }
    category = Report.report_data["category"].astext
    by_category = {
        str(cat): int(n)
        for cat, n in await session.execute(
            select(category, func.count())
            .where(category.is_not(None))
            .group_by(category)
            .order_by(func.count().desc(), category)
        )
    }
    occurrences = func.sum(Report.occurrence_count)
    noisiest_rows = await session.execute(
        select(
            Report.fingerprint,
            func.count(),
            occurrences,
            func.max(Report.last_seen_at),
            # The newest report of the fingerprint: its title and id represent the group.
            text("(array_agg(reports.report_data->>'title' ORDER BY reports.created_at DESC))[1]"),
            text("(array_agg(reports.id ORDER BY reports.created_at DESC))[1]"),
        )
        .where(Report.fingerprint.is_not(None))
        .group_by(Report.fingerprint)
        .order_by(occurrences.desc(), func.max(Report.last_seen_at).desc())
        .limit(top)
    )
    queue = (
        await session.execute(
            select(func.count(), func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED)
        )
    ).one()
    return Stats(
        total=int(counts[0]),
        today=int(counts[1]),
        this_week=int(counts[2]),
        by_status={s.value: by_status.get(s.value, 0) for s in ReportStatus},
        by_category=by_category,
        noisiest=[
            Fingerprint(
                fingerprint=str(fp),
                title=title,
                reports=int(n),
                occurrences=int(occ),
                latest_report_id=str(latest),
                last_seen_at=seen,
            )
            for fp, n, occ, seen, title, latest in noisiest_rows
        ],
        average_confidence=float(counts[3]) if counts[3] is not None else None,
        queue_depth=int(queue[0]),
        oldest_pending_job_at=queue[1],
    )
