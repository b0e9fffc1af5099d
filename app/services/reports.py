"""Accepting logs and reading reports. Services take a session; the caller owns the transaction."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.db.models import Report, ReportStatus
from app.queue.base import JobQueue


class InvalidCursor(ValueError):
    pass


async def submit_log(
    session: AsyncSession,
    queue: JobQueue,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    source: str | None,
) -> Report:
    """Write the pending report and its job in the caller's transaction."""
    report = Report(
        id=uuid.uuid4(),
        org_id=org_id,
        log_data=log_data,
        source=source,
        status=ReportStatus.PENDING,
    )
    session.add(report)
    await session.flush()
    await queue.enqueue(session, org_id=org_id, report_id=report.id)
    return report


def encode_cursor(report: Report) -> str:
    raw = f"{report.created_at.isoformat()}|{report.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, report_id = raw.split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(report_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API handed out") from exc


async def list_reports(
    session: AsyncSession,
    *,
    limit: int,
    status: ReportStatus | None = None,
    cursor: str | None = None,
) -> tuple[list[Report], str | None]:
    """Newest first, keyset-paginated. Row-level security limits it to the session's org."""
    query = (
        select(Report)
        .options(defer(Report.log_data))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Report.status == status)
    if cursor is not None:
        created_at, report_id = decode_cursor(cursor)
        query = query.where(tuple_(Report.created_at, Report.id) < tuple_(created_at, report_id))
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> Report | None:
    return await session.get(Report, report_id)
