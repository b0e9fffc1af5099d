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
from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from app.db.models import STATUS_CODES, Report, ReportOccurrence, ReportStatus


class InvalidCursor(ValueError):
    pass


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
                await driver.set_autocommit(False)
            except psycopg.Error:
                if driver.broken or driver.closed:
                    # The server went away (a restart): as SQLAlchemy does on a disconnect,
                    # retire this connection and every other pooled one of that server.
                    await conn.invalidate()
                    await bind.dispose(close=False)
                raise
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
)


async def list_reports(
    session: AsyncSession,
    *,
    limit: int,
    status: ReportStatus | None = None,
    cursor: str | None = None,
) -> tuple[list[Report], str | None]:
    """Newest first, keyset-paginated. Row-level security limits it to the session's org.

    Each filter has an index that ends in the keyset order (``ix_reports_org_created``,
    ``ix_reports_org_status_created``), so any page of any filter reads ``limit + 1`` index
    entries. The rows carry the summary columns only: ``report_data`` holds just ``title``
    and ``error_type``, ``log_data`` is not loaded."""
    query = (
        select(
            *_SUMMARY,
            Report.report_data["title"].astext.label("title"),
            Report.report_data["error_type"].astext.label("error_type"),
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Report.status_code == STATUS_CODES[status])
    if cursor is not None:
        created_at, report_id = decode_cursor(cursor)
        query = query.where(tuple_(Report.created_at, Report.id) < tuple_(created_at, report_id))
    rows = []
    for row in (await session.execute(query)).all():
        report = Report(**{column.key: getattr(row, column.key) for column in _SUMMARY})
        summary = {"title": row.title, "error_type": row.error_type}
        set_committed_value(report, "report_data", summary)
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
