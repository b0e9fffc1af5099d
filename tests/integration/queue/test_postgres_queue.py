from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from app.db.models import Job, JobStatus, Report, ReportStatus
from app.db.session import tenant_session
from app.queue.postgres import PostgresJobQueue
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration


def _queue(db: TenantDb, *, visibility: float = 60, attempts: int = 3) -> PostgresJobQueue:
    return PostgresJobQueue(db.sessions, visibility_timeout_s=visibility, max_attempts=attempts)


async def _submit(db: TenantDb, queue: PostgresJobQueue, org_id: uuid.UUID) -> uuid.UUID:
    async with tenant_session(db.sessions, org_id) as session:
        report = Report(id=uuid.uuid4(), org_id=org_id, log_data={"content": "boom"})
        session.add(report)
        await session.flush()
        await queue.enqueue(session, org_id=org_id, report_id=report.id)
        await session.commit()
        return report.id


async def _job(db: TenantDb, org_id: uuid.UUID, report_id: uuid.UUID) -> Job:
    async with tenant_session(db.sessions, org_id) as session:
        return (await session.scalars(select(Job).where(Job.report_id == report_id))).one()


async def test_claim_takes_each_job_once_across_organisations(tenant_db: TenantDb) -> None:
    queue = _queue(tenant_db)
    first = await _submit(tenant_db, queue, tenant_db.org_a)
    second = await _submit(tenant_db, queue, tenant_db.org_b)

    a = await queue.claim("w1")
    b = await queue.claim("w2")
    assert a is not None and b is not None
    assert {a.report_id, b.report_id} == {first, second}
    assert {a.org_id, b.org_id} == {tenant_db.org_a, tenant_db.org_b}
    assert a.attempts == b.attempts == 1
    assert await queue.claim("w3") is None, "a leased job must stay hidden"


async def test_a_crashed_workers_job_is_claimed_again_after_its_lease(tenant_db: TenantDb) -> None:
    queue = _queue(tenant_db, visibility=0.2)
    report_id = await _submit(tenant_db, queue, tenant_db.org_a)

    crashed = await queue.claim("w1")  # ... and never completes
    assert crashed is not None
    assert await queue.claim("w2") is None
    await asyncio.sleep(0.3)

    again = await queue.claim("w2")
    assert again is not None
    assert again.id == crashed.id and again.report_id == report_id
    assert again.attempts == 2
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await queue.complete(session, again)
        await session.commit()
    assert (await _job(tenant_db, tenant_db.org_a, report_id)).status is JobStatus.DONE
    assert await queue.claim("w3") is None


async def test_retry_delays_and_fail_is_terminal(tenant_db: TenantDb) -> None:
    queue = _queue(tenant_db)
    report_id = await _submit(tenant_db, queue, tenant_db.org_a)
    job = await queue.claim("w1")
    assert job is not None
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await queue.retry(session, job, "provider unavailable", delay_s=0.2)
        await session.commit()
    assert await queue.claim("w1") is None, "not before its delay"
    await asyncio.sleep(0.3)
    job = await queue.claim("w1")
    assert job is not None and job.attempts == 2
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        await queue.fail(session, job, "bad credentials")
        await session.commit()
    stored = await _job(tenant_db, tenant_db.org_a, report_id)
    assert (stored.status, stored.last_error) == (JobStatus.FAILED, "bad credentials")
    assert await queue.claim("w1") is None


async def test_a_job_that_keeps_crashing_workers_ends_failed(tenant_db: TenantDb) -> None:
    queue = _queue(tenant_db, visibility=0.1, attempts=2)
    report_id = await _submit(tenant_db, queue, tenant_db.org_a)
    for _ in range(2):
        assert await queue.claim("w") is not None
        await asyncio.sleep(0.15)

    assert await queue.claim("w") is None
    stored = await _job(tenant_db, tenant_db.org_a, report_id)
    assert stored.status is JobStatus.FAILED
    assert stored.last_error is not None and "gave up after 2 attempts" in stored.last_error
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        report = await session.get(Report, report_id)
    assert report is not None and report.status is ReportStatus.FAILED
    assert report.error is not None and "gave up" in report.error
