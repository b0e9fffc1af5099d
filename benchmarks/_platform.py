"""Shared helpers of the throughput benchmarks: an embedded PostgreSQL in a temporary
directory, migrated, with the local organisation; API and worker processes started as
``logdawg up`` starts them."""

from __future__ import annotations

import os
import socket
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


def free_port() -> int:
    """A port that was free a moment ago (bound to port 0 and released): benchmarks run side
    by side with other people's, so no fixed port. Not handed over as a socket (``--fd``):
    uvicorn takes an inherited socket for a Unix one, and its connections then go without
    TCP_NODELAY (Nagle's algorithm adds ~40 ms to an answer written in two parts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_cmd(app: str, port: int, workers: int = 1) -> list[str]:
    """The same server and flags for every app a benchmark compares: ``python -m app.serve``
    as ``logdawg up`` starts the API (uvicorn's default event loop and HTTP parser, one
    listening socket shared by ``workers`` processes), no access log."""
    return [
        sys.executable, "-m", "app.serve", "--app", app, "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--workers", str(workers),
    ]  # fmt: skip


def ready(proc: subprocess.Popen[bytes], url: str) -> bool:
    """Whether the server answered 200 at ``url`` within a minute (False: it exited, e.g.
    because another process took its port meanwhile)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.2)
    proc.kill()
    return False


def serve(
    app: str,
    env: dict[str, str],
    log: Path,
    health: str,
    workers: int = 1,
    profile: Path | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """A uvicorn server on a free port, ready: the process and its port."""
    for _ in range(5):
        port = free_port()
        cmd = server_cmd(app, port, workers)
        if profile is not None:
            cmd[1:3] = ["-m", "cProfile", "-o", str(profile), "-m", "app.serve"]
        proc = start(cmd, env, log)
        if ready(proc, f"http://127.0.0.1:{port}{health}"):
            return proc, port
    raise SystemExit(f"{app} did not become ready; see {log}")


def start_api(
    env: dict[str, str], log: Path, workers: int = 1, profile: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """The API as ``logdawg up`` starts it, on a free port: the process and its port. With
    ``profile``, under cProfile (one process), its statistics written there on exit."""
    return serve("app.main:create_app", env, log, "/readyz", workers, profile=profile)


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
