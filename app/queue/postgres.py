"""The PostgreSQL queue: the ``jobs`` table, claimed with ``FOR UPDATE SKIP LOCKED``.

Claiming and renewing go through ``logdawg_claim_jobs`` / ``logdawg_renew_jobs`` (SECURITY
DEFINER), the only way the application role sees jobs of every organisation. Everything after
the claim runs in the job's organisation, under row-level security. Every update of a claimed
job is fenced on the claim (``locked_by`` and ``attempts``): see ``app.queue.base``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Job, JobStatus
from app.observability import request_id_var
from app.queue.base import ClaimedJob, StaleClaim

NOTIFY_CHANNEL = "logdawg_jobs"


def claimed(row: Row[Any], worker_id: str) -> ClaimedJob:
    return ClaimedJob(
        id=row.id,
        org_id=row.org_id,
        report_id=row.report_id,
        kind=row.kind,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        worker_id=worker_id,
        request_id=row.request_id,
    )


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

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        org_id: uuid.UUID,
        report_id: uuid.UUID,
        kind: str = "diagnose",
    ) -> uuid.UUID:
        job = Job(
            id=uuid.uuid4(),
            org_id=org_id,
            report_id=report_id,
            kind=kind,
            max_attempts=self._max_attempts,
            # The request that queued it (a re-run), so the worker's log lines name it.
            request_id=session.info.get("request_id") or request_id_var.get(),
        )
        session.add(job)
        await session.flush()
        return job.id

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        jobs = await self.claim_many(worker_id, 1)
        return jobs[0] if jobs else None

    async def claim_many(self, worker_id: str, limit: int) -> list[ClaimedJob]:
        if limit <= 0:
            return []
        async with self._factory() as session, session.begin():
            rows = (
                await session.execute(
                    text(
                        "SELECT id, org_id, report_id, kind, attempts, max_attempts, request_id "
                        "FROM logdawg_claim_jobs(:worker, :visibility, :limit)"
                    ),
                    {"worker": worker_id, "visibility": self._visibility_timeout_s, "limit": limit},
                )
            ).all()
        return [claimed(row, worker_id) for row in rows]

    async def register_waiter(self, worker_id: str) -> None:
        """Ask for a NOTIFY on the next new job (an idle worker, before its last look)."""
        async with self._factory() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO queue_waiters (worker_id) VALUES (:worker) "
                    "ON CONFLICT (worker_id) DO UPDATE SET since = now()"
                ),
                {"worker": worker_id},
            )

    async def unregister_waiter(self, worker_id: str) -> None:
        async with self._factory() as session, session.begin():
            await session.execute(
                text("DELETE FROM queue_waiters WHERE worker_id = :worker"), {"worker": worker_id}
            )

    async def renew(self, jobs: Sequence[ClaimedJob]) -> set[uuid.UUID]:
        held: set[uuid.UUID] = set()
        by_worker: dict[str, list[ClaimedJob]] = {}
        for job in jobs:
            by_worker.setdefault(job.worker_id, []).append(job)
        for worker_id, mine in by_worker.items():
            async with self._factory() as session, session.begin():
                ids = await session.scalars(
                    text(
                        "SELECT logdawg_renew_jobs(:worker, :visibility, "
                        "CAST(:ids AS uuid[]), CAST(:attempts AS integer[]))"
                    ),
                    {
                        "worker": worker_id,
                        "visibility": self._visibility_timeout_s,
                        "ids": [job.id for job in mine],
                        "attempts": [job.attempts for job in mine],
                    },
                )
                held.update(ids.all())
        return held

    async def hold(self, session: AsyncSession, job: ClaimedJob) -> None:
        await self._set(
            session,
            job,
            keep_lease=True,
            locked_until=func.clock_timestamp()
            + func.make_interval(0, 0, 0, 0, 0, 0, self._visibility_timeout_s),
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

    async def dispatch(self, jobs: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]) -> None:
        return None  # the committed rows are the messages

    async def acknowledge(self, job: ClaimedJob) -> None:
        return None  # settled by the row update in the caller's transaction

    async def sweep(self) -> int:
        return 0

    async def _set(
        self, session: AsyncSession, job: ClaimedJob, *, keep_lease: bool = False, **values: Any
    ) -> None:
        """Update the job only while this claim holds it; otherwise ``StaleClaim`` (the caller's
        transaction, with whatever else it changed, must then be rolled back)."""
        if not keep_lease:
            values |= {"locked_by": None, "locked_until": None}
        result = await session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.locked_by == job.worker_id,
                Job.attempts == job.attempts,
                Job.status == JobStatus.RUNNING,
            )
            .values(updated_at=func.now(), **values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise StaleClaim(job)
