"""The issues API's request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.db.models import IssueState, ReportStatus

_SHA = r"^[0-9a-fA-F]{7,64}$"
_RELEASE = r"^\S(.*\S)?$"


class Person(BaseModel):
    id: uuid.UUID
    name: str | None = None


class IssueSummary(BaseModel):
    id: uuid.UUID
    repo_id: uuid.UUID | None
    fingerprint: str
    title: str
    # The culprit frame as ``file:line``.
    culprit: str | None
    state: IssueState
    assignee: Person | None
    first_seen_at: datetime
    last_seen_at: datetime
    occurrence_count: int
    resolved_at: datetime | None
    resolved_in_release: str | None
    resolved_in_commit: str | None
    ignore_until_count: int | None = Field(
        description="While ignored: the occurrence count at which it becomes unresolved again."
    )
    ignore_until: datetime | None = Field(
        description="While ignored: the moment it becomes unresolved again."
    )


class IssuePage(BaseModel):
    items: list[IssueSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (less recently seen); null on the last."
    )


class SeenIn(BaseModel):
    """A release or commit the issue was seen in."""

    name: str
    first_seen: datetime
    last_seen: datetime
    count: int


class TimelineEntry(BaseModel):
    kind: Literal[
        "created", "resolved", "ignored", "unresolved", "regression", "ignore_lapsed",
        "assigned", "unassigned",
    ]  # fmt: skip
    at: datetime
    # Who did it; null when the platform did (an occurrence, a lapsed ignore, CODEOWNERS).
    actor: Person | None
    data: dict[str, Any]


class IssueReport(BaseModel):
    id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    occurrence_count: int
    commit_hash: str | None


class IssueDetail(IssueSummary):
    releases: list[SeenIn]
    commits: list[SeenIn]
    timeline: list[TimelineEntry]
    # The latest reports of this issue, newest first.
    reports: list[IssueReport]
    # The CODEOWNERS owners of the culprit file (the latest report's).
    code_owners: list[str]


class Resolve(BaseModel):
    """Resolved; optionally in a release (a later release reopens it as a regression) and/or
    in a commit (an occurrence at it, or at a commit first seen after now, reopens it). With
    both, the release decides."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["resolved"]
    in_release: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=_RELEASE,
        description="The release that has the fix, e.g. `1.2.0`.",
    )  # fmt: skip
    in_commit: str | None = Field(
        default=None, pattern=_SHA, description="The commit that has the fix (hex SHA)."
    )


class Ignore(BaseModel):
    """Ignored: no events while ignored; unresolved again after ``count`` more occurrences or
    at ``until`` (whichever comes first), or never when neither is given."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["ignored"]
    count: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Until this many more occurrences."
    )
    until: AwareDatetime | None = Field(
        default=None, description="Until this moment (with its time zone)."
    )


class Unresolve(BaseModel):
    """Unresolved (reopened by hand)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["unresolved"]


StateChange = Annotated[Resolve | Ignore | Unresolve, Field(discriminator="state")]


class IssueUpdate(BaseModel):
    """Change an issue's state, its assignee, or both. ``assignee_id: null`` unassigns;
    leaving it out keeps the assignee."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    state_change: StateChange | None = None
    assignee_id: uuid.UUID | None = Field(
        default=None, description="A member of the organisation; null unassigns."
    )

    @model_validator(mode="after")
    def _something(self) -> IssueUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give `state_change` and/or `assignee_id`")
        return self


class IssueBulk(BaseModel):
    """One state change for up to 100 issues of the organisation, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    issue_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    state_change: StateChange


class IssueBulkResult(BaseModel):
    items: list[IssueSummary]
