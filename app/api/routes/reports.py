from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BeforeValidator, ValidationError

from app.analysis.markdown import render_markdown
from app.analysis.report import DiagnosisReport
from app.api.deps import LeanViewer, Member, PlatformDep, QueueDep, SessionDep, Viewer
from app.api.schemas import Occurrence, ReportDetail, ReportPage, ReportSummary
from app.db.models import Report, ReportStatus
from app.queue.base import publish_after_commit
from app.services import reports
from app.services.reports import ReportRow


def _iso_only(value: object) -> object:
    """A date-time as the schema says (RFC 3339, with its offset), not a Unix timestamp, which
    pydantic would otherwise read from a bare number."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError(
            "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-30T00:00:00Z"
        )
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


async def _get(session: SessionDep, report_id: uuid.UUID) -> Report:
    report = await reports.get_report(session, report_id)
    if report is None:
        raise HTTPException(404, f"No report {report_id}.")
    return report


def _culprit(data: dict[str, Any]) -> str | None:
    culprit = data.get("culprit")
    if not isinstance(culprit, dict) or not culprit.get("file"):
        return None
    path = data.get("culprit_file") or culprit["file"]
    return f"{path}:{culprit['line']}" if culprit.get("line") else str(path)


def _summary_fields(report: Report | ReportRow, data: dict[str, Any] | None) -> dict[str, Any]:
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
        "category": data.get("category"),
        "culprit": _culprit(data),
        "confidence": data.get("confidence_score"),
        "last_seen_at": report.last_seen_at,
        "issue_id": report.issue_id,
    }


@router.get("")
async def list_reports(
    actor: LeanViewer,
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: ReportStatus | None = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=reports.CURSOR_PATTERN,
            description="`next_cursor` of the previous page.",
        ),
    ] = None,
    repository_id: uuid.UUID | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[IsoDateTime | None, Query(description="Created at or after.")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Created before.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Full-text search of title, error message and culprit file: words, "
            '"a phrase", -excluded, or.',
        ),
    ] = None,
) -> ReportPage:
    """The organisation's reports, newest first, narrowed by the filters given."""
    filters = reports.ReportFilters(
        status=status, repo_id=repository_id, category=category, since=since, until=until, q=q
    )
    try:
        rows, next_cursor = await reports.list_reports(
            platform.sessions,
            org_id=actor.org_id,
            user_id=actor.user_id,
            limit=limit,
            cursor=cursor,
            filters=filters,
        )
    except reports.InvalidCursor as exc:
        raise HTTPException(422, str(exc)) from exc
    return ReportPage(
        items=[ReportSummary(**_summary_fields(r, r.summary)) for r in rows],
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
        log_data=report.log_data,
        report_data=report.report_data,
        code_owners=[
            o for o in (report.report_data or {}).get("code_owners") or [] if isinstance(o, str)
        ],
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


@router.delete("/{report_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_report(report_id: uuid.UUID, session: SessionDep, actor: Member) -> None:
    """Delete the report with its occurrences and its job. This cannot be undone."""
    await reports.delete_report(session, await _get(session, report_id))
    await session.commit()


@router.post("/{report_id}/rerun", status_code=status.HTTP_202_ACCEPTED)
async def rerun_report(
    report_id: uuid.UUID, session: SessionDep, queue: QueueDep, actor: Member
) -> ReportDetail:
    """Diagnose the report's log again (e.g. after connecting its repository). The report
    goes back to pending; its previous diagnosis stays until the new one replaces it."""
    try:
        await reports.rerun(session, queue, await _get(session, report_id))
    except reports.ReportBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    await session.commit()
    await publish_after_commit(queue, session)
    return await get_report(report_id, session, actor)


@router.get(
    "/{report_id}/markdown",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/markdown": {}}, "description": "The report as Markdown."},
        409: {"description": "The report has no diagnosis yet (pending, running or failed)."},
    },
)
async def report_markdown(report_id: uuid.UUID, session: SessionDep, actor: Viewer) -> Response:
    """The diagnosis as a Markdown file, the form the original Log Dawg wrote."""
    report = await _get(session, report_id)
    if report.report_data is None:
        raise HTTPException(409, f"Report {report_id} has no diagnosis yet ({report.status}).")
    try:
        diagnosis = DiagnosisReport.model_validate(report.report_data)
    except ValidationError as exc:
        raise HTTPException(409, f"Report {report_id} was stored in a form this build cannot "
                                 "render as Markdown; re-run it.") from exc  # fmt: skip
    return Response(
        render_markdown(diagnosis),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="logdawg-{report_id}.md"'},
    )
