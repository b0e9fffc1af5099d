"""Processing one diagnosis job: the function the worker's loop hands every message to.

Delivery is at least once. The report id is the idempotency key: a job whose report is
already complete is acknowledged without work, and the result and the acknowledgement
commit in one transaction, so processing a job twice still yields one report.

Every transaction that changes the job or its report first checks the claim (the queue's
fenced updates raise ``StaleClaim``): a worker whose lease ran out while it diagnosed, and
whose job another worker now holds, has its outcome discarded (the transaction rolls back)
and logged, so it can never overwrite the new holder's result.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analysis import engine
from app.analysis.report import DiagnosisReport
from app.db.models import Report, ReportStatus
from app.db.session import tenant_session
from app.issues.events import IssueEventSink
from app.queue.base import ClaimedJob, JobQueue, StaleClaim, publish_after_commit
from app.services import issues

logger = logging.getLogger(__name__)

ERROR_LIMIT = 2000


@dataclass(frozen=True)
class JobInput:
    """What a diagnosis needs from the claimed job and its report."""

    org_id: uuid.UUID
    report_id: uuid.UUID
    repo_id: uuid.UUID | None
    log_data: dict[str, Any]


Diagnose = Callable[[JobInput], Awaitable[DiagnosisReport]]


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (bad input, revoked access): fail at once."""


async def default_diagnose(job: JobInput) -> DiagnosisReport:
    """The offline diagnosis with no repository context."""
    return (await engine.diagnose(job.log_data)).report


def readable(exc: BaseException) -> str:
    text = str(exc).strip()
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return message[:ERROR_LIMIT]


def retry_delay(settings_delay_s: float, attempt: int) -> float:
    """Exponential backoff from the configured delay, capped at ten minutes."""
    return float(min(settings_delay_s * 2 ** max(attempt - 1, 0), 600.0))


async def process_job(
    sessions: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    job: ClaimedJob,
    *,
    diagnose: Diagnose = default_diagnose,
    retry_delay_s: float = 5.0,
    events: IssueEventSink | None = None,
) -> ReportStatus | None:
    """Run one claimed job to its end state and return the report's status afterwards, or
    None when the claim went stale and this worker's outcome was discarded. The queue's
    broker (if any) is told only once that state is committed.

    A completed diagnosis links its report to its issue in the same transaction, and the
    issue's events (new, regression, occurrence) go to ``events`` inside it."""
    try:
        status = await _process(
            sessions, queue, job, diagnose=diagnose, retry_delay_s=retry_delay_s,
            events=events or issues.DiscardIssueEvents(),
        )  # fmt: skip
    except StaleClaim:
        logger.warning(
            "job %s attempt %s: the lease passed to another worker; this outcome is discarded",
            job.id,
            job.attempts,
        )
        await queue.acknowledge(job)
        return None
    await queue.acknowledge(job)
    return status


async def _process(
    sessions: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    job: ClaimedJob,
    *,
    diagnose: Diagnose,
    retry_delay_s: float,
    events: IssueEventSink,
) -> ReportStatus:
    async with tenant_session(sessions, job.org_id) as session, session.begin():
        await queue.hold(session, job)
        report = await session.get(Report, job.report_id, with_for_update=True)
        if report is None:
            await queue.fail(session, job, "the report no longer exists")
            return ReportStatus.FAILED
        if report.status is ReportStatus.COMPLETE:
            await queue.complete(session, job)
            return ReportStatus.COMPLETE
        report.status = ReportStatus.RUNNING
        report.started_at = datetime.now(UTC)
        report.attempts = job.attempts
        work = JobInput(
            org_id=job.org_id,
            report_id=report.id,
            # The repository the log was submitted for, also once it has been deleted (the
            # diagnosis then says so).
            repo_id=report.repo_id or report.deleted_repo_id,
            log_data=dict(report.log_data),
        )

    try:
        result = await diagnose(work)
    except Exception as exc:
        logger.warning("job %s attempt %s failed: %s", job.id, job.attempts, readable(exc))
        return await _record_failure(sessions, queue, job, exc, retry_delay_s)

    async with tenant_session(sessions, job.org_id) as session:
        async with session.begin():
            await queue.hold(session, job)
            report = await session.get(Report, job.report_id, with_for_update=True)
            if report is None:
                await queue.fail(session, job, "the report was deleted while it was diagnosed")
                return ReportStatus.FAILED
            if report.status is not ReportStatus.COMPLETE:
                report.status = ReportStatus.COMPLETE
                report.report_data = result.model_dump(mode="json")
                report.fingerprint = result.fingerprint
                report.commit_hash = result.commit.sha if result.commit else report.commit_hash
                report.error = None
                report.completed_at = datetime.now(UTC)
                await _link(session, report, events)
            await queue.complete(session, job)
        # Committed: the jobs the issue's events queued (notifications) go to the broker now.
        await publish_after_commit(queue, session)
    return ReportStatus.COMPLETE


async def _link(session: AsyncSession, report: Report, events: IssueEventSink) -> None:
    """Link the completed report to its issue, in a savepoint: a failure there (an issue or
    a notification rule) is logged and leaves the report unlinked, but never costs the
    diagnosis, which would otherwise be rolled back and paid for again."""
    try:
        async with session.begin_nested():
            await issues.link_report(session, report, events)
    except Exception:
        logger.exception("report %s: diagnosed, but not linked to its issue", report.id)


async def _record_failure(
    sessions: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    job: ClaimedJob,
    exc: Exception,
    retry_delay_s: float,
) -> ReportStatus:
    error = readable(exc)
    give_up = job.is_last_attempt or isinstance(exc, PermanentJobError)
    async with tenant_session(sessions, job.org_id) as session, session.begin():
        await queue.hold(session, job)
        report = await session.get(Report, job.report_id, with_for_update=True)
        if give_up:
            await queue.fail(session, job, error)
        else:
            await queue.retry(session, job, error, retry_delay(retry_delay_s, job.attempts))
        if report is None or report.status is ReportStatus.COMPLETE:
            return ReportStatus.COMPLETE if report is not None else ReportStatus.FAILED
        if give_up:
            report.status = ReportStatus.FAILED
            report.completed_at = datetime.now(UTC)
            report.error = (
                error
                if isinstance(exc, PermanentJobError)
                else f"Gave up after {job.attempts} attempt(s). Last error: {error}"
            )
        else:
            report.status = ReportStatus.PENDING
            report.error = (
                f"Attempt {job.attempts} of {job.max_attempts} failed ({error}); "
                "it will be retried."
            )
        return report.status
