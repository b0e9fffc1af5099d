"""The job queue port. A job names a report to diagnose; the report id makes it idempotent.

A claim is fenced: ``(id, worker_id, attempts)``. Every claim of a job raises ``attempts``, so
a worker whose lease ran out (and whose job another worker now holds) no longer matches, and
its ``complete``/``retry``/``fail`` raise ``StaleClaim`` instead of overwriting the outcome.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)


class StaleClaim(Exception):
    """The job's lease passed to another claim: this worker's outcome must be discarded."""

    def __init__(self, job: ClaimedJob) -> None:
        super().__init__(
            f"job {job.id} attempt {job.attempts} is no longer held by {job.worker_id}"
        )
        self.job = job


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    org_id: uuid.UUID
    report_id: uuid.UUID
    kind: str
    attempts: int
    max_attempts: int
    # Who holds the lease; with ``attempts`` the claim's fencing token.
    worker_id: str = ""
    # The X-Request-ID of the request that submitted the log, carried into worker logs.
    request_id: str | None = None

    @property
    def is_last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


class JobQueue(Protocol):
    async def enqueue(
        self,
        session: AsyncSession,
        *,
        org_id: uuid.UUID,
        report_id: uuid.UUID,
        kind: str = "diagnose",
    ) -> uuid.UUID:
        """Add a job in the caller's transaction, so it commits with the report or not at all.
        ``kind``: ``diagnose`` (the report's one diagnosis) or ``notify`` (a notification
        delivery about it; the worker finds which through the job's id)."""
        ...

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        """Take the next due job, hidden from other workers until its lease runs out."""
        ...

    async def claim_many(self, worker_id: str, limit: int) -> list[ClaimedJob]:
        """Take up to ``limit`` due jobs at once (a worker's free slots)."""
        ...

    async def hold(self, session: AsyncSession, job: ClaimedJob) -> None:
        """Check in the caller's transaction that the claim still holds; ``StaleClaim`` if not."""
        ...

    async def renew(self, jobs: Sequence[ClaimedJob]) -> set[uuid.UUID]:
        """Extend the leases of ``jobs``; returns the ids whose claim still holds."""
        ...

    async def complete(self, session: AsyncSession, job: ClaimedJob) -> None:
        """Acknowledge in the caller's transaction (the one that stores the result)."""
        ...

    async def retry(
        self, session: AsyncSession, job: ClaimedJob, error: str, delay_s: float
    ) -> None:
        """Release the job to be tried again after ``delay_s``."""
        ...

    async def fail(self, session: AsyncSession, job: ClaimedJob, error: str) -> None:
        """Give up on the job for good."""
        ...

    async def publish(self, session: AsyncSession) -> None:
        """After the caller's commit: hand the jobs it enqueued to a broker, if there is one."""
        ...

    async def dispatch(self, jobs: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]) -> None:
        """After their commit: hand jobs (job, organisation, report) written by other means
        (``logdawg_submit_log``) to a broker, if there is one."""
        ...

    async def acknowledge(self, job: ClaimedJob) -> None:
        """After the commit that recorded the job's outcome: settle it with the broker."""
        ...

    async def sweep(self) -> int:
        """Re-send jobs a broker never received; how many. Workers call it periodically."""
        ...


async def publish_after_commit(queue: JobQueue, session: AsyncSession) -> None:
    """``queue.publish`` after the commit that wrote the session's jobs; a failure only
    delays them (the sweep sends committed jobs that have no message)."""
    try:
        await queue.publish(session)
    except Exception:
        logger.warning("could not hand queued jobs to the broker; the sweep will",
                       exc_info=True)  # fmt: skip
