"""Accepting logs and reading reports. Services take a session; the caller owns the transaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.db.models import Report, ReportOccurrence, ReportStatus
from app.queue.base import JobQueue


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Submitted:
    report: Report
    # True when the log repeated an error already diagnosed (or being diagnosed) within the
    # grouping window: the existing report counted an occurrence and no job was queued.
    repeat: bool


def _lock_key(org_id: uuid.UUID, fingerprint: str) -> int:
    digest = hashlib.sha256(f"{org_id}:{fingerprint}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def submit_log(
    session: AsyncSession,
    queue: JobQueue,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    source: str | None,
    repo_id: uuid.UUID | None = None,
    fingerprint: str | None = None,
    commit: str | None = None,
    window_s: float = 0,
) -> Submitted:
    """Write the pending report and its job in the caller's transaction, or, for a repeat of
    an error within ``window_s`` (same fingerprint, repository and, when the log names one,
    commit), record an occurrence on the existing report instead.

    Repeats are serialised per fingerprint with a transaction-scoped advisory lock, so a burst
    of the same error makes one report, not one per concurrent request.
    """
    if fingerprint and window_s > 0:
        await session.execute(select(func.pg_advisory_xact_lock(_lock_key(org_id, fingerprint))))
        query = (
            select(Report)
            .where(
                Report.fingerprint == fingerprint,
                Report.repo_id.is_not_distinct_from(repo_id),
                Report.status != ReportStatus.FAILED,
                Report.created_at > func.now() - timedelta(seconds=window_s),
            )
            .order_by(Report.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        if commit:
            # A pending report holds the commit as the log named it; a diagnosed one the full
            # SHA it resolved to, which starts with the short form.
            query = query.where(Report.commit_hash.startswith(commit, autoescape=True))
        existing = await session.scalar(query)
        if existing is not None:
            existing.occurrence_count += 1
            existing.last_seen_at = func.now()
            session.add(
                ReportOccurrence(
                    org_id=org_id, report_id=existing.id, source=source, log_data=log_data
                )
            )
            await session.flush()
            await session.refresh(existing)
            return Submitted(existing, repeat=True)
    report = Report(
        id=uuid.uuid4(),
        org_id=org_id,
        repo_id=repo_id,
        log_data=log_data,
        source=source,
        fingerprint=fingerprint,
        commit_hash=commit,
        status=ReportStatus.PENDING,
    )
    session.add(report)
    await session.flush()
    await queue.enqueue(session, org_id=org_id, report_id=report.id)
    return Submitted(report, repeat=False)


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


async def list_occurrences(
    session: AsyncSession, report_id: uuid.UUID, *, limit: int
) -> list[ReportOccurrence]:
    """The repeats grouped onto a report, newest first (the first occurrence is the report)."""
    rows = await session.scalars(
        select(ReportOccurrence)
        .where(ReportOccurrence.report_id == report_id)
        .order_by(ReportOccurrence.received_at.desc(), ReportOccurrence.id.desc())
        .limit(limit)
    )
    return list(rows.all())
