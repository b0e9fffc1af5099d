"""Shared helpers of the throughput benchmarks: an embedded PostgreSQL in a temporary
directory, migrated, with the local organisation; API and worker processes started as
``logdawg up`` starts them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.bootstrap import ensure_local_org  # noqa: E402
from app.db import migrate  # noqa: E402
from app.db.embedded import EmbeddedDatabase, start_embedded  # noqa: E402


@contextmanager
def database(tmp: Path) -> Iterator[EmbeddedDatabase]:
    db = start_embedded(tmp, cleanup="delete")
    migrate.upgrade(db.owner_url, db.app_role)
    ensure_local_org(db.owner_url, "local")
    try:
        yield db
    finally:
        db.handle.cleanup()


def platform_env(db: EmbeddedDatabase, tmp: Path, **settings: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LOGDAWG_DATABASE_URL": db.app_url,
        "LOGDAWG_MIGRATION_DATABASE_URL": db.owner_url,
        "LOGDAWG_MIGRATE_ON_START": "false",
        "LOGDAWG_DATA_DIR": str(tmp),
    }
    env.update({f"LOGDAWG_{k.upper()}": v for k, v in settings.items()})
    return env


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own handle
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603


def start_api(
    env: dict[str, str], port: int, log: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        "--workers", str(workers),
    ]  # fmt: skip
    proc = start(cmd, env, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the API did not become ready; see {log}")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return start([sys.executable, "-m", "worker"], env, log)


def stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
