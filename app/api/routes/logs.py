from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from starlette.concurrency import run_in_threadpool

from app.analysis.fingerprint import fingerprint
from app.analysis.logs import parse_log
from app.analysis.models import ParsedLog
from app.api.deps import Ingest, PlatformDep, QueueDep, SessionDep, Viewer
from app.api.schemas import DiagnoseAccepted, DiagnoseRequest, DiagnosisStatus
from app.bootstrap import Platform
from app.db.models import ReportStatus
from app.observability import request_id_var
from app.queue.base import JobQueue
from app.services import reports

router = APIRouter(prefix="/api/v1/logs", tags=["logs"])
logger = logging.getLogger(__name__)

# Logs up to this size are parsed on the event loop (well under a millisecond); larger ones
# in a thread, so one big log does not hold up the other requests.
INLINE_PARSE_CHARS = 32 * 1024


def _status_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/logs/diagnose/status/{report_id}"


def _report_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/reports/{report_id}"


async def _parse(log_data: dict[str, Any]) -> ParsedLog:
    content = log_data["content"]
    size = len(content) if isinstance(content, str) else INLINE_PARSE_CHARS + 1
    args = (content,)
    kwargs = {"source": log_data.get("source"), "metadata": log_data["metadata"]}
    if size <= INLINE_PARSE_CHARS:
        return parse_log(*args, **kwargs)
    return await run_in_threadpool(parse_log, *args, **kwargs)


@router.post(
    "/diagnose",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {
            "description": "A repeat of an error diagnosed within the window: the existing "
            "report, its occurrence count raised.",
            "model": DiagnoseAccepted,
        },
        404: {"description": "No repository `repository_id` in this organisation."},
    },
)
async def diagnose(
    body: DiagnoseRequest,
    queue: QueueDep,
    actor: Ingest,
    platform: PlatformDep,
    response: Response,
) -> DiagnoseAccepted:
    """Accept a log for diagnosis. The report and its job are committed together before the
    202, so an accepted log is never lost. A repeat of an error diagnosed within the grouping
    window answers 200 with the existing report, whose occurrence count went up."""
    accepted = await accept_log(
        queue,
        platform,
        org_id=actor.org_id,
        log_data=body.log_data.model_dump(mode="json"),
        repository_id=body.repository_id,
    )
    response.headers["Location"] = accepted.report_url
    if accepted.repeat:
        response.status_code = status.HTTP_200_OK
    return accepted


async def accept_log(
    queue: JobQueue,
    platform: Platform,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    repository_id: uuid.UUID | None,
) -> DiagnoseAccepted:
    """Accept a log: shared by every way a log arrives. The request decides only what its
    answer needs (the fingerprint, for the repeat answer); then one autocommitted statement
    writes the report, its job and the grouping decision (the statement sets the
    organisation for row-level security itself), and the job goes to the queue's broker, if
    any. The worker parses the log again for the diagnosis."""
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
    if submitted.job_id is not None:
        try:
            await queue.dispatch([(submitted.job_id, org_id, submitted.report_id)])
        except Exception:
            # The job is committed; the workers' sweep sends it if this could not.
            logger.warning("could not hand job for report %s to the broker",
                           submitted.report_id, exc_info=True)  # fmt: skip
    return DiagnoseAccepted(
        diagnosis_id=submitted.report_id,
        status=submitted.status,
        status_url=_status_url(submitted.report_id),
        report_url=_report_url(submitted.report_id),
        repeat=submitted.repeat,
        occurrence_count=submitted.occurrence_count,
    )


@router.get("/diagnose/status/{diagnosis_id}")
async def diagnosis_status(
    diagnosis_id: uuid.UUID, session: SessionDep, actor: Viewer
) -> DiagnosisStatus:
    report = await reports.get_report(session, diagnosis_id)
    if report is None:
        raise HTTPException(404, f"No diagnosis {diagnosis_id}.")
    return DiagnosisStatus(
        diagnosis_id=report.id,
        status=report.status,
        created_at=report.created_at,
        started_at=report.started_at,
        completed_at=report.completed_at,
        attempts=report.attempts,
        error=report.error,
        report_url=_report_url(report.id),
        diagnosis_result=report.report_data if report.status is ReportStatus.COMPLETE else None,
    )
