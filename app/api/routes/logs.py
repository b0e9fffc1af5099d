from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Response, status

from app.api.deps import CurrentOrg, QueueDep, SessionDep
from app.api.schemas import DiagnoseAccepted, DiagnoseRequest, DiagnosisStatus
from app.db.models import ReportStatus
from app.services import reports

router = APIRouter(prefix="/api/v1/logs", tags=["logs"])


def _status_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/logs/diagnose/status/{report_id}"


def _report_url(report_id: uuid.UUID) -> str:
    return f"/api/v1/reports/{report_id}"


@router.post("/diagnose", status_code=status.HTTP_202_ACCEPTED)
async def diagnose(
    body: DiagnoseRequest,
    session: SessionDep,
    queue: QueueDep,
    org_id: CurrentOrg,
    response: Response,
) -> DiagnoseAccepted:
    """Accept a log for diagnosis. The report and its job are committed together before the
    202, so an accepted log is never lost."""
    report = await reports.submit_log(
        session,
        queue,
        org_id=org_id,
        log_data=body.log_data.model_dump(mode="json"),
        source=body.log_data.source,
    )
    await session.commit()
    response.headers["Location"] = _report_url(report.id)
    return DiagnoseAccepted(
        diagnosis_id=report.id,
        status=ReportStatus.PENDING,
        status_url=_status_url(report.id),
        report_url=_report_url(report.id),
    )


@router.get("/diagnose/status/{diagnosis_id}")
async def diagnosis_status(diagnosis_id: uuid.UUID, session: SessionDep) -> DiagnosisStatus:
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
    )
