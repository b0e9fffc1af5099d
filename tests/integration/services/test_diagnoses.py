"""The job state machine of the worker, on real PostgreSQL under row-level security."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.analysis.report import DiagnosisReport
from app.db.models import Job, JobStatus, Report, ReportStatus
from app.db.session import tenant_session
from app.queue.base import ClaimedJob
from app.queue.postgres import PostgresJobQueue
from app.services.diagnoses import JobInput, PermanentJobError, process_job
from app.services.reports import submit_log
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration


async def _submit(db: TenantDb, queue: PostgresJobQueue, log_data: dict[str, Any]) -> uuid.UUID:
    async with tenant_session(db.sessions, db.org_a) as session:
        submitted = await submit_log(
            session, org_id=db.org_a, log_data=log_data, source=None,
            max_attempts=queue.max_attempts,
        )  # fmt: skip
        await session.commit()
        return submitted.report_id


async def _state(db: TenantDb, report_id: uuid.UUID) -> tuple[Report, Job]:
    async with tenant_session(db.sessions, db.org_a) as session:
        report = await session.get(Report, report_id)
        job = (await session.scalars(select(Job).where(Job.report_id == report_id))).one()
        assert report is not None
        await session.refresh(report)
        await session.refresh(job)
        return report, job


async def _claim(queue: PostgresJobQueue) -> ClaimedJob:
    job = await queue.claim("test-worker")
    assert job is not None
    return job


async def test_sample_log_completes_with_its_frames(
    tenant_db: TenantDb, sample_request: bytes
) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=3)
    report_id = await _submit(tenant_db, queue, json.loads(sample_request)["log_data"])

    status = await process_job(tenant_db.sessions, queue, await _claim(queue))

    report, job = await _state(tenant_db, report_id)
    assert status is ReportStatus.COMPLETE
    assert (report.status, job.status) == (ReportStatus.COMPLETE, JobStatus.DONE)
    data = report.report_data
    assert data is not None
    frames = [(f["file"], f["line"]) for f in data["frames"]]
    assert ("src/shader.c", 45) in frames
    assert data["error_type"] == "ShaderCompilationError"
    assert report.fingerprint == data["fingerprint"]
    assert report.started_at is not None and report.completed_at is not None
    assert report.attempts == 1


async def test_a_redelivered_job_yields_one_report(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=3)
    report_id = await _submit(tenant_db, queue, {"content": "ERROR KeyError: 'sku'"})
    job = await _claim(queue)
    calls = 0

    async def counting(job: JobInput) -> DiagnosisReport:
        nonlocal calls
        calls += 1
        from app.services.diagnoses import default_diagnose

        return await default_diagnose(job)

    await process_job(tenant_db.sessions, queue, job, diagnose=counting)
    first, _ = await _state(tenant_db, report_id)
    await process_job(tenant_db.sessions, queue, job, diagnose=counting)  # delivered again
    second, _ = await _state(tenant_db, report_id)

    assert calls == 1, "a complete report is acknowledged without diagnosing again"
    assert second.completed_at == first.completed_at
    assert second.report_data == first.report_data


async def test_failures_retry_then_fail_with_a_readable_error(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=2)
    report_id = await _submit(tenant_db, queue, {"content": "boom"})

    async def broken(job: JobInput) -> DiagnosisReport:
        raise ConnectionError("provider unreachable")

    status = await process_job(
        tenant_db.sessions, queue, await _claim(queue), diagnose=broken, retry_delay_s=0.05
    )
    report, job = await _state(tenant_db, report_id)
    assert status is ReportStatus.PENDING
    assert job.status is JobStatus.QUEUED
    assert (
        report.error
        == "Attempt 1 of 2 failed (ConnectionError: provider unreachable); it will be retried."
    )

    await asyncio.sleep(0.1)
    status = await process_job(tenant_db.sessions, queue, await _claim(queue), diagnose=broken)
    report, job = await _state(tenant_db, report_id)
    assert status is ReportStatus.FAILED
    assert (report.status, job.status) == (ReportStatus.FAILED, JobStatus.FAILED)
    assert (
        report.error
        == "Gave up after 2 attempt(s). Last error: ConnectionError: provider unreachable"
    )
    assert await queue.claim("w") is None


async def test_a_permanent_error_fails_at_once(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=5)
    report_id = await _submit(tenant_db, queue, {"content": "boom"})

    async def revoked(job: JobInput) -> DiagnosisReport:
        raise PermanentJobError("the repository's token was revoked")

    await process_job(tenant_db.sessions, queue, await _claim(queue), diagnose=revoked)
    report, job = await _state(tenant_db, report_id)
    assert (report.status, job.status, job.attempts) == (ReportStatus.FAILED, JobStatus.FAILED, 1)
    assert report.error == "PermanentJobError: the repository's token was revoked"


async def test_a_worker_that_died_mid_job_loses_nothing(tenant_db: TenantDb) -> None:
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=0.2, max_attempts=3)
    report_id = await _submit(
        tenant_db,
        queue,
        {
            "content": (
                "Traceback (most recent call last):\n"
                '  File "/app/shop/cart.py", line 12, in total\n'
                "    return sum(prices)\n"
                "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
            )
        },
    )

    async def dies(job: JobInput) -> DiagnosisReport:
        raise asyncio.CancelledError  # the process is killed while diagnosing

    with pytest.raises(asyncio.CancelledError):
        await process_job(tenant_db.sessions, queue, await _claim(queue), diagnose=dies)
    report, _ = await _state(tenant_db, report_id)
    assert report.status is ReportStatus.RUNNING

    await asyncio.sleep(0.3)  # the lease runs out
    again = await _claim(queue)
    assert again.attempts == 2
    assert await process_job(tenant_db.sessions, queue, again) is ReportStatus.COMPLETE
    report, job = await _state(tenant_db, report_id)
    assert (report.status, job.status, report.attempts) == (
        ReportStatus.COMPLETE,
        JobStatus.DONE,
        2,
    )
