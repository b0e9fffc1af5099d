"""Issues: linking reports to them, counting occurrences, deciding regressions, and the changes
people make (state, assignee). Services take a session; the caller owns the transaction.

Where occurrences are counted:
- the worker, when a report's diagnosis completes (``link_report``): the report itself, and
  the repeats grouped onto it while it was pending;
- the API, after it accepted a repeat of a report already linked (``count_repeats``).
Each occurrence is counted once (``report_occurrences.issue_counted``, locked with SKIP LOCKED,
so the two paths never count one twice), and each publishes at most one ``IssueEvent``
through the sink the caller passes in.

Events: NEW for an issue's first occurrence; REGRESSION when an occurrence reopens a resolved
issue; OCCURRENCE for any other occurrence of an unresolved issue. An occurrence of an issue
that stays resolved or ignored publishes nothing (that is what resolving and ignoring are for).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.analysis.logs import parse_log
from app.analysis.models import ParsedLog
from app.db.models import (
    Issue,
    IssueActivity,
    IssueState,
    Membership,
    Report,
    ReportOccurrence,
    User,
)
from app.issues.codeowners import owner_matches_email
from app.issues.events import IssueEvent, IssueEventKind, IssueEventSink
from app.issues.releases import Resolution, is_regression

# The releases and commits an issue remembers (the first ones seen; later ones are still
# compared, as never seen before).
MAX_TRACKED = 200
TITLE_LIMIT = 500


class DiscardIssueEvents:
    """The sink of a platform that has nobody listening for issue events yet."""

    async def publish(self, session: AsyncSession, event: IssueEvent) -> None:
        return None


class NotAMember(ValueError):
    """The assignee named is not a member of the organisation."""


class UnknownIssues(LookupError):
    def __init__(self, ids: Sequence[uuid.UUID]) -> None:
        super().__init__(", ".join(str(i) for i in ids))
        self.ids = list(ids)


@dataclass(frozen=True, slots=True)
class Seen:
    """One occurrence, as issues see it."""

    at: datetime
    report_id: uuid.UUID
    release: str | None
    commit: str | None


def release_of(parsed: ParsedLog) -> str | None:
    """The release a log names: ``release`` (or ``sentry_release``, ``deployment_id``,
    ``build_id``), else ``version`` (or ``app_version``, ``service_version``...), in the log
    itself or in ``log_data.metadata``."""
    value = parsed.release or parsed.version
    return value.strip()[:200] or None if value else None


def _seen_in_log(log_data: Mapping[str, Any], at: datetime, report_id: uuid.UUID) -> Seen:
    parsed = parse_log(
        log_data.get("content", ""),
        source=log_data.get("source"),
        metadata=log_data.get("metadata") or {},
    )
    return Seen(at=at, report_id=report_id, release=release_of(parsed), commit=parsed.commit)


def culprit_of(data: Mapping[str, Any]) -> str | None:
    culprit = data.get("culprit")
    if not isinstance(culprit, dict) or not culprit.get("file"):
        return None
    path = data.get("culprit_file") or culprit["file"]
    text = f"{path}:{culprit['line']}" if culprit.get("line") else str(path)
    return text[:1100]


def _first_seen(history: Mapping[str, Any]) -> dict[str, datetime]:
    found = {}
    for key, entry in history.items():
        try:
            found[key] = datetime.fromisoformat(entry["first_seen"])
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _remember(history: Mapping[str, Any], key: str | None, at: datetime) -> dict[str, Any]:
    updated = dict(history)
    if not key:
        return updated
    entry = updated.get(key)
    if entry is None:
        if len(updated) >= MAX_TRACKED:
            return updated
        updated[key] = {"first_seen": at.isoformat(), "last_seen": at.isoformat(), "count": 1}
    else:
        entry = dict(entry)
        entry["count"] = int(entry.get("count", 0)) + 1
        if at.isoformat() > str(entry.get("last_seen", "")):
            entry["last_seen"] = at.isoformat()
        updated[key] = entry
    return updated


def _activity(
    issue: Issue, kind: str, *, actor_id: uuid.UUID | None = None, at: datetime | None = None,
    **data: Any,
) -> IssueActivity:  # fmt: skip
    """A timeline entry, stamped when it is recorded (so the timeline reads in the order things
    were decided); an occurrence's own time goes in ``seen_at``."""
    return IssueActivity(
        id=uuid.uuid4(),
        org_id=issue.org_id,
        issue_id=issue.id,
        kind=kind,
        actor_id=actor_id,
        at=at or datetime.now(UTC),
        data={k: v for k, v in data.items() if v is not None},
    )


def _clear_state(issue: Issue) -> None:
    issue.resolved_at = None
    issue.resolved_in_release = None
    issue.resolved_in_commit = None
    issue.ignore_until_count = None
    issue.ignore_until = None


async def _count(
    session: AsyncSession, issue: Issue, seen: Seen, sink: IssueEventSink, *, new: bool
) -> IssueEventKind | None:
    """Count one occurrence on the (locked) issue: its history, a regression, a lapsed ignore,
    and the event it publishes (None when it publishes none)."""
    kind: IssueEventKind | None = IssueEventKind.NEW if new else IssueEventKind.OCCURRENCE
    issue.occurrence_count += 1
    issue.first_seen_at = min(issue.first_seen_at, seen.at)
    issue.last_seen_at = max(issue.last_seen_at, seen.at)
    if issue.state == IssueState.RESOLVED:
        resolution = Resolution(
            resolved_at=issue.resolved_at or issue.created_at,
            in_release=issue.resolved_in_release,
            in_commit=issue.resolved_in_commit,
        )
        regressed = is_regression(
            resolution,
            release=seen.release,
            commit=seen.commit,
            releases_first_seen=_first_seen(issue.releases),
            commits_first_seen=_first_seen(issue.commits),
        )
        if regressed:
            session.add(
                _activity(
                    issue, "regression", seen_at=seen.at.isoformat(), release=seen.release,
                    commit=seen.commit,
                    report_id=str(seen.report_id), resolved_in_release=issue.resolved_in_release,
                    resolved_in_commit=issue.resolved_in_commit,
                )
            )  # fmt: skip
            issue.state = IssueState.UNRESOLVED
            _clear_state(issue)
            kind = IssueEventKind.REGRESSION
        else:
            kind = None
    elif issue.state == IssueState.IGNORED:
        by_count = (
            issue.ignore_until_count is not None
            and issue.occurrence_count >= issue.ignore_until_count
        )
        by_date = issue.ignore_until is not None and seen.at >= issue.ignore_until
        if by_count or by_date:
            session.add(
                _activity(
                    issue, "ignore_lapsed", seen_at=seen.at.isoformat(),
                    reason="occurrences" if by_count else "date",
                    report_id=str(seen.report_id),
                )
            )  # fmt: skip
            issue.state = IssueState.UNRESOLVED
            _clear_state(issue)
        else:
            kind = None
    issue.releases = _remember(issue.releases, seen.release, seen.at)
    issue.commits = _remember(issue.commits, seen.commit, seen.at)
    if kind is not None:
        await sink.publish(
            session,
            IssueEvent(
                kind=kind,
                org_id=issue.org_id,
                repo_id=issue.repo_id,
                issue_id=issue.id,
                report_id=seen.report_id,
                occurred_at=seen.at,
            ),
        )
    return kind


async def _default_assignee(session: AsyncSession, owners: Iterable[str]) -> uuid.UUID | None:
    """The first CODEOWNERS owner who is a member of the organisation (by e-mail)."""
    owners = [o for o in owners if isinstance(o, str)]
    if not owners:
        return None
    members = (
        await session.execute(
            select(User.id, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(User.email.is_not(None))
        )
    ).all()
    for owner in owners:
        for user_id, email in members:
            if owner_matches_email(owner, email or ""):
                return uuid.UUID(str(user_id))
    return None


async def _uncounted(session: AsyncSession, report_id: uuid.UUID) -> list[ReportOccurrence]:
    """The report's repeats not yet counted on its issue, locked; rows another transaction is
    counting right now are skipped (it counts them)."""
    rows = await session.scalars(
        select(ReportOccurrence)
        .where(ReportOccurrence.report_id == report_id, ReportOccurrence.issue_counted.is_(False))
        .order_by(ReportOccurrence.received_at, ReportOccurrence.id)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def link_report(session: AsyncSession, report: Report, sink: IssueEventSink) -> Issue | None:
    """Link a report whose diagnosis just completed to its issue (created on first sight),
    and count it and the repeats grouped onto it so far. The report row must be locked by the
    caller (the worker holds it ``FOR UPDATE``). A report linked before (a re-run) refreshes
    the issue's title and culprit and counts the repeats that arrived while it was diagnosed
    again (the API leaves those of a report that is not complete to this)."""
    data = report.report_data or {}
    title = str(data.get("title") or report.fingerprint or "Unknown error")[:TITLE_LIMIT]
    culprit = culprit_of(data)
    if report.issue_id is not None:
        issue = await session.get(Issue, report.issue_id, with_for_update=True)
        if issue is not None:
            issue.title, issue.culprit = title, culprit
            await _count_uncounted(session, issue, report.id, sink)
        return issue
    if not report.fingerprint:
        return None
    owners = data.get("code_owners") or []
    new_id = uuid.uuid4()
    inserted = await session.scalar(
        insert(Issue)
        .values(
            id=new_id, org_id=report.org_id, repo_id=report.repo_id,
            fingerprint=report.fingerprint, title=title, culprit=culprit,
            state=IssueState.UNRESOLVED.value, first_seen_at=report.created_at,
            last_seen_at=report.created_at, occurrence_count=0,
            assignee_id=await _default_assignee(session, owners) if owners else None,
        )
        .on_conflict_do_nothing(index_elements=["org_id", "repo_id", "fingerprint"])
        .returning(Issue.id)
    )  # fmt: skip
    created = inserted is not None
    issue = await session.scalar(
        select(Issue)
        .where(
            Issue.repo_id.is_not_distinct_from(report.repo_id),
            Issue.fingerprint == report.fingerprint,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if issue is None:  # deleted between the two statements: nothing to link to
        return None
    if created:
        session.add(
            _activity(
                issue, "created", seen_at=report.created_at.isoformat(), report_id=str(report.id)
            )
        )
        if issue.assignee_id is not None:
            session.add(
                _activity(
                    issue, "assigned", assignee_id=str(issue.assignee_id), source="codeowners",
                )
            )  # fmt: skip
    else:
        issue.title, issue.culprit = title, culprit
    raw_log = data.get("log")
    log: dict[str, Any] = raw_log if isinstance(raw_log, dict) else {}
    release = log.get("release") or log.get("version")
    first = Seen(
        at=report.created_at,
        report_id=report.id,
        release=str(release)[:200] if release else None,
        commit=log.get("commit") or report.commit_hash,
    )
    await _count(session, issue, first, sink, new=created)
    await _count_uncounted(session, issue, report.id, sink)
    report.issue_id = issue.id
    await session.flush()
    return issue


async def _count_uncounted(
    session: AsyncSession, issue: Issue, report_id: uuid.UUID, sink: IssueEventSink
) -> None:
    for occurrence in await _uncounted(session, report_id):
        await _count(
            session,
            issue,
            _seen_in_log(occurrence.log_data, occurrence.received_at, report_id),
            sink,
            new=False,
        )
        occurrence.issue_counted = True


async def count_repeats(
    session: AsyncSession,
    report_id: uuid.UUID,
    sink: IssueEventSink,
    *,
    accepted: tuple[Mapping[str, Any], ParsedLog] | None = None,
) -> list[IssueEventKind | None]:
    """Count the repeats accepted onto a report on its issue (the API, after a repeat). A
    report not linked yet is left alone: the worker counts its repeats when it links it.
    ``accepted`` is the log the caller just accepted and its parse, so an occurrence that
    carries that very log is not parsed again."""
    issue_id = await session.scalar(select(Report.issue_id).where(Report.id == report_id))
    if issue_id is None:
        return []
    waiting = await _uncounted(session, report_id)
    if not waiting:
        return []
    issue = await session.get(Issue, issue_id, with_for_update=True)
    if issue is None:
        return []
    kinds = []
    for occurrence in waiting:
        if accepted is not None and occurrence.log_data == accepted[0]:
            seen = Seen(
                at=occurrence.received_at,
                report_id=report_id,
                release=release_of(accepted[1]),
                commit=accepted[1].commit,
            )
        else:
            seen = _seen_in_log(occurrence.log_data, occurrence.received_at, report_id)
        kinds.append(await _count(session, issue, seen, sink, new=False))
        occurrence.issue_counted = True
    await session.flush()
    return kinds


# --- reading -------------------------------------------------------------------------------

CURSOR_PATTERN = r"^[0-9]{1,17}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidCursor(ValueError):
    pass


def encode_cursor(issue: Issue) -> str:
    return f"{(issue.last_seen_at - _EPOCH) // timedelta(microseconds=1)}_{issue.id}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not re.match(CURSOR_PATTERN, cursor):
        raise InvalidCursor("the cursor is not one this API handed out")
    micros, issue_id = cursor.split("_", 1)
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(issue_id)
    except (OverflowError, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API handed out") from exc


@dataclass(frozen=True)
class IssueFilters:
    state: IssueState | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    repo_id: uuid.UUID | None = None


async def expire_ignores(session: AsyncSession, now: datetime | None = None) -> int:
    """Issues ignored until a date that has passed become unresolved again (with a timeline
    entry at that date), even when no occurrence arrived since."""
    now = now or datetime.now(UTC)
    lapsed = (
        await session.execute(
            update(Issue)
            .where(Issue.state == IssueState.IGNORED.value, Issue.ignore_until <= now)
            .values(state=IssueState.UNRESOLVED.value, ignore_until=None, ignore_until_count=None)
            .returning(Issue.id, Issue.org_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for issue_id, org_id in lapsed:
        session.add(
            IssueActivity(
                id=uuid.uuid4(), org_id=org_id, issue_id=issue_id, kind="ignore_lapsed",
                at=now, data={"reason": "date"},
            )
        )  # fmt: skip
    if lapsed:
        await session.flush()
    return len(lapsed)


async def list_issues(
    session: AsyncSession, *, limit: int, cursor: str | None, filters: IssueFilters
) -> tuple[list[Issue], str | None]:
    """Most recently seen first, keyset-paginated on (last_seen_at, id)."""
    query: Select[Issue] = (
        select(Issue).order_by(Issue.last_seen_at.desc(), Issue.id.desc()).limit(limit + 1)
    )
    if filters.state is not None:
        query = query.where(Issue.state == filters.state.value)
    if filters.unassigned:
        query = query.where(Issue.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Issue.assignee_id == filters.assignee_id)
    if filters.repo_id is not None:
        query = query.where(Issue.repo_id == filters.repo_id)
    if cursor is not None:
        seen_at, issue_id = decode_cursor(cursor)
        query = query.where(tuple_(Issue.last_seen_at, Issue.id) < tuple_(seen_at, issue_id))
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def get_issue(session: AsyncSession, issue_id: uuid.UUID) -> Issue | None:
    return await session.get(Issue, issue_id)


async def timeline(
    session: AsyncSession, issue_id: uuid.UUID, *, limit: int = 200
) -> list[tuple[IssueActivity, str | None]]:
    """The issue's timeline, oldest first (the latest ``limit`` entries), with actor names."""
    rows = (
        await session.execute(
            select(IssueActivity, User.display_name)
            .outerjoin(User, User.id == IssueActivity.actor_id)
            .where(IssueActivity.issue_id == issue_id)
            .order_by(IssueActivity.at.desc(), IssueActivity.id.desc())
            .limit(limit)
        )
    ).all()
    return [(activity, name) for activity, name in reversed(rows)]


async def recent_reports(
    session: AsyncSession, issue_id: uuid.UUID, *, limit: int = 20
) -> list[Report]:
    rows = await session.scalars(
        select(Report)
        .where(Report.issue_id == issue_id)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def user_names(
    session: AsyncSession, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {uuid.UUID(str(i)): name for i, name in rows.all()}


# --- changes people make -------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    state: IssueState
    resolved_in_release: str | None = None
    resolved_in_commit: str | None = None
    # Ignored until this many MORE occurrences, and/or until this moment.
    ignore_count: int | None = None
    ignore_until: datetime | None = None


async def _is_member(session: AsyncSession, user_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Membership.user_id).where(Membership.user_id == user_id))
    return found is not None


def _apply_state(issue: Issue, change: StateChange, actor_id: uuid.UUID | None) -> IssueActivity:
    now = datetime.now(UTC)
    _clear_state(issue)
    issue.state = change.state.value
    if change.state is IssueState.RESOLVED:
        issue.resolved_at = now
        issue.resolved_in_release = change.resolved_in_release
        issue.resolved_in_commit = change.resolved_in_commit
        return _activity(
            issue, "resolved", actor_id=actor_id, at=now,
            release=change.resolved_in_release, commit=change.resolved_in_commit,
        )  # fmt: skip
    if change.state is IssueState.IGNORED:
        if change.ignore_count is not None:
            issue.ignore_until_count = issue.occurrence_count + change.ignore_count
        issue.ignore_until = change.ignore_until
        return _activity(
            issue, "ignored", actor_id=actor_id, at=now, occurrences=change.ignore_count,
            until=change.ignore_until.isoformat() if change.ignore_until else None,
        )  # fmt: skip
    return _activity(issue, "unresolved", actor_id=actor_id, at=now)


async def change_issue(
    session: AsyncSession,
    issue: Issue,
    *,
    actor_id: uuid.UUID | None,
    state: StateChange | None = None,
    assign: bool = False,
    assignee_id: uuid.UUID | None = None,
) -> Issue:
    """Change an issue's state and/or assignee (``assign`` says whether the assignee is part
    of the change; ``assignee_id`` None then unassigns). An assignee must be a member of the
    organisation (``NotAMember``)."""
    if assign and assignee_id is not None and not await _is_member(session, assignee_id):
        raise NotAMember(f"{assignee_id} is not a member of this organisation")
    await session.refresh(issue, with_for_update=True)
    if state is not None:
        session.add(_apply_state(issue, state, actor_id))
    if assign and assignee_id != issue.assignee_id:
        issue.assignee_id = assignee_id
        session.add(
            _activity(
                issue,
                "assigned" if assignee_id else "unassigned",
                actor_id=actor_id,
                assignee_id=str(assignee_id) if assignee_id else None,
            )
        )
    await session.flush()
    return issue


async def change_many(
    session: AsyncSession,
    issue_ids: Sequence[uuid.UUID],
    change: StateChange,
    *,
    actor_id: uuid.UUID | None,
) -> list[Issue]:
    """One state change for several issues, all or nothing: an id that is not an issue of
    this organisation raises ``UnknownIssues`` before anything changes."""
    wanted = list(dict.fromkeys(issue_ids))
    found = list(
        (
            await session.scalars(
                select(Issue).where(Issue.id.in_(wanted)).order_by(Issue.id).with_for_update()
            )
        ).all()
    )
    missing = [i for i in wanted if i not in {issue.id for issue in found}]
    if missing:
        raise UnknownIssues(missing)
    for issue in found:
        session.add(_apply_state(issue, change, actor_id))
    await session.flush()
    by_id = {issue.id: issue for issue in found}
    return [by_id[i] for i in wanted]
