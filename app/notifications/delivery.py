"""Running one ``notify`` job: send the delivery it names and record what happened.

As with diagnoses, delivery is at least once and every transaction that touches the job checks
the claim first (``StaleClaim``): a worker whose lease ran out has its outcome discarded. A
delivery already delivered or failed is acknowledged without sending again. Retries go back
through the queue with a delay (``Retry-After`` when the receiver gave one, else exponential
backoff from ``LOGDAWG_NOTIFY_RETRY_DELAY_S``), so a slow receiver never holds a worker slot.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import NotificationDelivery, NotificationRule, Report
from app.db.session import tenant_session
from app.git.safety import check_base_url
from app.git.types import GitProviderError, ProviderUnavailable, RateLimited, Refused
from app.notifications import channels, messages
from app.notifications.rules import secret_of
from app.queue.base import ClaimedJob, JobQueue, StaleClaim
from app.secrets.base import KeyUnavailable, KeyWrapper
from app.services import issue_links
from app.services.repository_access import RepositoryAccess
from app.settings import Settings

logger = logging.getLogger(__name__)
MAX_DELAY_S = 3600.0


@dataclass(frozen=True)
class _Work:
    org_id: uuid.UUID
    report_id: uuid.UUID | None
    delivery_id: uuid.UUID
    channel: str
    config: dict[str, Any]
    secret: str
    payload: dict[str, Any]
    digest: list[dict[str, Any]] | None
    window_s: int


def backoff(first_s: float, attempt: int) -> float:
    return float(min(first_s * 2 ** max(attempt - 1, 0), MAX_DELAY_S))


class Notifier:
    """Sends notification deliveries; one per worker process (its HTTP client is shared)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue: JobQueue,
        kek: KeyWrapper,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        access: RepositoryAccess | None = None,
    ) -> None:
        self._sessions = sessions
        # How repositories are written to (the ``issue_tracker`` channel).
        self._access = access or RepositoryAccess()
        self._queue = queue
        self._kek = kek
        self._settings = settings
        self._client = httpx.AsyncClient(
            timeout=settings.notify_timeout_s,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "log-dawg-cloud"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __call__(self, job: ClaimedJob) -> str | None:
        """The delivery's status afterwards, or None when the claim went stale."""
        try:
            status = await self._process(job)
        except StaleClaim:
            logger.warning(
                "notify job %s attempt %s: the lease passed to another worker; discarded",
                job.id, job.attempts,
            )  # fmt: skip
            status = None
        await self._queue.acknowledge(job)
        return status

    async def _process(self, job: ClaimedJob) -> str:
        async with tenant_session(self._sessions, job.org_id) as session, session.begin():
            await self._queue.hold(session, job)
            ready = await self._prepare(session, job)
            if isinstance(ready, str):
                return ready
        outcome = await self._send(ready)
        async with tenant_session(self._sessions, job.org_id) as session, session.begin():
            await self._queue.hold(session, job)
            return await self._record(session, job, ready.delivery_id, outcome)

    async def _prepare(self, session: AsyncSession, job: ClaimedJob) -> _Work | str:
        delivery = await session.scalar(
            select(NotificationDelivery)
            .where(NotificationDelivery.job_id == job.id)
            .with_for_update()
        )
        if delivery is None:
            await self._queue.fail(session, job, "the delivery of this job no longer exists")
            return "failed"
        if delivery.status in ("delivered", "failed"):
            await self._queue.complete(session, job)
            return delivery.status
        rule = await session.get(NotificationRule, delivery.rule_id)
        if rule is None or not rule.enabled:
            return await self._give_up(session, job, delivery, "the rule is disabled")
        if delivery.kind == "digest":
            due = delivery.created_at + timedelta(seconds=rule.storm_window_s)
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0:  # a broker handed it over early: not yet
                await self._queue.retry(session, job, "waiting for the digest window", wait)
                return delivery.status
        try:
            secret = await secret_of(self._kek, rule)
        except KeyUnavailable as exc:
            return await self._give_up(session, job, delivery, f"the secret does not open: {exc}")
        digest = None
        if delivery.kind == "digest":
            folded = await session.scalars(
                select(NotificationDelivery.payload)
                .where(NotificationDelivery.digest_id == delivery.id)
                .order_by(NotificationDelivery.created_at, NotificationDelivery.id)
            )
            digest = list(folded.all())
        return _Work(
            org_id=delivery.org_id,
            report_id=delivery.report_id,
            delivery_id=delivery.id,
            channel=rule.channel,
            config=dict(rule.config),
            secret=secret,
            payload=dict(delivery.payload),
            digest=digest,
            window_s=rule.storm_window_s,
        )

    async def _give_up(
        self, session: AsyncSession, job: ClaimedJob, delivery: NotificationDelivery, error: str
    ) -> str:
        delivery.status = "failed"
        delivery.error = error
        delivery.attempts = job.attempts
        delivery.next_retry_at = None
        await self._queue.fail(session, job, error)
        return "failed"

    async def _send(self, work: _Work) -> channels.Outcome:
        if work.channel == "issue_tracker":
            return await self._create_issue(work)
        target = (
            str(work.config["url"]) if work.channel == "webhook"
            else work.secret if work.channel in ("slack", "teams")
            else f"https://{work.config['host']}:{work.config['port']}"
        )  # fmt: skip
        try:
            # Again at send time: a name that resolved to a public address when the rule was
            # made may resolve to an internal one now.
            await check_base_url(target, multi_tenant=self._settings.mode == "multi_tenant")
        except (Refused, ValueError) as exc:
            return channels.Outcome("failed", None, None, f"refused: {exc}")
        payload, digest, window = work.payload, work.digest, work.window_s
        if work.channel == "slack":
            body = messages.slack_body(payload, digest, window_s=window)
            return await channels.post_json(self._client, work.secret, channels.encode(body))
        if work.channel == "teams":
            body = messages.teams_body(payload, digest, window_s=window)
            return await channels.post_json(self._client, work.secret, channels.encode(body))
        if work.channel == "webhook":
            body = messages.webhook_body(
                payload, digest, window_s=window, delivery_id=work.delivery_id
            )
            return await channels.post_signed(
                self._client, str(work.config["url"]), work.secret, channels.encode(body),
                str(work.delivery_id),
            )  # fmt: skip
        text = (
            messages.digest_text(digest, window)
            if digest is not None
            else messages.plain_text(payload)
        )
        smtp = channels.SmtpSettings(
            host=str(work.config["host"]),
            port=int(work.config["port"]),
            starttls=bool(work.config.get("starttls", True)),
            username=str(work.config.get("username") or ""),
            password=work.secret,
            sender=str(work.config["from_address"]),
            recipients=[str(r) for r in work.config["to"]],
            timeout_s=self._settings.notify_timeout_s,
        )
        return await channels.send_mail(smtp, messages.email_subject(payload, digest), text)

    async def _create_issue(self, work: _Work) -> channels.Outcome:
        """The report's GitHub issue or work item (once; an existing one counts as sent)."""
        if work.report_id is None:
            return channels.Outcome("failed", None, None, "the report was deleted")
        try:
            async with tenant_session(self._sessions, work.org_id) as session, session.begin():
                report = await session.get(Report, work.report_id)
                if report is None:
                    return channels.Outcome("failed", None, None, "the report was deleted")
                await issue_links.create_link(
                    session, report, kek=self._kek, access=self._access, settings=self._settings,
                    created_by=None,
                    comment_on_pull_request=bool(work.config.get("comment_on_pull_request", True)),
                )  # fmt: skip
        except issue_links.CannotLink as exc:
            return channels.Outcome("failed", None, None, str(exc))
        except (RateLimited, ProviderUnavailable) as exc:
            return channels.Outcome("retry", None, None, str(exc))
        except GitProviderError as exc:
            return channels.Outcome("failed", None, None, str(exc)[: channels.ERROR_LIMIT])
        return channels.Outcome("delivered")

    async def _record(
        self,
        session: AsyncSession,
        job: ClaimedJob,
        delivery_id: uuid.UUID,
        outcome: channels.Outcome,
    ) -> str:
        delivery = await session.get(NotificationDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            await self._queue.complete(session, job)
            return "failed"
        delivery.attempts = job.attempts
        delivery.response_code = outcome.response_code
        delivery.error = outcome.error
        if outcome.status == "delivered":
            delivery.status = "delivered"
            delivery.delivered_at = datetime.now(UTC)
            delivery.next_retry_at = None
            await self._queue.complete(session, job)
        elif outcome.status == "retry" and not job.is_last_attempt:
            delay = backoff(self._settings.notify_retry_delay_s, job.attempts)
            if outcome.retry_after_s is not None:
                delay = min(max(outcome.retry_after_s, 0.0), MAX_DELAY_S)
            delivery.status = "retrying"
            delivery.next_retry_at = datetime.now(UTC) + timedelta(seconds=delay)
            await self._queue.retry(session, job, outcome.error or "retry", delay)
        else:
            delivery.status = "failed"
            delivery.next_retry_at = None
            if outcome.status == "retry":
                delivery.error = f"gave up after {job.attempts} attempts: {outcome.error}"
            await self._queue.fail(session, job, delivery.error or "failed")
        logger.info(
            "notification %s (rule %s, attempt %s): %s %s",
            delivery.id, delivery.rule_id, job.attempts, delivery.status,
            outcome.response_code or "",
        )  # fmt: skip
        return delivery.status
