"""The worker: claim a job, hand it to ``process_job``, repeat. Nothing else lives here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from app import telemetry
from app.bootstrap import Platform, bootstrap
from app.git.cache import MemoryCache
from app.llm.diagnosers import build_diagnoser, config_from_settings
from app.services.code_context import EngineRunner
from app.services.diagnoses import Diagnose, process_job
from app.settings import Settings, get_settings
from worker.health import Heartbeat, serve_health

logger = logging.getLogger("worker")
SWEEP_INTERVAL_S = 60.0


def diagnose_for(platform: Platform) -> Diagnose:
    memory = MemoryCache(platform.settings.git_memory_cache_mb * 1024 * 1024)
    model = config_from_settings(platform.settings)
    return EngineRunner(
        platform.sessions,
        platform.settings,
        platform.kek,
        diagnoser=build_diagnoser(model) if model is not None else None,
        memory=memory,
    )


async def run_once(
    platform: Platform,
    worker_id: str,
    heartbeat: Heartbeat | None = None,
    diagnose: Diagnose | None = None,
) -> bool:
    """Process one job if one is due; False when the queue had nothing."""
    job = await platform.queue.claim(worker_id)
    if job is None:
        return False
    status = await process_job(
        platform.sessions,
        platform.queue,
        job,
        diagnose=diagnose or diagnose_for(platform),
        retry_delay_s=platform.settings.job_retry_delay_s,
    )
    logger.info("job %s (report %s): %s", job.id, job.report_id, status.value)
    if heartbeat is not None:
        heartbeat.jobs += 1
    return True


async def run(settings: Settings, stop: asyncio.Event) -> None:
    platform = await bootstrap(settings)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    logger.info("worker %s polling the %s queue", worker_id, settings.queue_backend)
    heartbeat = Heartbeat()
    diagnose = diagnose_for(platform)
    server = None
    if settings.worker_health_port is not None:
        server = await serve_health(
            heartbeat, "0.0.0.0", settings.worker_health_port,  # noqa: S104 (container port)
            stale_after_s=settings.job_visibility_timeout_s,
        )  # fmt: skip
    next_sweep = 0.0
    try:
        while not stop.is_set():
            heartbeat.beat()
            if (now := asyncio.get_running_loop().time()) >= next_sweep:
                next_sweep = now + SWEEP_INTERVAL_S
                try:
                    if swept := await platform.queue.sweep():
                        logger.info("re-sent %d job(s) the broker never received", swept)
                except Exception:
                    logger.exception("sweep failed; trying again later")
            try:
                busy = await run_once(platform, worker_id, heartbeat, diagnose)
            except Exception:
                # The database went away or similar: the job's lease returns it to the queue.
                logger.exception("worker loop error; retrying shortly")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.worker_poll_interval_s)
    finally:
        if server is not None:
            server.close()
        await platform.aclose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    telemetry.configure("logdawg-worker")
    settings = get_settings()

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())
