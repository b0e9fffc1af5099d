"""Azure Service Bus as the job queue, with the ``jobs`` table as its outbox and its truth.

- ``enqueue`` writes the job row in the caller's transaction (as the PostgreSQL queue does),
  so an accepted log and its job commit together; ``publish``, after that commit, sends one
  message per new job (message id ``<job>:<attempt>``, so the queue's duplicate detection
  drops a second send). Jobs whose message never left (the API died between commit and send)
  are sent again by ``sweep``, which workers run periodically. A message carries the id of
  the request that queued its job (the API's ``X-Request-ID``) as its ``correlation_id`` and
  its ``request_id`` application property, so the broker's own tools can follow a job; the
  worker's log lines take it from the job row.
- ``claim_many`` receives up to the worker's free slots in peek-lock mode (the receiver
  prefetches ``prefetch_count``, the worker's concurrency) and marks the job running in its
  organisation; a message for a job already done is settled without work, and one for a job
  whose last attempt died with its worker fails the job instead of looping.
- ``complete``/``retry``/``fail`` change the job row in the caller's transaction and remember
  the outcome; ``acknowledge``, after that commit, settles the message: completed, completed
  and re-sent at the retry time (scheduled), or dead-lettered. A worker dying before it
  settles loses nothing: the lock expires, the message comes back, the row says what happened.

The SDK's synchronous client runs in worker threads; the lock of a message being worked on is
renewed by the SDK's ``AutoLockRenewer`` (given to the receiver) up to the visibility timeout.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.servicebus import AutoLockRenewer, ServiceBusMessage
from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Job, JobStatus, NotificationDelivery, Report, ReportStatus
from app.db.session import tenant_session
from app.observability import request_id_var
from app.queue.base import ClaimedJob
from app.queue.postgres import PostgresJobQueue

OUTBOX = "logdawg_outbox"


@dataclass
class _InFlight:
    message: Any
    outcome: tuple[str, Any] | None = None


# A job to send: (job id, organisation, report, attempt, id of the request that queued it).
_Outgoing = tuple[uuid.UUID, uuid.UUID, uuid.UUID, int, str | None]


def _message(job: _Outgoing) -> Any:
    job_id, org_id, report_id, attempt, request_id = job
    body = {"job_id": str(job_id), "org_id": str(org_id), "report_id": str(report_id)}
    properties: dict[str | bytes, Any] = {"org_id": str(org_id)}
    if request_id:
        properties["request_id"] = request_id
    return ServiceBusMessage(
        json.dumps(body),
        message_id=f"{job_id}:{attempt}",
        content_type="application/json",
        correlation_id=request_id or None,
        application_properties=properties,
    )


def _body(message: Any) -> dict[str, str]:
    raw = message.body
    data = raw if isinstance(raw, bytes | str) else b"".join(bytes(part) for part in raw)
    parsed = json.loads(data)
    return parsed if isinstance(parsed, dict) else {}


async def _give_up_on(session: AsyncSession, job: Job) -> None:
    """What waited on a job given up for good: its report (a diagnosis) fails unless it is
    complete; its delivery (a notification) fails."""
    error = job.last_error
    if job.kind == "notify":
        await session.execute(
            NotificationDelivery.fail_waiting(NotificationDelivery.job_id == job.id, error)
        )
    else:
        await session.execute(
            update(Report)
            .where(Report.id == job.report_id, Report.status != ReportStatus.COMPLETE)
            .values(status=ReportStatus.FAILED, error=error, completed_at=func.now())
        )


class ServiceBusJobQueue:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        client: Any,
        *,
        queue_name: str,
        visibility_timeout_s: float,
        max_attempts: int,
        receive_wait_s: float = 5.0,
        prefetch_count: int = 0,
    ) -> None:
        self._prefetch_count = prefetch_count
        self._factory = factory
        self._client = client
        self._queue_name = queue_name
        self._visibility_timeout_s = visibility_timeout_s
        self._max_attempts = max_attempts
        self._receive_wait_s = receive_wait_s
        self._rows = PostgresJobQueue(
            factory, visibility_timeout_s=visibility_timeout_s, max_attempts=max_attempts
        )
        self._sender: Any = None
        self._receiver: Any = None
        self._renewer = AutoLockRenewer(max_lock_renewal_duration=visibility_timeout_s)
        self._in_flight: dict[uuid.UUID, _InFlight] = {}
        self._receiver_lock = asyncio.Lock()

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    # --- sending --------------------------------------------------------------------------

    def _get_sender(self) -> Any:
        if self._sender is None:
            self._sender = self._client.get_queue_sender(queue_name=self._queue_name)
        return self._sender

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        org_id: uuid.UUID,
        report_id: uuid.UUID,
        kind: str = "diagnose",
    ) -> uuid.UUID:
        job_id = await self._rows.enqueue(session, org_id=org_id, report_id=report_id, kind=kind)
        session.info.setdefault(OUTBOX, []).append(
            (job_id, org_id, report_id, 0, request_id_var.get())
        )
        return job_id

    async def publish(self, session: AsyncSession) -> None:
        """After the caller's commit: send the jobs this session enqueued."""
        await self._send(session.info.pop(OUTBOX, []))

    async def dispatch(self, jobs: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]) -> None:
        """After their commit: send jobs written without ``enqueue`` (the API's one-statement
        ingest), in the request that accepted them."""
        request_id = request_id_var.get()
        await self._send([(job, org, report, 0, request_id) for job, org, report in jobs])

    async def sweep(self, older_than_s: float = 60.0) -> int:
        """Send again the jobs that have no message (the sender died between its commit and
        the send); returns how many. Message ids repeat, so a message that did leave is not
        delivered twice."""
        async with self._factory() as session, session.begin():
            rows = (
                await session.execute(
                    text(
                        "SELECT id, org_id, report_id, attempts "
                        "FROM logdawg_undispatched_jobs(:age)"
                    ),
                    {"age": older_than_s},
                )
            ).all()
        await self._send(
            [(r.id, r.org_id, r.report_id, r.attempts, await self._request_of(r.org_id, r.id))
             for r in rows]
        )  # fmt: skip
        return len(rows)

    async def _request_of(self, org_id: uuid.UUID, job_id: uuid.UUID) -> str | None:
        """The request id a job row keeps (read in its organisation: row-level security)."""
        async with tenant_session(self._factory, org_id) as session:
            job = await session.get(Job, job_id)
            return job.request_id if job is not None else None

    async def _send(self, jobs: list[_Outgoing], at: datetime | None = None) -> None:
        if not jobs:
            return
        messages = [_message(job) for job in jobs]
        sender = self._get_sender()
        if at is None:
            await asyncio.to_thread(sender.send_messages, messages)
        else:
            await asyncio.to_thread(sender.schedule_messages, messages, at)
        by_org: dict[uuid.UUID, list[uuid.UUID]] = {}
        for job, org, *_ in jobs:
            by_org.setdefault(org, []).append(job)
        for org, ids in by_org.items():
            async with tenant_session(self._factory, org) as marked, marked.begin():
                await marked.execute(
                    update(Job).where(Job.id.in_(ids)).values(dispatched_at=func.now())
                )

    # --- receiving ------------------------------------------------------------------------

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        jobs = await self.claim_many(worker_id, 1)
        return jobs[0] if jobs else None

    async def claim_many(self, worker_id: str, limit: int) -> list[ClaimedJob]:
        """Receive up to ``limit`` messages (the worker's free slots; the receiver prefetches
        ``prefetch_count`` more) and mark their jobs running."""
        if limit <= 0:
            return []
        if self._receiver is None:
            # Every received message's lock is renewed while it is worked on.
            self._receiver = self._client.get_queue_receiver(
                queue_name=self._queue_name,
                auto_lock_renewer=self._renewer,
                prefetch_count=self._prefetch_count,
            )
        # While jobs are in flight, wait briefly: their settlements queue behind this call.
        received = await self._on_receiver(
            "receive_messages",
            max_message_count=limit,
            max_wait_time=min(self._receive_wait_s, 1.0)
            if self._in_flight
            else self._receive_wait_s,
        )
        jobs = []
        for message in received or []:
            job = await self._claim_message(worker_id, message)
            if job is not None:
                jobs.append(job)
        return jobs

    async def _claim_message(self, worker_id: str, message: Any) -> ClaimedJob | None:
        try:
            body = _body(message)
            job_id, org_id = uuid.UUID(body["job_id"]), uuid.UUID(body["org_id"])
        except (ValueError, KeyError, TypeError):
            await self._on_receiver(
                "dead_letter_message", message, reason="unreadable",
                error_description="the message is not a Log Dawg job",
            )  # fmt: skip
            return None
        async with tenant_session(self._factory, org_id) as session, session.begin():
            job = await session.get(Job, job_id, with_for_update=True)
            if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
                await self._on_receiver("complete_message", message)
                return None
            if job.attempts >= job.max_attempts:
                # The last attempt's worker died mid-job: give up, as the PostgreSQL queue does
                # (logdawg_claim_jobs): the job, and what waited on it.
                job.status = JobStatus.FAILED
                job.last_error = "the worker processing the last attempt stopped"
                await _give_up_on(session, job)
                self._in_flight[job.id] = _InFlight(message, ("fail", job.last_error))
                claimed = None
            else:
                job.status = JobStatus.RUNNING
                job.attempts += 1
                job.locked_by = worker_id
                job.locked_until = datetime.now(UTC) + timedelta(seconds=self._visibility_timeout_s)
                self._in_flight[job.id] = _InFlight(message)
                claimed = ClaimedJob(
                    id=job.id,
                    org_id=job.org_id,
                    report_id=job.report_id,
                    kind=job.kind,
                    attempts=job.attempts,
                    max_attempts=job.max_attempts,
                    worker_id=worker_id,
                    request_id=job.request_id,
                )
            given_up = job.id if claimed is None else None
        if given_up is not None:
            await self._settle(given_up)
        return claimed

    async def hold(self, session: AsyncSession, job: ClaimedJob) -> None:
        await self._rows.hold(session, job)

    async def renew(self, jobs: Sequence[ClaimedJob]) -> set[uuid.UUID]:
        # The message locks are renewed by the SDK's AutoLockRenewer; this renews the rows.
        return await self._rows.renew(jobs)

    async def complete(self, session: AsyncSession, job: ClaimedJob) -> None:
        await self._rows.complete(session, job)
        self._outcome(job, ("complete", None))

    async def retry(
        self, session: AsyncSession, job: ClaimedJob, error: str, delay_s: float
    ) -> None:
        await self._rows.retry(session, job, error, delay_s)
        # No message until the retry is scheduled: if this worker dies first, the sweeper
        # sends one.
        await session.execute(update(Job).where(Job.id == job.id).values(dispatched_at=None))
        self._outcome(job, ("retry", delay_s))

    async def fail(self, session: AsyncSession, job: ClaimedJob, error: str) -> None:
        await self._rows.fail(session, job, error)
        self._outcome(job, ("fail", error))

    def _outcome(self, job: ClaimedJob, outcome: tuple[str, Any]) -> None:
        if job.id in self._in_flight:
            self._in_flight[job.id].outcome = outcome

    async def acknowledge(self, job: ClaimedJob) -> None:
        """After the caller's commit: settle the job's message as its outcome says."""
        await self._settle(job.id, job)

    async def _settle(self, job_id: uuid.UUID, job: ClaimedJob | None = None) -> None:
        flight = self._in_flight.pop(job_id, None)
        if flight is None or flight.outcome is None:
            return  # nothing decided: the lock expires and the message comes back
        message = flight.message
        kind, detail = flight.outcome
        if kind == "fail":
            await self._on_receiver(
                "dead_letter_message", message, reason="failed",
                error_description=str(detail)[:1000],
            )  # fmt: skip
            return
        if kind == "retry" and job is not None:
            at = datetime.now(UTC) + timedelta(seconds=float(detail))
            await self._send(
                [(job.id, job.org_id, job.report_id, job.attempts, job.request_id)], at
            )
        await self._on_receiver("complete_message", message)

    async def _on_receiver(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the receiver in a thread, one call at a time: the worker settles and receives
        from several jobs at once, and the SDK's synchronous receiver is not thread-safe."""
        async with self._receiver_lock:
            return await asyncio.to_thread(getattr(self._receiver, method), *args, **kwargs)

    async def aclose(self) -> None:
        self._renewer.close()
        for handle in (self._sender, self._receiver):
            if handle is not None:
                await asyncio.to_thread(handle.close)
