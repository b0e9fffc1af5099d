"""``NotificationSink``: the organisation's rules, evaluated for one issue event.

It runs inside the transaction that recorded the event and does no network I/O: a message
that should go out becomes a delivery row (the delivery log) and a ``notify`` job, which
commit or roll back with the event. A worker sends it later (``app.notifications.delivery``).

Storms: a rule that already queued ``storm_limit`` messages within ``storm_window_s`` folds
further ones into one digest delivery, sent when the window it opened has passed. Evaluation
for one rule is serialised (a transaction-scoped advisory lock), so two events at once cannot
both open a digest or both slip under the limit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    Job,
    NotificationDelivery,
    NotificationRule,
    Report,
    ReportOccurrence,
    Repository,
)
from app.git.types import RepoRef
from app.issues.events import IssueEvent, IssueEventKind
from app.notifications.messages import payload_of
from app.queue.base import JobQueue
from app.settings import Settings


class NotificationSink:
    """The platform's ``IssueEventSink`` (``app.issues.events``)."""

    def __init__(self, queue: JobQueue, settings: Settings) -> None:
        self._queue = queue
        self._public_url = settings.public_url
        self._max_attempts = settings.notify_max_attempts

    async def publish(self, session: AsyncSession, event: IssueEvent) -> None:
        rules = (
            await session.scalars(
                select(NotificationRule)
                .where(NotificationRule.org_id == event.org_id, NotificationRule.enabled)
                .order_by(NotificationRule.created_at, NotificationRule.id)
            )
        ).all()
        payload: dict[str, Any] | None = None
        for rule in rules:
            trigger = await self._trigger(session, rule, event)
            if trigger is None:
                continue
            if payload is None:
                payload = await self._payload(session, event)
            await self._enqueue(session, rule, event, {**payload, "event": trigger})

    async def _trigger(
        self, session: AsyncSession, rule: NotificationRule, event: IssueEvent
    ) -> str | None:
        """The event name the rule's message announces, or None when the rule stays quiet."""
        if rule.trigger == "new":
            return "new" if event.kind is IssueEventKind.NEW else None
        if rule.trigger == "regression":
            return "regression" if event.kind is IssueEventKind.REGRESSION else None
        count, minutes = rule.threshold_count or 1, rule.threshold_minutes or 1
        since = event.occurred_at - timedelta(minutes=minutes)
        if await self._occurrences(session, event, since) < count:
            return None
        # Once per crossing: quiet while this rule already spoke of the issue in the window.
        already = await session.scalar(
            select(func.count())
            .select_from(NotificationDelivery)
            .where(
                NotificationDelivery.rule_id == rule.id,
                NotificationDelivery.issue_id == event.issue_id,
                NotificationDelivery.created_at >= since,
            )
        )
        return "threshold" if not already else None

    @staticmethod
    async def _occurrences(session: AsyncSession, event: IssueEvent, since: Any) -> int:
        """Occurrences of the event's issue (its report's fingerprint in its repository: the
        issue's definition) since ``since``: first reports and grouped repeats."""
        report = await session.get(Report, event.report_id)
        if report is None:
            return 0
        same = (
            [
                Report.fingerprint == report.fingerprint,
                Report.repo_id.is_not_distinct_from(report.repo_id),
            ]
            if report.fingerprint
            else [Report.id == report.id]
        )
        firsts = await session.scalar(
            select(func.count()).select_from(Report).where(*same, Report.created_at >= since)
        )
        repeats = await session.scalar(
            select(func.count())
            .select_from(ReportOccurrence)
            .join(Report, Report.id == ReportOccurrence.report_id)
            .where(*same, ReportOccurrence.received_at >= since)
        )
        return int(firsts or 0) + int(repeats or 0)

    async def _payload(self, session: AsyncSession, event: IssueEvent) -> dict[str, Any]:
        report = await session.get(Report, event.report_id)
        repository = await session.get(Repository, event.repo_id) if event.repo_id else None
        return payload_of(
            event.kind.value,
            event.report_id,
            event.issue_id,
            report.report_data if report is not None else None,
            self._public_url,
            repository=RepoRef.of(repository).label if repository is not None else None,
        )

    async def _enqueue(
        self,
        session: AsyncSession,
        rule: NotificationRule,
        event: IssueEvent,
        payload: dict[str, Any],
    ) -> NotificationDelivery:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"logdawg:notify:{rule.id}"},
        )
        window_start = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, rule.storm_window_s)
        recent = await session.scalar(
            select(func.count())
            .select_from(NotificationDelivery)
            .where(
                NotificationDelivery.rule_id == rule.id,
                NotificationDelivery.kind == "message",
                NotificationDelivery.status != "digested",
                NotificationDelivery.created_at >= window_start,
            )
        )
        delivery = NotificationDelivery(
            org_id=event.org_id,
            rule_id=rule.id,
            event=str(payload["event"]),
            issue_id=event.issue_id,
            report_id=event.report_id,
            payload=payload,
        )
        # A created issue is per report and idempotent: never folded into a digest.
        if (recent or 0) < rule.storm_limit or rule.channel == "issue_tracker":
            delivery.job_id = await self._job(session, event, delay_s=0)
        else:
            digest = await self._open_digest(session, rule, event)
            delivery.status = "digested"
            delivery.digest_id = digest.id
        session.add(delivery)
        await session.flush()
        return delivery

    async def _open_digest(
        self, session: AsyncSession, rule: NotificationRule, event: IssueEvent
    ) -> NotificationDelivery:
        digest = await session.scalar(
            select(NotificationDelivery)
            .where(
                NotificationDelivery.rule_id == rule.id,
                NotificationDelivery.kind == "digest",
                NotificationDelivery.status == "queued",
            )
            .order_by(NotificationDelivery.created_at.desc())
            .limit(1)
        )
        if digest is not None:
            return digest
        digest = NotificationDelivery(
            org_id=event.org_id,
            rule_id=rule.id,
            kind="digest",
            event="digest",
            report_id=event.report_id,
            payload={"event": "digest", "window_s": rule.storm_window_s},
            # Sent once the window it opens has passed, with everything folded into it.
            job_id=await self._job(session, event, delay_s=rule.storm_window_s),
        )
        session.add(digest)
        await session.flush()
        return digest

    async def _job(self, session: AsyncSession, event: IssueEvent, *, delay_s: int) -> Any:
        job_id = await self._queue.enqueue(
            session, org_id=event.org_id, report_id=event.report_id, kind="notify"
        )
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                max_attempts=self._max_attempts,
                available_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay_s),
            )
        )
        return job_id
