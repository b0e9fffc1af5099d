"""Issues: the list, one issue with its timeline, changes of state and assignee, bulk changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from app.api.deps import Member, SessionDep, Viewer
from app.api.issue_schemas import (
    Ignore,
    IssueBulk,
    IssueBulkResult,
    IssueDetail,
    IssuePage,
    IssueReport,
    IssueSummary,
    IssueUpdate,
    Person,
    Resolve,
    SeenIn,
    TimelineEntry,
)
from app.db.models import Issue, IssueState
from app.services import issues

router = APIRouter(prefix="/api/v1/issues", tags=["issues"])
# Bulk changes have a path of their own: under /issues/ it would be read as an issue id.
changes = APIRouter(prefix="/api/v1/issue-changes", tags=["issues"])


def _summary(issue: Issue, names: dict[uuid.UUID, str]) -> IssueSummary:
    return IssueSummary(
        id=issue.id,
        repo_id=issue.repo_id,
        fingerprint=issue.fingerprint,
        title=issue.title,
        culprit=issue.culprit,
        state=IssueState(issue.state),
        assignee=Person(id=issue.assignee_id, name=names.get(issue.assignee_id))
        if issue.assignee_id
        else None,
        first_seen_at=issue.first_seen_at,
        last_seen_at=issue.last_seen_at,
        occurrence_count=issue.occurrence_count,
        resolved_at=issue.resolved_at,
        resolved_in_release=issue.resolved_in_release,
        resolved_in_commit=issue.resolved_in_commit,
        ignore_until_count=issue.ignore_until_count,
        ignore_until=issue.ignore_until,
    )


def _seen_in(history: dict[str, Any]) -> list[SeenIn]:
    items = []
    for name, entry in history.items():
        try:
            items.append(
                SeenIn(
                    name=name,
                    first_seen=datetime.fromisoformat(entry["first_seen"]),
                    last_seen=datetime.fromisoformat(entry["last_seen"]),
                    count=int(entry["count"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(items, key=lambda s: s.last_seen, reverse=True)


async def _get(session: SessionDep, issue_id: uuid.UUID) -> Issue:
    issue = await issues.get_issue(session, issue_id)
    if issue is None:
        raise HTTPException(404, f"No issue {issue_id}.")
    return issue


def _state_change(change: Resolve | Any) -> issues.StateChange:
    if isinstance(change, Resolve):
        return issues.StateChange(
            IssueState.RESOLVED,
            resolved_in_release=change.in_release,
            resolved_in_commit=change.in_commit.lower() if change.in_commit else None,
        )
    if isinstance(change, Ignore):
        return issues.StateChange(
            IssueState.IGNORED, ignore_count=change.count, ignore_until=change.until
        )
    return issues.StateChange(IssueState.UNRESOLVED)


@router.get("")
async def list_issues(
    session: SessionDep,
    actor: Viewer,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    state: IssueState | None = None,
    assignee_id: Annotated[
        uuid.UUID | None, Query(description="Only the issues assigned to this member.")
    ] = None,
    unassigned: Annotated[
        bool, Query(description="Only the issues assigned to nobody (overrides assignee_id).")
    ] = False,
    repository_id: uuid.UUID | None = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=issues.CURSOR_PATTERN,
            description="`next_cursor` of the previous page.",
        ),
    ] = None,
) -> IssuePage:
    """The organisation's issues, most recently seen first, narrowed by the filters given."""
    if await issues.expire_ignores(session):
        await session.commit()
    filters = issues.IssueFilters(
        state=state, assignee_id=assignee_id, unassigned=unassigned, repo_id=repository_id
    )
    try:
        rows, next_cursor = await issues.list_issues(
            session, limit=limit, cursor=cursor, filters=filters
        )
    except issues.InvalidCursor as exc:
        raise HTTPException(422, str(exc)) from exc
    names = await issues.user_names(session, (i.assignee_id for i in rows))
    return IssuePage(items=[_summary(i, names) for i in rows], next_cursor=next_cursor)


@router.get("/{issue_id}")
async def get_issue(issue_id: uuid.UUID, session: SessionDep, actor: Viewer) -> IssueDetail:
    """One issue with its timeline (created, state changes with who and when, regressions,
    assignments), the releases and commits it was seen in, and its latest reports."""
    if await issues.expire_ignores(session):
        await session.commit()
    issue = await _get(session, issue_id)
    entries = await issues.timeline(session, issue.id)
    reports = await issues.recent_reports(session, issue.id)
    names = await issues.user_names(session, [issue.assignee_id])
    owners = next((r.report_data.get("code_owners") for r in reports if r.report_data), None)
    return IssueDetail(
        **_summary(issue, names).model_dump(),
        releases=_seen_in(issue.releases),
        commits=_seen_in(issue.commits),
        timeline=[
            TimelineEntry(
                kind=a.kind,
                at=a.at,
                actor=Person(id=a.actor_id, name=name) if a.actor_id else None,
                data=a.data,
            )
            for a, name in entries
        ],
        reports=[
            IssueReport(
                id=r.id,
                status=r.status,
                created_at=r.created_at,
                occurrence_count=r.occurrence_count,
                commit_hash=r.commit_hash,
            )
            for r in reports
        ],
        code_owners=[o for o in owners or [] if isinstance(o, str)],
    )


@router.patch(
    "/{issue_id}",
    responses={404: {"description": "No such issue, or `assignee_id` is not a member."}},
)
async def update_issue(
    issue_id: uuid.UUID, body: IssueUpdate, session: SessionDep, actor: Member
) -> IssueDetail:
    """Change the issue's state (resolve, ignore, reopen) and/or its assignee (a member of
    the organisation). Each change is a timeline entry naming who made it."""
    issue = await _get(session, issue_id)
    try:
        await issues.change_issue(
            session,
            issue,
            actor_id=actor.user_id,
            state=_state_change(body.state_change) if body.state_change is not None else None,
            assign="assignee_id" in body.model_fields_set,
            assignee_id=body.assignee_id,
        )
    except issues.NotAMember:
        raise HTTPException(
            404, f"No member {body.assignee_id} in this organisation (assignee_id)."
        ) from None
    await session.commit()
    return await get_issue(issue_id, session, actor)


@changes.post(
    "",
    responses={
        404: {"description": "An id is not an issue of this organisation; nothing changed."}
    },
)
async def bulk_change(body: IssueBulk, session: SessionDep, actor: Member) -> IssueBulkResult:
    """Resolve, ignore or reopen several issues at once: all of them, or (when an id is not
    an issue of this organisation) none."""
    try:
        changed = await issues.change_many(
            session, body.issue_ids, _state_change(body.state_change), actor_id=actor.user_id
        )
    except issues.UnknownIssues as exc:
        await session.rollback()
        raise HTTPException(
            404, f"No issue {', '.join(str(i) for i in exc.ids)} in this organisation; "
            "nothing was changed."
        ) from None  # fmt: skip
    await session.commit()
    names = await issues.user_names(session, (i.assignee_id for i in changed))
    return IssueBulkResult(items=[_summary(i, names) for i in changed])
