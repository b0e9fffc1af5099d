"""The HTTP API's request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.db.models import ReportStatus


def _text_or_object(value: Any) -> str | dict[str, Any]:
    if not isinstance(value, str | dict):
        raise ValueError(f"must be the log as text or a JSON object, not {type(value).__name__}")
    if (isinstance(value, str) and not value.strip()) or (isinstance(value, dict) and not value):
        raise ValueError("the log is empty")
    return value


class LogData(BaseModel):
    """The ``log_data`` of the original Log Dawg API."""

    model_config = ConfigDict(extra="forbid")

    content: Annotated[str | dict[str, Any], BeforeValidator(_text_or_object)] = Field(
        description="The log: raw text, or a JSON object such as a CloudWatch event."
    )
    source: str | None = Field(default=None, max_length=200, description="Where it came from.")
    timestamp: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class DiagnoseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    log_data: LogData
    # Accepted for compatibility with the original API. There is no clone to pull any more:
    # code is read from the provider at the right commit on every diagnosis.
    force_git_pull: bool = False
    include_git_context: bool = True


class DiagnoseAccepted(BaseModel):
    diagnosis_id: uuid.UUID
    status: ReportStatus
    status_url: str
    report_url: str


class DiagnosisStatus(BaseModel):
    diagnosis_id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    error: str | None
    report_url: str


class ReportSummary(BaseModel):
    id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    completed_at: datetime | None
    repo_id: uuid.UUID | None
    commit_hash: str | None
    fingerprint: str | None
    title: str | None
    error_type: str | None
    source: str | None
    occurrence_count: int


class ReportPage(BaseModel):
    items: list[ReportSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next, older page; null on the last page."
    )


class ReportDetail(ReportSummary):
    started_at: datetime | None
    attempts: int
    error: str | None
    last_seen_at: datetime
    log_data: dict[str, Any]
    report_data: dict[str, Any] | None
