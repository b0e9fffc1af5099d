"""Accepting a log, whichever way it arrives (the diagnose API, the webhooks): decide what the
answer needs, write it durably, hand the job to the queue."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from app.analysis.fingerprint import fingerprint
from app.analysis.logs import parse_log
from app.analysis.models import ParsedLog
from app.api.schemas import DiagnoseAccepted
from app.bootstrap import Platform
from app.db.models import ReportStatus
from app.db.session import tenant_session
from app.observability import request_id_var
from app.queue.base import publish_after_commit
from app.services import issues, reports

logger = logging.getLogger(__name__)

# Logs up to this size are parsed on the event loop (well under a millisecond); larger ones
# in a thread, so one big log does not hold up the other requests.
INLINE_PARSE_CHARS = 32 * 1024


def status_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/logs/diagnose/status/{report_id}"


def report_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/reports/{report_id}"


async def _parse(log_data: dict[str, Any]) -> ParsedLog:
    content = log_data["content"]
    size = len(content) if isinstance(content, str) else INLINE_PARSE_CHARS + 1
    args = (content,)
    kwargs = {"source": log_data.get("source"), "metadata": log_data["metadata"]}
    if size <= INLINE_PARSE_CHARS:
        return parse_log(*args, **kwargs)
    return await run_in_threadpool(parse_log, *args, **kwargs)


async def _write(
    platform: Platform,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    repository_id: uuid.UUID | None,
) -> tuple[DiagnoseAccepted, reports.Submitted]:
    parsed = await _parse(log_data)
    settings = platform.settings
    try:
        submitted = await reports.accept_log(
            platform.sessions,
            org_id=org_id,
            log_data=log_data,
            source=log_data.get("source"),
            repo_id=repository_id,
            fingerprint=fingerprint(parsed),
            commit=parsed.commit,
            window_s=settings.grouping_window_s,
            max_attempts=settings.job_max_attempts,
            request_id=request_id_var.get(),
        )
    except reports.UnknownRepository:
        # As for any resource of another organisation (or none): 404, and nothing written.
        raise HTTPException(
            404, f"No repository {repository_id} in this organisation (repository_id)."
        ) from None
    if submitted.repeat and submitted.status is ReportStatus.COMPLETE:
        # Only a complete report can be linked to its issue (the worker links it in the
        # transaction that completes it, holding the report row, which the repeat's update
        # waited for). The repeats of a pending or running report are counted by the worker
        # when it links it, so they cost this request nothing more.
        await _count_repeat(platform, org_id, submitted.report_id, log_data, parsed)
    accepted = DiagnoseAccepted(
        diagnosis_id=submitted.report_id,
        status=submitted.status,
        status_url=status_url(submitted.report_id),
        report_url=report_url(submitted.report_id),
        repeat=submitted.repeat,
        occurrence_count=submitted.occurrence_count,
    )
    return accepted, submitted


async def _dispatch(
    platform: Platform, org_id: uuid.UUID, written: list[reports.Submitted]
) -> None:
    jobs = [(s.job_id, org_id, s.report_id) for s in written if s.job_id is not None]
    if not jobs:
        return
    try:
        await platform.queue.dispatch(jobs)
    except Exception:
        # The jobs are committed; the workers' sweep sends them if this could not.
        logger.warning("could not hand %d job(s) to the broker", len(jobs), exc_info=True)


async def accept_log(
    platform: Platform,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    repository_id: uuid.UUID | None,
) -> DiagnoseAccepted:
    """Accept a log: shared by every way a log arrives. The request decides only what its
    answer needs (the fingerprint, for the repeat answer); then one autocommitted statement
    writes the report, its job and the grouping decision (the statement sets the
    organisation for row-level security itself; logs accepted at the same moment share it,
    ``reports.SubmitBatches``), and the job goes to the queue's broker, if any. The worker
    parses the log again for the diagnosis."""
    accepted, submitted = await _write(
        platform, org_id=org_id, log_data=log_data, repository_id=repository_id
    )
    await _dispatch(platform, org_id, [submitted])
    return accepted


async def accept_logs(
    platform: Platform,
    *,
    org_id: uuid.UUID,
    logs: list[dict[str, Any]],
    repository_id: uuid.UUID | None,
) -> list[DiagnoseAccepted]:
    """Several logs of one request (an alert's exceptions): each written as ``accept_log``
    writes one, then all their jobs handed to the broker in one batch."""
    answers: list[DiagnoseAccepted] = []
    written: list[reports.Submitted] = []
    try:
        for log_data in logs:
            accepted, submitted = await _write(
                platform, org_id=org_id, log_data=log_data, repository_id=repository_id
            )
            answers.append(accepted)
            written.append(submitted)
    finally:
        # What was committed before a failure is handed over too (else the sweep would).
        await _dispatch(platform, org_id, written)
    return answers


async def _count_repeat(
    platform: Platform,
    org_id: uuid.UUID,
    report_id: uuid.UUID,
    log_data: dict[str, Any],
    parsed: ParsedLog,
) -> None:
    """Count an accepted repeat on its report's issue: a resolved issue may regress, an
    ignored one may lapse, and the issue's event is published (``platform.issue_events``)
    in the same transaction. The occurrence itself is already committed: if this fails, the
    next repeat of the report counts it."""
    try:
        async with tenant_session(platform.sessions, org_id) as session:
            async with session.begin():
                await issues.count_repeats(
                    session, report_id, platform.issue_events, accepted=(log_data, parsed)
                )
            await publish_after_commit(platform.queue, session)
    except Exception:
        logger.warning("could not count a repeat of report %s on its issue", report_id,
                       exc_info=True)  # fmt: skip
