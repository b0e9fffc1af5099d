from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from app.api.deps import SessionDep, Viewer
from app.api.schemas import Occurrence, ReportDetail, ReportPage, ReportSummary
from app.db.models import Report, ReportStatus
from app.services import reports

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _summary_fields(report: Report, data: dict[str, Any] | None) -> dict[str, Any]:
    data = data or {}
    return {
        "id": report.id,
        "status": report.status,
        "created_at": report.created_at,
        "completed_at": report.completed_at,
        "repo_id": report.repo_id,
        "commit_hash": report.commit_hash,
        "fingerprint": report.fingerprint,
        "title": data.get("title"),
        "error_type": data.get("error_type"),
        "source": report.source,
        "occurrence_count": report.occurrence_count,
    }


@router.get("")
async def list_reports(
    session: SessionDep,
    actor: Viewer,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: ReportStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReportPage:
    """The organisation's reports, newest first."""
    try:
        rows, next_cursor = await reports.list_reports(
            session, limit=limit, status=status, cursor=cursor
        )
    except reports.InvalidCursor as exc:
        raise HTTPException(422, str(exc)) from exc
    return ReportPage(
        items=[ReportSummary(**_summary_fields(r, r.report_data)) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/{report_id}")
async def get_report(report_id: uuid.UUID, session: SessionDep, actor: Viewer) -> ReportDetail:
    """One report; its id is the diagnosis id that ``POST /api/v1/logs/diagnose`` returned."""
    report = await reports.get_report(session, report_id)
    if report is None:
        raise HTTPException(404, f"No report {report_id}.")
    return ReportDetail(
        **_summary_fields(report, report.report_data),
        started_at=report.started_at,
        attempts=report.attempts,
        error=report.error,
        last_seen_at=report.last_seen_at,
        log_data=report.log_data,
        report_data=report.report_data,
    )


@router.get("/{report_id}/occurrences")
async def list_occurrences(
    report_id: uuid.UUID,
    session: SessionDep,
    actor: Viewer,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Occurrence]:
    """The repeats grouped onto a report, newest first, each with the log it arrived with."""
    if await reports.get_report(session, report_id) is None:
        raise HTTPException(404, f"No report {report_id}.")
    rows = await reports.list_occurrences(session, report_id, limit=limit)
    return [
        Occurrence(id=r.id, received_at=r.received_at, source=r.source, log_data=r.log_data)
        for r in rows
    ]
