"""Fencing: a worker whose lease ran out mid-job cannot overwrite the outcome of the worker
that took the job over. Real PostgreSQL, under row-level security."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from sqlalchemy import select

from app.analysis.report import DiagnosisReport
from app.db.models import Job, JobStatus, Report, ReportStatus
from app.db.session import tenant_session
from app.queue.base import ClaimedJob, StaleClaim
from app.queue.postgres import PostgresJobQueue
from app.services.diagnoses import JobInput, default_diagnose, process_job
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration

LEASE_S = 0.3


async def _submit(db: TenantDb, queue: PostgresJobQueue) -> uuid.UUID:
    async with tenant_session(db.sessions, db.org_a) as session:
        report = Report(
            id=uuid.uuid4(), org_id=db.org_a, log_data={"content": "ERROR KeyError: 'sku'"}
        )
        session.add(report)
        await session.flush()
        await queue.enqueue(session, org_id=db.org_a, report_id=report.id)
        await session.commit()
        return report.id


async def _state(db: TenantDb, report_id: uuid.UUID) -> tuple[Report, Job]:
    async with tenant_session(db.sessions, db.org_a) as session:
        report = await session.get(Report, report_id, populate_existing=True)
        job = (
            await session.scalars(
                select(Job)
                .where(Job.report_id == report_id)
                .execution_options(populate_existing=True)
            )
        ).one()
        assert report is not None
        return report, job


async def _claim(queue: PostgresJobQueue, worker: str) -> ClaimedJob:
    job = await queue.claim(worker)
    assert job is not None
    return job


def _titled(title: str):  # type: ignore[no-untyped-def]
    async def diagnose(job: JobInput) -> DiagnosisReport:
        report = await default_diagnose(job)
        return report.model_copy(update={"title": title})

    return diagnose


async def test_a_stale_workers_result_is_discarded_and_logged(
    tenant_db: TenantDb, caplog: pytest.LogCaptureFixture
) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=LEASE_S, max_attempts=3)
    report_id = await _submit(tenant_db, queue)
    slow = await _claim(queue, "worker-slow")
    taken_over: list[ReportStatus | None] = []

    async def outlives_its_lease(job: JobInput) -> DiagnosisReport:
        await asyncio.sleep(LEASE_S + 0.1)  # the lease expires mid-job ...
        fast = await _claim(queue, "worker-fast")  # ... and another worker takes the job over
        assert fast.attempts == 2
        taken_over.append(
            await process_job(tenant_db.sessions, queue, fast, diagnose=_titled("from fast"))
        )
        return await _titled("from slow")(job)

    with caplog.at_level(logging.WARNING, logger="app.services.diagnoses"):
        outcome = await process_job(tenant_db.sessions, queue, slow, diagnose=outlives_its_lease)

    assert taken_over == [ReportStatus.COMPLETE]
    assert outcome is None, "the stale worker's outcome is discarded"
    report, job = await _state(tenant_db, report_id)
    assert report.status is ReportStatus.COMPLETE
    assert report.report_data is not None and report.report_data["title"] == "from fast"
    assert (job.status, job.attempts, report.attempts) == (JobStatus.DONE, 2, 2)
    assert any(
        "lease passed to another worker" in r.getMessage() and str(slow.id) in r.getMessage()
        for r in caplog.records
    )


async def test_a_stale_worker_cannot_retry_or_fail_the_new_holders_job(
    tenant_db: TenantDb,
) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=LEASE_S, max_attempts=2)
    report_id = await _submit(tenant_db, queue)
    slow = await _claim(queue, "worker-slow")
    holder: list[ClaimedJob] = []

    async def fails_after_takeover(job: JobInput) -> DiagnosisReport:
        await asyncio.sleep(LEASE_S + 0.1)
        holder.append(await _claim(queue, "worker-fast"))  # still working on it
        raise RuntimeError("provider unavailable")

    # attempts == max_attempts would make this the last attempt: a stale "fail" must not stick
    assert await process_job(tenant_db.sessions, queue, slow, diagnose=fails_after_takeover) is None
    report, job = await _state(tenant_db, report_id)
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING, "worker-fast", 2)
    assert report.status is ReportStatus.RUNNING and report.error is None

    assert await process_job(tenant_db.sessions, queue, holder[0]) is ReportStatus.COMPLETE
    report, job = await _state(tenant_db, report_id)
    assert (report.status, job.status) == (ReportStatus.COMPLETE, JobStatus.DONE)


async def test_every_update_checks_the_claim(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=LEASE_S, max_attempts=3)
    report_id = await _submit(tenant_db, queue)
    stale = await _claim(queue, "w1")
    await asyncio.sleep(LEASE_S + 0.1)
    current = await _claim(queue, "w1")  # the same worker id, a later attempt
    assert current.attempts == stale.attempts + 1

    for update in (
        lambda s: queue.complete(s, stale),
        lambda s: queue.retry(s, stale, "x", 0),
        lambda s: queue.fail(s, stale, "x"),
        lambda s: queue.hold(s, stale),
    ):
        async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
            with pytest.raises(StaleClaim):
                async with session.begin():
                    await update(session)
    _, job = await _state(tenant_db, report_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.RUNNING, 2, None)


async def test_renewing_keeps_a_lease_and_reports_a_lost_one(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=LEASE_S, max_attempts=3)
    await _submit(tenant_db, queue)
    job = await _claim(queue, "w1")
    for _ in range(3):
        await asyncio.sleep(LEASE_S * 0.6)
        assert await queue.renew([job]) == {job.id}
    assert await queue.claim("w2") is None, "a renewed lease stays hidden"

    await asyncio.sleep(LEASE_S + 0.1)
    taken = await _claim(queue, "w2")
    assert await queue.renew([job]) == set(), "a lease taken over is reported lost"
    assert await queue.renew([taken]) == {taken.id}
