"""The PostgreSQL queue: the ``jobs`` table, claimed with ``FOR UPDATE SKIP LOCKED``.

Claiming goes through ``logdawg_claim_job`` (SECURITY DEFINER), the only way the application
role sees jobs of every organisation. Everything after the claim runs in the job's
organisation, under row-level security.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Job, JobStatus
from app.queue.base import ClaimedJob


class PostgresJobQueue:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        visibility_timeout_s: float,
        max_attempts: int,
    ) -> None:
        self._factory = factory
        self._visibility_timeout_s = visibility_timeout_s
        self._max_attempts = max_attempts

    async def enqueue(
        self, session: AsyncSession, *, org_id: uuid.UUID, report_id: uuid.UUID
    ) -> uuid.UUID:
        job = Job(
            id=uuid.uuid4(), org_id=org_id, report_id=report_id, max_attempts=self._max_attempts
        )
        session.add(job)
        await session.flush()
        return job.id

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        async with self._factory() as session, session.begin():
            row = (
                await session.execute(
                    text(
                        "SELECT id, org_id, report_id, kind, attempts, max_attempts "
                        "FROM logdawg_claim_job(:worker, :visibility)"
                    ),
                    {"worker": worker_id, "visibility": self._visibility_timeout_s},
                )
            ).one_or_none()
        if row is None:
            return None
        return ClaimedJob(
            id=row.id,
            org_id=row.org_id,
            report_id=row.report_id,
            kind=row.kind,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
        )

    async def complete(self, session: AsyncSession, job: ClaimedJob) -> None:
        await self._set(session, job, status=JobStatus.DONE, last_error=None)

    async def retry(
        self, session: AsyncSession, job: ClaimedJob, error: str, delay_s: float
    ) -> None:
        await self._set(
            session,
            job,
            status=JobStatus.QUEUED,
            last_error=error,
            available_at=func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, delay_s),
        )

    async def fail(self, session: AsyncSession, job: ClaimedJob, error: str) -> None:
        await self._set(session, job, status=JobStatus.FAILED, last_error=error)

    async def publish(self, session: AsyncSession) -> None:
        return None  # the committed row is the message

    async def acknowledge(self, job: ClaimedJob) -> None:
        return None  # settled by the row update in the caller's transaction

    async def sweep(self) -> int:
        return 0

    async def _set(self, session: AsyncSession, job: ClaimedJob, **values: object) -> None:
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(locked_by=None, locked_until=None, updated_at=func.now(), **values)
        )
