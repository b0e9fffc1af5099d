"""The worker loop on a database of its own (real commits, several connections): jobs run
concurrently within the bound, an idle worker is woken by NOTIFY, SIGTERM drains."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.analysis.report import DiagnosisReport
from app.bootstrap import Platform, bootstrap
from app.db.embedded import EmbeddedDatabase
from app.db.models import Report, ReportStatus
from app.db.session import tenant_session
from app.services.diagnoses import JobInput, default_diagnose
from app.services.reports import submit_log
from app.settings import Settings
from worker.main import Worker

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(fresh_database: EmbeddedDatabase, tmp_path: Path) -> AsyncIterator[Platform]:
    settings = Settings(
        database_url=fresh_database.app_url,
        migration_database_url=fresh_database.owner_url,
        data_dir=tmp_path,
        worker_poll_interval_s=30,  # anything faster than this came from NOTIFY
        job_visibility_timeout_s=30,
        grouping_window_s=0,
    )
    platform = await bootstrap(settings)
    yield platform
    await platform.aclose()


async def _submit(platform: Platform, n: int) -> list[uuid.UUID]:
    org = platform.local_org_id
    assert org is not None
    ids = []
    async with tenant_session(platform.sessions, org) as session:
        for i in range(n):
            submitted = await submit_log(
                session, org_id=org, log_data={"content": f"ERROR boom {i}"}, source=None
            )
            ids.append(submitted.report_id)
        await session.commit()
    return ids


async def _statuses(platform: Platform, ids: list[uuid.UUID]) -> list[ReportStatus]:
    assert platform.local_org_id is not None
    async with tenant_session(platform.sessions, platform.local_org_id) as session:
        rows = await session.scalars(select(Report).where(Report.id.in_(ids)))
        by_id = {r.id: r.status for r in rows}
    return [by_id[i] for i in ids]


async def _until(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


class Slow:
    """A diagnosis that waits like a model call, counting how many overlap."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.running = 0
        self.peak = 0
        self.release = asyncio.Event()

    async def __call__(self, job: JobInput) -> DiagnosisReport:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.wait_s)
            return await default_diagnose(job)
        finally:
            self.running -= 1


async def test_jobs_overlap_up_to_the_concurrency_bound(platform: Platform) -> None:
    ids = await _submit(platform, 12)
    slow = Slow(0.3)
    stop = asyncio.Event()
    worker = Worker(platform, "w-bound", slow, concurrency=4)
    task = asyncio.create_task(worker.run(stop))

    async def all_done() -> bool:
        return set(await _statuses(platform, ids)) == {ReportStatus.COMPLETE}

    await _until(all_done)
    stop.set()
    await task
    assert slow.peak == 4, "four at once, never more"


async def test_an_idle_worker_is_woken_by_notify(platform: Platform) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(platform, "w-idle", default_diagnose).run(stop))
    await asyncio.sleep(0.5)  # idle, listening; the next poll is 30 s away
    ids = await _submit(platform, 1)

    async def done() -> bool:
        return await _statuses(platform, ids) == [ReportStatus.COMPLETE]

    await _until(done, timeout_s=5.0)
    stop.set()
    await task


async def test_stopping_drains_the_jobs_in_flight(platform: Platform) -> None:
    ids = await _submit(platform, 3)
    slow = Slow(0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(platform, "w-drain", slow, concurrency=8).run(stop))

    async def started() -> bool:
        return slow.running == 3

    await _until(started)
    stop.set()  # SIGTERM
    await task
    assert await _statuses(platform, ids) == [ReportStatus.COMPLETE] * 3
