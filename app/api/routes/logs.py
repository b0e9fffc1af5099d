from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, HTTPException, Request, Response, status

from app.api.deps import IngestRoute, SessionDep, Viewer, ingest_actor
from app.api.ingest_pipeline import accept_log, report_url
from app.api.limits import GuardedJsonRoute
from app.api.schemas import DiagnoseAccepted, DiagnoseRequest, DiagnosisStatus
from app.db.models import ReportStatus
from app.services import reports

router = APIRouter(prefix="/api/v1/logs", tags=["logs"], route_class=GuardedJsonRoute)
# The route every log sender calls checks its caller itself (``IngestRoute``).
ingest_router = APIRouter(prefix="/api/v1/logs", tags=["logs"], route_class=IngestRoute)
logger = logging.getLogger(__name__)


@ingest_router.post(
    "/diagnose",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DiagnoseAccepted,
    responses={
        200: {
            "description": "A repeat of an error diagnosed within the window: the existing "
            "report, its occurrence count raised.",
            "model": DiagnoseAccepted,
        },
        404: {"description": "No repository `repository_id` in this organisation."},
    },
)
async def diagnose(body: DiagnoseRequest, request: Request) -> Response:
    """Accept a log for diagnosis. The report and its job are committed together before the
    202, so an accepted log is never lost. A repeat of an error diagnosed within the grouping
    window answers 200 with the existing report, whose occurrence count went up."""
    actor = ingest_actor(request)
    accepted = await accept_log(
        request.app.state.platform,
        org_id=actor.org_id,
        log_data=body.log_data.model_dump(mode="json"),
        repository_id=body.repository_id,
    )
    # The answer serialised here, in one step (the model is already valid): FastAPI's
    # response path would validate and encode it again, on every log submitted.
    return Response(
        accepted.model_dump_json(),
        status_code=status.HTTP_200_OK if accepted.repeat else status.HTTP_202_ACCEPTED,
        media_type="application/json",
        headers={"Location": accepted.report_url},
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
        report_url=report_url(report.id),
        diagnosis_result=report.report_data if report.status is ReportStatus.COMPLETE else None,
    )
