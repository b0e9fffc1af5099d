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


def start(
    cmd: list[str], env: dict[str, str], log: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own handle
        return subprocess.Popen(  # noqa: S603
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, pass_fds=pass_fds
        )


def listener() -> socket.socket:
    """A listening socket on a free port (port 0: benchmarks run side by side with other
    people's), handed to uvicorn with ``--fd``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_cmd(target: list[str], sock: socket.socket, workers: int = 1) -> list[str]:
    """The same uvicorn flags for every server a benchmark compares (the default event loop
    and HTTP parser of the installed uvicorn, no access log)."""
    return [
        sys.executable, "-m", "uvicorn", *target, "--fd", str(sock.fileno()),
        "--no-access-log", "--workers", str(workers),
    ]  # fmt: skip


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{url} did not become ready; see {log}")


def start_api(
    env: dict[str, str], log: Path, workers: int = 1, profile: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """The API as ``logdawg up`` starts it, on a free port: the process and its port. With
    ``profile``, under cProfile (one process), its statistics written there on exit."""
    sock = listener()
    port = int(sock.getsockname()[1])
    cmd = uvicorn_cmd(["app.main:create_app", "--factory"], sock, workers)
    if profile is not None:
        cmd[1:3] = ["-m", "cProfile", "-o", str(profile), "-m", "uvicorn"]
    proc = start(cmd, env, log, pass_fds=(sock.fileno(),))
    sock.close()  # the child holds it
    wait_ready(proc, f"http://127.0.0.1:{port}/readyz", log)
    return proc, port


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
