"""Accepting logs and reading reports. Services take a session; the caller owns the transaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlalchemy.sql import text

from app.db.models import Job, Report, ReportOccurrence, ReportStatus
from app.queue.base import JobQueue


class InvalidCursor(ValueError):
    pass


class ReportBusy(Exception):
    """The report is being diagnosed right now; it can be re-run once that attempt ends."""


@dataclass(frozen=True)
class ReportFilters:
    """What the report list is narrowed to; every field is optional and they combine."""

    status: ReportStatus | None = None
    repo_id: uuid.UUID | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Words searched in the title, the error message and the culprit file (web-search syntax:
    # "quoted phrases", -excluded, or).
    q: str | None = None


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
    filters: ReportFilters | None = None,
) -> tuple[list[Report], str | None]:
    """Newest first, keyset-paginated. Row-level security limits it to the session's org.

    The search uses the reports' generated ``search_vector`` and its GIN index."""
    filters = filters or ReportFilters(status=status)
    query = (
        select(Report)
        .options(defer(Report.log_data))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    if filters.status is not None:
        query = query.where(Report.status == filters.status)
    if filters.repo_id is not None:
        query = query.where(Report.repo_id == filters.repo_id)
    if filters.category:
        query = query.where(Report.report_data["category"].astext == filters.category)
    if filters.since is not None:
        query = query.where(Report.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Report.created_at < filters.until)
    if filters.q and filters.q.strip():
        query = query.where(
            Report.search_vector.bool_op("@@")(
                func.websearch_to_tsquery(text("'simple'"), filters.q.strip())
            )
        )
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


async def delete_report(session: AsyncSession, report: Report) -> None:
    """The report, its occurrences and its job (both cascade with it)."""
    await session.execute(delete(Report).where(Report.id == report.id))


async def rerun(session: AsyncSession, queue: JobQueue, report: Report) -> Report:
    """Diagnose the report's log again: back to pending with a fresh job, the previous
    diagnosis kept until the new one replaces it. The log, its occurrences and the id stay."""
    if report.status in (ReportStatus.PENDING, ReportStatus.RUNNING):
        # Lock the row so two re-runs (or a re-run and a claim) do not interleave.
        await session.refresh(report, with_for_update=True)
        if report.status is ReportStatus.RUNNING:
            raise ReportBusy(f"report {report.id} is being diagnosed right now; try again soon")
        if report.status is ReportStatus.PENDING:
            return report  # already waiting for a worker: nothing to add
    # The finished job's row (one per report) makes way for the new one.
    await session.execute(delete(Job).where(Job.report_id == report.id))
    await session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(
            status=ReportStatus.PENDING,
            error=None,
            started_at=None,
            completed_at=None,
            attempts=0,
        )
    )
    await queue.enqueue(session, org_id=report.org_id, report_id=report.id)
    await session.flush()
    await session.refresh(report)
    return report
