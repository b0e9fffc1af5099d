"""The job queue port. A job names a report to diagnose; the report id makes it idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    org_id: uuid.UUID
    report_id: uuid.UUID
    kind: str
    attempts: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


class JobQueue(Protocol):
    async def enqueue(
        self, session: AsyncSession, *, org_id: uuid.UUID, report_id: uuid.UUID
    ) -> uuid.UUID:
        """Add a job in the caller's transaction, so it commits with the report or not at all."""
        ...

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        """Take the next due job, hidden from other workers until its lease runs out."""
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

    async def acknowledge(self, job: ClaimedJob) -> None:
        """After the commit that recorded the job's outcome: settle it with the broker."""
        ...

    async def sweep(self) -> int:
        """Re-send jobs a broker never received; how many. Workers call it periodically."""
        ...
