"""Accepting logs and reading reports. Services take a session; the caller owns the transaction."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import text

from app.db.models import STATUS_CODES, Job, Report, ReportOccurrence, ReportStatus
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
    report_id: uuid.UUID
    # The job queued for a new report; None for a repeat.
    job_id: uuid.UUID | None
    status: ReportStatus
    occurrence_count: int
    # True when the log repeated an error already diagnosed (or being diagnosed) within the
    # grouping window: the existing report counted an occurrence and no job was queued.
    repeat: bool
    repo_id: uuid.UUID | None


class UnknownRepository(LookupError):
    pass


_SUBMIT = text(
    "SELECT out_report_id, out_job_id, out_status, out_occurrences, out_repeat, "
    "out_repo_missing, out_repo_id FROM logdawg_submit_log(:org, CAST(:log AS jsonb), :source, "
    ":repo, :repo_given, :fingerprint, :commit, :window, :max_attempts, :request_id)"
)


_SUBMIT_PSYCOPG = (
    "SELECT out_report_id, out_job_id, out_status, out_occurrences, out_repeat, "
    "out_repo_missing, out_repo_id FROM logdawg_submit_log(%(org)s, %(log)s::jsonb, "
    "%(source)s, %(repo)s, %(repo_given)s, %(fingerprint)s, %(commit)s, %(window)s, "
    "%(max_attempts)s, %(request_id)s)"
)


def _params(
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    source: str | None,
    repo_id: uuid.UUID | None,
    fingerprint: str | None,
    commit: str | None,
    window_s: float,
    max_attempts: int,
    request_id: str | None,
) -> dict[str, Any]:
    return {
        "org": org_id,
        "log": json.dumps(log_data, ensure_ascii=False, allow_nan=False),
        "source": source,
        "repo": repo_id,
        "repo_given": repo_id is not None,
        "fingerprint": fingerprint,
        "commit": commit,
        "window": float(window_s),
        "max_attempts": max_attempts,
        "request_id": request_id,
    }


def _submitted(row: Any) -> Submitted:
    if row.out_repo_missing:
        raise UnknownRepository(row.out_repo_id)
    return Submitted(
        report_id=row.out_report_id,
        job_id=row.out_job_id,
        status=ReportStatus(row.out_status),
        occurrence_count=row.out_occurrences,
        repeat=row.out_repeat,
        repo_id=row.out_repo_id,
    )


async def submit_log(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    source: str | None,
    repo_id: uuid.UUID | None = None,
    fingerprint: str | None = None,
    commit: str | None = None,
    window_s: float = 0,
    max_attempts: int = 5,
    request_id: str | None = None,
) -> Submitted:
    """Accept a log in the caller's transaction: the pending report and its job, or, for a
    repeat of an error within ``window_s`` (same fingerprint, repository and commit as the log
    names it), an occurrence on the existing report. One statement (``logdawg_submit_log``):
    the grouping decision is serialised by the unique group key, not by a lock.

    ``repo_id`` None means the organisation's only repository, if it has exactly one;
    an unknown ``repo_id`` raises ``UnknownRepository`` and writes nothing."""
    row = (
        await session.execute(
            _SUBMIT,
            _params(
                org_id=org_id, log_data=log_data, source=source, repo_id=repo_id,
                fingerprint=fingerprint, commit=commit, window_s=window_s,
                max_attempts=max_attempts, request_id=request_id,
            ),
        )
    ).one()  # fmt: skip
    return _submitted(row)


async def accept_log(
    sessions: async_sessionmaker[AsyncSession],
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    source: str | None,
    repo_id: uuid.UUID | None = None,
    fingerprint: str | None = None,
    commit: str | None = None,
    window_s: float = 0,
    max_attempts: int = 5,
    request_id: str | None = None,
) -> Submitted:
    """``submit_log`` as the request's one durable write: a single autocommitted statement
    (one round trip; the function sets the organisation for row-level security itself). A
    factory bound to a connection already in a transaction (the tests) joins it instead."""
    params = _params(
        org_id=org_id, log_data=log_data, source=source, repo_id=repo_id,
        fingerprint=fingerprint, commit=commit, window_s=window_s,
        max_attempts=max_attempts, request_id=request_id,
    )  # fmt: skip
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.driver == "psycopg":
        # The pooled connection's driver directly: SQLAlchemy's statement machinery costs
        # about as much CPU as the statement itself on this path.
        async with bind.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            try:
                await driver.set_autocommit(True)
                cursor = driver.cursor(row_factory=namedtuple_row)
                await cursor.execute(_SUBMIT_PSYCOPG, params)
                row = await cursor.fetchone()
            except psycopg.Error:
                if driver.broken or driver.closed:
                    # The server went away (a restart): as SQLAlchemy does on a disconnect,
                    # retire this connection and every other pooled one of that server.
                    await conn.invalidate()
                    await bind.dispose(close=False)
                raise
            finally:
                # Back to transactions before the pool lends it again, on every way out: a
                # session's organisation setting lives for one transaction.
                if not (driver.broken or driver.closed):
                    await driver.set_autocommit(False)
        return _submitted(row)
    async with sessions() as session, session.begin():
        return _submitted((await session.execute(_SUBMIT, params)).one())


# A page cursor: the last row's created_at (microseconds since the epoch) and id. Plain and
# fully described by this pattern (in the OpenAPI document too), so any cursor that matches
# it is one the API can resume from.
CURSOR_PATTERN = r"^[0-9]{1,17}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(report: Report) -> str:
    micros = (report.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{report.id}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not re.match(CURSOR_PATTERN, cursor):
        raise InvalidCursor("the cursor is not one this API handed out")
    micros, report_id = cursor.split("_", 1)
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(report_id)
    except (OverflowError, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API handed out") from exc


# The columns a list row shows; the full ``report_data`` (kilobytes per row) and the log are
# left in the database, and the title and error type are read out of ``report_data`` there.
_SUMMARY = (
    Report.id,
    Report.org_id,
    Report.status,
    Report.created_at,
    Report.completed_at,
    Report.repo_id,
    Report.commit_hash,
    Report.fingerprint,
    Report.source,
    Report.occurrence_count,
    Report.last_seen_at,
)
# The keys of ``report_data`` a list row shows (the culprit frame is a small object).
_SUMMARY_KEYS = ("title", "error_type", "category", "culprit", "culprit_file", "confidence_score")


async def list_reports(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None = None,
    filters: ReportFilters,
) -> tuple[list[Report], str | None]:
    """Newest first, keyset-paginated. Row-level security limits it to the session's org.

    Each filter has an index that ends in the keyset order (``ix_reports_org_created``,
    ``ix_reports_org_status_created``), so any page of any filter reads ``limit + 1`` index
    entries. The rows carry the summary columns only: ``report_data`` holds just the keys a
    list row shows (``_SUMMARY_KEYS``), ``log_data`` is not loaded. The search uses the
    reports' generated ``search_vector`` and its GIN index."""
    query = (
        select(
            *_SUMMARY,
            func.jsonb_strip_nulls(
                func.jsonb_build_object(
                    *(part for key in _SUMMARY_KEYS for part in (key, Report.report_data[key]))
                )
            ).label("summary"),
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    if filters.status is not None:
        # Through the integer: enum equality is not leakproof, so under row-level security it
        # could not be an index condition.
        query = query.where(Report.status_code == STATUS_CODES[filters.status])
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
    rows = []
    for row in (await session.execute(query)).all():
        report = Report(**{column.key: getattr(row, column.key) for column in _SUMMARY})
        set_committed_value(report, "report_data", row.summary)
        rows.append(report)
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
    await session.execute(delete(Job).where(Job.report_id == report.id, Job.kind == "diagnose"))
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
