"""The worker: claim jobs, hand each to ``process_job``, repeat. Nothing else lives here.

One process runs up to ``LOGDAWG_WORKER_CONCURRENCY`` jobs at once (a diagnosis mostly waits
on the provider and the model; the engine parses off the event loop). It claims as many jobs as
it has free slots, renews the leases of the jobs it holds, is woken by ``LISTEN/NOTIFY`` when
a job arrives on the PostgreSQL queue (polling stays as the fallback), and on SIGTERM stops
claiming and lets its in-flight jobs finish within their lease before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid

import psycopg
from sqlalchemy import exc as sa_exc

from app import telemetry
from app.bootstrap import Platform, bootstrap
from app.git.cache import MemoryCache
from app.llm.diagnosers import build_diagnoser, config_from_settings
from app.notifications.delivery import Notifier
from app.observability import configure_logging, request_id_var
from app.queue.base import ClaimedJob
from app.queue.postgres import NOTIFY_CHANNEL, PostgresJobQueue
from app.services import retention
from app.services.code_context import EngineRunner
from app.services.diagnoses import Diagnose, process_job
from app.settings import Settings, get_settings
from worker.health import Heartbeat, serve_health

logger = logging.getLogger("worker")
SWEEP_INTERVAL_S = 60.0
LISTEN_RETRY_S = 2.0


def diagnose_for(platform: Platform) -> EngineRunner:
    memory = MemoryCache(platform.settings.git_memory_cache_mb * 1024 * 1024)
    model = config_from_settings(platform.settings)
    return EngineRunner(
        platform.sessions,
        platform.settings,
        platform.kek,
        diagnoser=build_diagnoser(model) if model is not None else None,
        memory=memory,
        access=platform.access,
    )


def notifier_for(platform: Platform) -> Notifier:
    return Notifier(
        platform.sessions, platform.queue, platform.kek, platform.settings, access=platform.access
    )


async def handle(
    platform: Platform, job: ClaimedJob, diagnose: Diagnose, notify: Notifier | None = None
) -> None:
    """Run one claimed job and log its outcome (the function the loop hands every job to).
    Its log lines carry the id of the request that submitted the log. A ``notify`` job (one
    notification delivery) goes to the notifier; every other job is a diagnosis."""
    token = request_id_var.set(job.request_id)
    try:
        if job.kind == "notify":
            await _notify(platform, job, notify)
        else:
            await _handle(platform, job, diagnose)
    finally:
        request_id_var.reset(token)


async def _notify(platform: Platform, job: ClaimedJob, notify: Notifier | None) -> None:
    owned = notify is None
    notifier = notify or notifier_for(platform)
    try:
        status = await notifier(job)
    finally:
        if owned:
            await notifier.aclose()
    logger.info(
        "notify job %s (attempt %s): %s",
        job.id, job.attempts, status or "discarded (lease lost)",
    )  # fmt: skip


async def _handle(platform: Platform, job: ClaimedJob, diagnose: Diagnose) -> None:
    status = await process_job(
        platform.sessions,
        platform.queue,
        job,
        diagnose=diagnose,
        retry_delay_s=platform.settings.job_retry_delay_s,
        events=platform.issue_events,
    )
    outcome = status.value if status is not None else "discarded (lease lost)"
    logger.info(
        "job %s (report %s, attempt %s, request %s): %s",
        job.id, job.report_id, job.attempts, job.request_id or "-", outcome,
    )  # fmt: skip


async def run_once(
    platform: Platform,
    worker_id: str,
    heartbeat: Heartbeat | None = None,
    diagnose: Diagnose | None = None,
    notify: Notifier | None = None,
) -> bool:
    """Process one job if one is due; False when the queue had nothing."""
    job = await platform.queue.claim(worker_id)
    if job is None:
        return False
    await handle(platform, job, diagnose or diagnose_for(platform), notify)
    if heartbeat is not None:
        heartbeat.jobs += 1
    return True


async def listen(platform: Platform, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set ``wake`` whenever a job is inserted (PostgreSQL queue); reconnects after errors."""
    while not stop.is_set():
        try:
            async with platform.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql(f"LISTEN {NOTIFY_CHANNEL}")
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                wake.set()  # jobs may have arrived while no one listened
                async for _ in driver.notifies():
                    wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("LISTEN connection lost; polling until it is back", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LISTEN_RETRY_S)


class Worker:
    """Bounded concurrent job runner. ``run`` returns once ``stop`` is set and in-flight jobs
    have finished (or the drain time ran out)."""

    def __init__(
        self,
        platform: Platform,
        worker_id: str,
        diagnose: Diagnose,
        *,
        concurrency: int | None = None,
        heartbeat: Heartbeat | None = None,
        notify: Notifier | None = None,
    ) -> None:
        self.platform = platform
        self.worker_id = worker_id
        self.diagnose = diagnose
        self.notify = notify
        self.concurrency = concurrency or platform.settings.worker_concurrency
        self.heartbeat = heartbeat or Heartbeat()
        self.in_flight: dict[asyncio.Task[None], ClaimedJob] = {}
        self.wake = asyncio.Event()

    @property
    def visibility_s(self) -> float:
        return self.platform.settings.job_visibility_timeout_s

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.platform.settings
        helpers = [asyncio.create_task(self._renew_leases(stop))]
        if isinstance(self.platform.queue, PostgresJobQueue):
            helpers.append(asyncio.create_task(listen(self.platform, self.wake, stop)))
        if settings.retention_sweep_interval_s > 0:
            helpers.append(
                asyncio.create_task(
                    retention.sweep_forever(
                        self.platform.engine, settings.retention_sweep_interval_s
                    )
                )
            )
        next_sweep = 0.0
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                loop = asyncio.get_running_loop()
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_INTERVAL_S
                    await self._sweep()
                self.wake.clear()
                free = self.concurrency - len(self.in_flight)
                claimed = self._start(await self._claim(free))
                if claimed and claimed == free:
                    continue  # full; the next turn waits for a slot
                # Registered for a NOTIFY, one more look catches a job that arrived before.
                if (
                    free > claimed
                    and await self._register_waiter()
                    and self._start(await self._claim(free - claimed))
                ):
                    continue
                await self._wait(stop, settings.worker_poll_interval_s)
        finally:
            await self._drain()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if isinstance(self.platform.queue, PostgresJobQueue):
                with contextlib.suppress(Exception):
                    await self.platform.queue.unregister_waiter(self.worker_id)

    def _start(self, jobs: list[ClaimedJob]) -> int:
        for job in jobs:
            task = asyncio.create_task(self._run_job(job))
            self.in_flight[task] = job
        return len(jobs)

    async def _register_waiter(self) -> bool:
        queue = self.platform.queue
        if not isinstance(queue, PostgresJobQueue):
            return False
        try:
            await queue.register_waiter(self.worker_id)
        except Exception:
            logger.warning("could not register for wake-ups; polling", exc_info=True)
            return False
        return True

    async def _claim(self, free: int) -> list[ClaimedJob]:
        if free <= 0:
            return []
        try:
            return await self.platform.queue.claim_many(self.worker_id, free)
        except Exception:
            # The database went away or similar: nothing was claimed; try again shortly.
            logger.warning("could not claim jobs; retrying shortly", exc_info=True)
            return []

    async def _wait(self, stop: asyncio.Event, poll_s: float) -> None:
        """Until a job arrives (NOTIFY), a slot frees up, stop, or the poll interval passes."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        slots = list(self.in_flight) if len(self.in_flight) >= self.concurrency else []
        try:
            await asyncio.wait([*waiters, *slots], timeout=poll_s, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _run_job(self, job: ClaimedJob) -> None:
        try:
            await handle(self.platform, job, self.diagnose, self.notify)
            self.heartbeat.jobs += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database went away mid-job or similar: the lease returns the job to the queue.
            logger.exception("job %s attempt %s stopped on an error", job.id, job.attempts)
        finally:
            self.in_flight.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self.wake.set()  # a slot is free

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        interval = self.visibility_s / 3
        while not stop.is_set() or self.in_flight:
            await asyncio.sleep(interval)
            jobs = list(self.in_flight.values())
            if not jobs:
                continue
            try:
                held = await self.platform.queue.renew(jobs)
            except Exception:
                logger.warning("could not renew leases; retrying", exc_info=True)
                continue
            for job in jobs:
                if job.id not in held:
                    logger.warning(
                        "job %s attempt %s: lease lost; its outcome will be discarded",
                        job.id, job.attempts,
                    )  # fmt: skip

    async def _sweep(self) -> None:
        try:
            if swept := await self.platform.queue.sweep():
                logger.info("re-sent %d job(s) the broker never received", swept)
        except Exception:
            logger.warning("sweep failed; trying again later", exc_info=True)

    async def _drain(self) -> None:
        if not self.in_flight:
            return
        budget = min(self.platform.settings.worker_drain_s, self.visibility_s)
        logger.info("draining %d in-flight job(s) for up to %.0f s", len(self.in_flight), budget)
        _, pending = await asyncio.wait(list(self.in_flight), timeout=budget)
        for task in pending:
            task.cancel()  # its lease hands the job to another worker
        await asyncio.gather(*pending, return_exceptions=True)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def _bootstrap_when_reachable(settings: Settings, stop: asyncio.Event) -> Platform | None:
    """Start once the database answers: a worker started while it restarts waits for it
    instead of exiting. None if stopped first."""
    while not stop.is_set():
        try:
            return await bootstrap(settings)
        except (sa_exc.OperationalError, sa_exc.InterfaceError, psycopg.OperationalError) as exc:
            logger.warning("database unreachable at start (%s); retrying", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LISTEN_RETRY_S)
    return None


async def run(settings: Settings, stop: asyncio.Event) -> None:
    platform = await _bootstrap_when_reachable(settings, stop)
    if platform is None:
        return
    worker_id = new_worker_id()
    logger.info(
        "worker %s on the %s queue, %d job(s) at once",
        worker_id, settings.queue_backend, settings.worker_concurrency,
    )  # fmt: skip
    heartbeat = Heartbeat()
    server = None
    if settings.worker_health_port is not None:
        server = await serve_health(
            heartbeat, "0.0.0.0", settings.worker_health_port,  # noqa: S104 (container port)
            stale_after_s=settings.job_visibility_timeout_s,
        )  # fmt: skip
    diagnose = diagnose_for(platform)
    notify = notifier_for(platform)
    try:
        await Worker(platform, worker_id, diagnose, heartbeat=heartbeat, notify=notify).run(stop)
    finally:
        if server is not None:
            server.close()
        await notify.aclose()
        await diagnose.aclose()
        await platform.aclose()


def main() -> None:
    settings = get_settings()
    telemetry.configure("logdawg-worker")  # in Azure; then our JSON lines on top
    configure_logging(settings.log_format)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())
