from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.analysis.fingerprint import fingerprint
from app.analysis.logs import parse_log
from app.api.deps import Ingest, PlatformDep, QueueDep, SessionDep, Viewer
from app.api.schemas import DiagnoseAccepted, DiagnoseRequest, DiagnosisStatus
from app.bootstrap import Platform
from app.db.models import ReportStatus, Repository
from app.queue.base import JobQueue
from app.services import reports, repositories

router = APIRouter(prefix="/api/v1/logs", tags=["logs"])
logger = logging.getLogger(__name__)


def _status_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/logs/diagnose/status/{report_id}"


def _report_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/reports/{report_id}"


async def _repository_for(session: SessionDep, requested: uuid.UUID | None) -> uuid.UUID | None:
    if requested is not None:
        if await session.get(Repository, requested) is None:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "repository_id"),
                        "msg": f"no repository {requested} in this organisation",
                        "type": "value_error",
                    }
                ]
            )
        return requested
    registered = await repositories.list_repositories(session)
    return registered[0].id if len(registered) == 1 else None


@router.post(
    "/diagnose",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"description": "A repeat of an error diagnosed within the window."}},
)
async def diagnose(
    body: DiagnoseRequest,
    session: SessionDep,
    queue: QueueDep,
    actor: Ingest,
    platform: PlatformDep,
    response: Response,
) -> DiagnoseAccepted:
    """Accept a log for diagnosis. The report and its job are committed together before the
    202, so an accepted log is never lost. A repeat of an error diagnosed within the grouping
    window answers 200 with the existing report, whose occurrence count went up."""
    accepted = await accept_log(
        session,
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
    session: AsyncSession,
    queue: JobQueue,
    platform: Platform,
    *,
    org_id: uuid.UUID,
    log_data: dict[str, Any],
    repository_id: uuid.UUID | None,
) -> DiagnoseAccepted:
    """Commit a pending report and its job (or an occurrence of a recent repeat), then hand
    the job to the queue. Shared by every way a log arrives."""
    repo_id = await _repository_for(session, repository_id)
    parsed = await run_in_threadpool(
        parse_log, log_data["content"], source=log_data.get("source"), metadata=log_data["metadata"]
    )
    submitted = await reports.submit_log(
        session,
        queue,
        org_id=org_id,
        log_data=log_data,
        source=log_data.get("source"),
        repo_id=repo_id,
        fingerprint=fingerprint(parsed),
        commit=parsed.commit,
        window_s=platform.settings.grouping_window_s,
    )
    await session.commit()
    try:
        await queue.publish(session)
    except Exception:
        # The job is committed; the workers' sweep sends it if this could not.
        logger.warning("could not hand job for report %s to the broker", submitted.report.id,
                       exc_info=True)  # fmt: skip
    report = submitted.report
    return DiagnoseAccepted(
        diagnosis_id=report.id,
        status=report.status,
        status_url=_status_url(report.id),
        report_url=_report_url(report.id),
        repeat=submitted.repeat,
        occurrence_count=report.occurrence_count,
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
