"""Accepting logs and reading reports. Services take a session; the caller owns the transaction."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import text

from app.db.models import (
    STATUS_CODES,
    Job,
    NotificationDelivery,
    Report,
    ReportOccurrence,
    ReportStatus,
)
from app.db.session import direct_connection, direct_connections, tenant_session
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
    """``submit_log`` as the request's one durable write, committed before this returns: the
    logs accepted at the same moment go to the database together (``SubmitBatches``). A
    factory bound to a connection already in a transaction (the tests) joins it instead."""
    params = _params(
        org_id=org_id, log_data=log_data, source=source, repo_id=repo_id,
        fingerprint=fingerprint, commit=commit, window_s=window_s,
        max_attempts=max_attempts, request_id=request_id,
    )  # fmt: skip
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.driver == "psycopg":
        return _submitted(await submit_batches(bind).submit(params))
    async with sessions() as session, session.begin():
        return _submitted((await session.execute(_SUBMIT, params)).one())


# ``logdawg_submit_log`` once per element of the arrays, in their order, in one autocommitted
# statement (so one transaction: all of a batch is written, or none of it). A batch of one
# log is one element.
_SUBMIT_MANY = (
    "SELECT s.out_report_id, s.out_job_id, s.out_status, s.out_occurrences, s.out_repeat, "
    "s.out_repo_missing, s.out_repo_id "
    "FROM unnest(%s::uuid[], %s::jsonb[], %s::text[], %s::uuid[], %s::boolean[], %s::text[], "
    "%s::text[], %s::float8[], %s::int[], %s::text[]) WITH ORDINALITY "
    "AS b(org, log, source, repo, repo_given, fingerprint, commit_hash, window_s, "
    "max_attempts, request_id, n) "
    "CROSS JOIN LATERAL logdawg_submit_log(b.org, b.log, b.source, b.repo, b.repo_given, "
    "b.fingerprint, b.commit_hash, b.window_s, b.max_attempts, b.request_id) AS s "
    "ORDER BY b.n"
)
_PARAM_ORDER = (
    "org", "log", "source", "repo", "repo_given", "fingerprint", "commit", "window",
    "max_attempts", "request_id",
)  # fmt: skip


def _batch_args(logs: list[dict[str, Any]]) -> list[list[Any]]:
    """``_SUBMIT_MANY``'s arrays for ``_params`` of each log, in order."""
    return [[log[key] for log in logs] for key in _PARAM_ORDER]


MAX_BATCH = 64
# And at most this much log JSON in one statement (a log above it goes alone): a statement's
# parameters travel in one protocol message, which PostgreSQL caps at 1 GiB.
MAX_BATCH_CHARS = 4 * 1024 * 1024
# The SQLSTATE classes of an error one log of a batch can cause (a bad value, a constraint, a
# deadlock or serialization failure with another writer, a raise in the function): the batch
# is tried again log by log. Any other error (a lost connection, a server shutting down, too
# many connections) is every log's.
_ONE_LOGS_FAULT = frozenset({"22", "23", "40", "P0"})


@dataclass(eq=False)
class _Waiting:
    params: dict[str, Any]
    outcome: asyncio.Future[Any]


def _lock_order(item: _Waiting) -> tuple[str, str, str, str]:
    """The order a batch is written in. A submit locks its group's row (the key is the
    fingerprint, the repository as the function resolves it and the commit) and then that
    group's report; batches that lock in one order cannot deadlock each other. The
    repository comes last: a log naming the organisation's only repository and one leaving it
    out are the same group, and must not sort apart around groups of other commits."""
    p = item.params
    return (str(p["org"]), p["fingerprint"] or "", p["commit"] or "", str(p["repo"] or ""))


class SubmitBatches:
    """Group commit for the ingest statement. Every log submitted while the database is busy
    with earlier ones waits for the next free lane (one of at most ``lanes`` direct
    connections), and the lane writes all that waited (up to ``MAX_BATCH`` logs and
    ``MAX_BATCH_CHARS``) in one statement: the per-statement costs (a round trip, a commit,
    the driver's work) are paid once per batch instead of once per log, and a log's request
    still answers only after its log is committed. With a lane free, a log goes alone at
    once: nothing waits for a batch to fill.

    A batch that fails on a statement error (a deadlock with another writer, a bad row) is
    tried again log by log, so each request gets its own log's outcome. A lost connection
    fails every request of the batch; the batch is one transaction, so it was committed whole
    or not at all, and only a connection lost after the server committed (the reply lost)
    leaves logs stored whose requests failed (a sender's retry then counts as a repeat), as
    for a single log. One instance serves one event loop."""

    def __init__(self, engine: AsyncEngine, lanes: int) -> None:
        # Weakly: the registry below is keyed by the engine.
        self._engine = weakref.ref(engine)
        self.loop = asyncio.get_running_loop()
        self._lanes = max(1, lanes)
        self._busy = 0
        self._waiting: deque[_Waiting] = deque()
        self._drains: set[asyncio.Task[None]] = set()

    async def submit(self, params: dict[str, Any]) -> Any:
        item = _Waiting(params, self.loop.create_future())
        self._waiting.append(item)
        if self._busy < self._lanes:
            self._busy += 1
            drain = self.loop.create_task(self._drain())
            self._drains.add(drain)
            # The lane is freed when the task ends, however it ends (even cancelled before
            # its first step, when its own ``finally`` would never run).
            drain.add_done_callback(self._lane_freed)
        return await item.outcome

    def _lane_freed(self, drain: asyncio.Task[None]) -> None:
        self._drains.discard(drain)
        self._busy -= 1

    def _next_batch(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        chars = 0
        while self._waiting and len(batch) < MAX_BATCH:
            item = self._waiting[0]
            if item.outcome.done():  # its request gave up: not written
                self._waiting.popleft()
                continue
            chars += len(item.params["log"])
            if batch and chars > MAX_BATCH_CHARS:
                break
            batch.append(self._waiting.popleft())
        return batch

    async def _drain(self) -> None:
        batch: list[_Waiting] = []
        try:
            while batch := self._next_batch():
                await self._write(batch)
        except BaseException:
            # Cancelled (the loop is closing): the outcome of what was being written is
            # unknown.
            for item in batch:
                item.outcome.cancel()
            raise

    async def _write(self, batch: list[_Waiting]) -> None:
        batch.sort(key=_lock_order)
        try:
            rows = await self._execute(batch)
            if len(rows) != len(batch):
                raise RuntimeError(f"{len(rows)} answers to a batch of {len(batch)} logs")
        except psycopg.Error as exc:
            if not (len(batch) > 1 and (exc.sqlstate or "")[:2] in _ONE_LOGS_FAULT):
                _settle(batch, exc)
                return
        except Exception as exc:  # each request raises it, and the API logs it there
            _settle(batch, exc)
            return
        else:
            for item, row in zip(batch, rows, strict=True):
                if not item.outcome.done():
                    item.outcome.set_result(row)
            return
        for item in batch:  # log by log, each with its own outcome
            if not item.outcome.done():
                await self._write([item])

    async def _execute(self, batch: list[_Waiting]) -> list[Any]:
        if (engine := self._engine()) is None:
            raise RuntimeError("the database engine was disposed of")
        async with direct_connection(engine) as driver:
            cursor = driver.cursor(row_factory=namedtuple_row)
            await cursor.execute(_SUBMIT_MANY, _batch_args([w.params for w in batch]))
            return await cursor.fetchall()


def _settle(batch: list[_Waiting], exc: BaseException) -> None:
    for item in batch:
        if not item.outcome.done():
            item.outcome.set_exception(exc)


_batches: weakref.WeakKeyDictionary[AsyncEngine, SubmitBatches] = weakref.WeakKeyDictionary()


def submit_batches(engine: AsyncEngine) -> SubmitBatches:
    """The engine's ``SubmitBatches`` for the running event loop: a lane per direct connection
    (``direct_connections``)."""
    found = _batches.get(engine)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = _batches[engine] = SubmitBatches(engine, direct_connections(engine).size)
    return found


# A page cursor: the last row's created_at (microseconds since the epoch) and id. Plain and
# fully described by this pattern (in the OpenAPI document too), so any cursor that matches
# it is one the API can resume from.
CURSOR_PATTERN = r"^[0-9]{1,17}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(report: Report | ReportRow) -> str:
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


# The keys of ``report_data`` a list row shows (the culprit frame is a small object).
_SUMMARY_KEYS = ("title", "error_type", "category", "culprit", "culprit_file", "confidence_score")
# A list row: the summary columns, and ``report_data`` cut down to the keys above in the
# database (kilobytes per row otherwise); ``log_data`` is not read.
_SUMMARY_JSON = ", ".join(f"'{key}', report_data->'{key}'" for key in _SUMMARY_KEYS)
_LIST = (
    "SELECT id, status::text AS status, created_at, completed_at, repo_id, commit_hash, "  # noqa: S608
    "fingerprint, source, occurrence_count, last_seen_at, issue_id, "
    f"jsonb_strip_nulls(jsonb_build_object({_SUMMARY_JSON})) AS summary "
    # {where}: constant conditions on parameters, from _list_query
    "FROM reports WHERE {where} ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
)
_SET_TENANT = (
    "SELECT set_config('app.current_org', %(org)s, true), "
    "set_config('app.current_user', %(user)s, true)"
)


def _list_query(
    org_id: uuid.UUID, limit: int, cursor: str | None, filters: ReportFilters
) -> tuple[str, dict[str, Any]]:
    """The list's one statement (psycopg's ``%(name)s`` parameters) and its parameters."""
    where = ["org_id = %(org_id)s"]
    params: dict[str, Any] = {"org_id": org_id, "limit": limit + 1}
    if filters.status is not None:
        # Through the integer: enum equality is not leakproof, so under row-level security it
        # could not be an index condition.
        where.append("status_code = %(status_code)s")
        params["status_code"] = STATUS_CODES[filters.status]
    if filters.repo_id is not None:
        where.append("repo_id = %(repo_id)s")
        params["repo_id"] = filters.repo_id
    if filters.category:
        where.append("report_data->>'category' = %(category)s")
        params["category"] = filters.category
    if filters.since is not None:
        where.append("created_at >= %(since)s")
        params["since"] = filters.since
    if filters.until is not None:
        where.append("created_at < %(until)s")
        params["until"] = filters.until
    if filters.q and filters.q.strip():
        where.append("search_vector @@ websearch_to_tsquery('simple', %(q)s)")
        params["q"] = filters.q.strip()
    if cursor is not None:
        params["cursor_created"], params["cursor_id"] = decode_cursor(cursor)
        where.append("(created_at, id) < (%(cursor_created)s, %(cursor_id)s)")
    return _LIST.format(where=" AND ".join(where)), params


@dataclass(frozen=True)
class ReportRow:
    """A reports-list row: the summary columns, and ``summary`` (the list's keys of
    ``report_data``)."""

    id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    completed_at: datetime | None
    repo_id: uuid.UUID | None
    commit_hash: str | None
    fingerprint: str | None
    source: str | None
    occurrence_count: int
    last_seen_at: datetime | None
    issue_id: uuid.UUID | None
    summary: dict[str, Any]


def _report_row(row: Any) -> ReportRow:
    summary = row.summary
    if isinstance(summary, str):  # a driver that hands jsonb over as text
        summary = json.loads(summary)
    return ReportRow(
        id=row.id, status=ReportStatus(row.status), created_at=row.created_at,
        completed_at=row.completed_at, repo_id=row.repo_id, commit_hash=row.commit_hash,
        fingerprint=row.fingerprint, source=row.source, occurrence_count=row.occurrence_count,
        last_seen_at=row.last_seen_at, issue_id=row.issue_id, summary=summary or {},
    )  # fmt: skip


async def list_reports(
    sessions: async_sessionmaker[AsyncSession],
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None = None,
    filters: ReportFilters,
) -> tuple[list[ReportRow], str | None]:
    """Newest first, keyset-paginated, in ``org_id`` (row-level security applies too).

    Each filter has an index that ends in the keyset order (``ix_reports_org_created``,
    ``ix_reports_org_status_created``), so any page of any filter reads ``limit + 1`` index
    entries; the search uses the reports' generated ``search_vector`` and its GIN index.

    One network round trip: on the engine's ``DirectConnections`` the transaction's begin,
    the tenant settings, the query and the commit go out as one pipeline (a session would
    take four: BEGIN, the settings, the query, the rollback). A factory bound to a connection
    already in a transaction (the tests) runs the same statement in a session instead."""
    sql, params = _list_query(org_id, limit, cursor, filters)
    fetched: list[Any]
    tenant = {"org": str(org_id), "user": str(user_id or "")}
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.driver == "psycopg":
        async with direct_connection(bind) as driver, driver.pipeline():
            async with driver.transaction():
                await driver.execute(_SET_TENANT, tenant)
                cur = driver.cursor(row_factory=namedtuple_row)
                await cur.execute(sql, params)
            fetched = await cur.fetchall()
    else:
        async with tenant_session(sessions, org_id, user_id=user_id) as session:
            result = await session.execute(text(re.sub(r"%\((\w+)\)s", r":\1", sql)), params)
            fetched = list(result.all())
    rows = [_report_row(row) for row in fetched]
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
    """The report, its occurrences and its jobs (all cascade with it). Its notifications
    still waiting to be sent lose their job with it: the delivery log says they failed, and
    why, instead of showing them queued for ever. A storm's digest is not only this report's:
    it moves, with its job, to another report folded into it, and is sent as before.

    The report row is locked first, so a transaction queuing a notification about it (the
    worker completing it, the API counting a repeat) has committed before this looks."""
    await session.execute(select(Report.id).where(Report.id == report.id).with_for_update())
    digests = (
        await session.execute(
            select(NotificationDelivery.id, NotificationDelivery.job_id).where(
                NotificationDelivery.report_id == report.id,
                NotificationDelivery.kind == "digest",
                NotificationDelivery.waiting(),
            )
        )
    ).all()
    for digest_id, job_id in digests:
        other = await session.scalar(
            select(NotificationDelivery.report_id)
            .where(
                NotificationDelivery.digest_id == digest_id,
                NotificationDelivery.report_id.is_not(None),
                NotificationDelivery.report_id != report.id,
            )
            .order_by(NotificationDelivery.created_at)
            .limit(1)
        )
        if other is None:
            continue  # every message in it was this report's: it fails with them, below
        await session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == digest_id)
            .values(report_id=other)
        )
        if job_id is not None:
            await session.execute(update(Job).where(Job.id == job_id).values(report_id=other))
    await session.execute(
        NotificationDelivery.fail_waiting(
            NotificationDelivery.report_id == report.id, "not sent: the report was deleted"
        )
    )
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
