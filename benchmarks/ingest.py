"""Benchmark: ingest throughput of the platform against a bare FastAPI endpoint that does one
autocommitted INSERT per request (benchmarks/bare_ingest_app.py), in one go, against the same
embedded PostgreSQL server, with the same number of API processes.

32 clients (keep-alive HTTP/1.1) post varied error logs (Python tracebacks drawn from a few
thousand distinct errors, so some are new and some repeat within the grouping window) for
--seconds each. Afterwards every accepted log must be in the database: a report or an
occurrence per 202/200 for the platform, a row per 202 for the bare endpoint.

Targets: platform throughput >= 0.5x the bare endpoint's, p99 <= 2x its p99, 0 errors.

    .venv/bin/python benchmarks/ingest.py [--seconds 15] [--clients 32] [--api-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from _platform import (
    database,
    platform_env,
    serve,
    start_api,
    stop,
)

ERRORS = [
    "KeyError",
    "TypeError",
    "ValueError",
    "AttributeError",
    "IndexError",
    "ZeroDivisionError",
    "RuntimeError",
    "LookupError",
    "OSError",
    "TimeoutError",
]
VERBS = [
    "load",
    "save",
    "parse",
    "render",
    "fetch",
    "total",
    "price",
    "ship",
    "bill",
    "sync",
    "merge",
    "split",
    "score",
    "check",
    "index",
    "route",
    "queue",
    "reply",
    "apply",
    "hash",
]
NOUNS = [
    "cart",
    "order",
    "user",
    "invoice",
    "stock",
    "report",
    "token",
    "session",
    "basket",
    "refund",
    "coupon",
    "review",
    "search",
    "upload",
    "avatar",
]


def varied_log(rng: random.Random) -> bytes:
    error, verb, noun = rng.choice(ERRORS), rng.choice(VERBS), rng.choice(NOUNS)
    line = rng.randint(10, 400)
    content = (
        "Traceback (most recent call last):\n"
        f'  File "/srv/app/shop/{noun}.py", line {line}, in {verb}_{noun}\n'
        f"    result = compute_{verb}(item)\n"
        f'  File "/srv/app/shop/lib/{verb}.py", line {line + 7}, in compute_{verb}\n'
        f"    return table[item.key]\n"
        f"{error}: {verb} failed for {noun} {rng.randint(1, 10**9)}"
    )
    body = {
        "log_data": {
            "content": content,
            "source": "bench",
            "timestamp": "2026-11-30T12:00:00Z",
            "metadata": {"host": f"web-{rng.randint(1, 9)}", "request": rng.randint(1, 10**9)},
        }
    }
    return json.dumps(body).encode()


DIAGNOSE = "/api/v1/logs/diagnose"
ROUND_S = 3.0


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    # CPU seconds spent during this server's rounds by its processes, and by PostgreSQL's.
    cpu_s: float = 0.0
    db_cpu_s: float = 0.0


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, plus what its
    reaped children used: what a server costs the machine, whatever its neighbours do."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            stats[int(entry.name)] = raw[raw.rindex(")") + 2 :].split()
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if (fields := stats.get(pid)) is not None:
            # utime, stime, cutime, cstime (fields 14-17 of /proc/PID/stat)
            total += sum(int(v) for v in fields[11:15]) / TICK
            todo += children.get(pid, [])
    return total


async def client(port: int, path: str, until: float, seed: int, result: Result) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            body = varied_log(rng)
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            status = status_line.split(b" ")[1].decode() if status_line else "closed"
            if status in ("200", "202"):
                result.accepted += 1
            else:
                result.errors[status] = result.errors.get(status, 0) + 1
                if status == "closed":
                    return
    finally:
        writer.close()


async def load(port: int, path: str, seconds: float, clients: int, seed: int) -> Result:
    result = Result()
    until = time.perf_counter() + seconds
    await asyncio.gather(*(client(port, path, until, seed + i, result) for i in range(clients)))
    return result


def interleaved(
    args: argparse.Namespace, bare: Server, platform: Server, postgres: int
) -> tuple[Result, float, Result, float]:
    """Alternate short rounds on the two servers (both running, the idle one costs nothing),
    so a neighbour's load on a shared machine falls on both alike."""
    results = {bare.path: Result(), platform.path: Result()}
    elapsed_s = {bare.path: 0.0, platform.path: 0.0}
    # Warm-up (connections, prepared statements, first reports): counted, not timed.
    for server in (bare, platform):
        warm = asyncio.run(load(server.port, server.path, 2, args.clients, 10_000))
        results[server.path].accepted += warm.accepted
    rounds = max(1, round(args.seconds / ROUND_S))
    for n in range(rounds):
        for server in (bare, platform):
            result = results[server.path]
            cpu, db_cpu = tree_cpu(server.pid), tree_cpu(postgres)
            started = time.perf_counter()
            part = asyncio.run(load(server.port, server.path, ROUND_S, args.clients, 100 * n))
            elapsed_s[server.path] += time.perf_counter() - started
            result.cpu_s += tree_cpu(server.pid) - cpu
            result.db_cpu_s += tree_cpu(postgres) - db_cpu
            result.latencies += part.latencies
            result.accepted += part.accepted
            for status, count in part.errors.items():
                result.errors[status] = result.errors.get(status, 0) + count
    return (
        results[bare.path], elapsed_s[bare.path],
        results[platform.path], elapsed_s[platform.path],
    )  # fmt: skip


@dataclass
class Server:
    pid: int
    port: int
    path: str


def report(name: str, result: Result, elapsed: float) -> tuple[float, float]:
    rps = len(result.latencies) / elapsed
    lat = sorted(result.latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    errors = sum(result.errors.values())
    n = max(1, len(result.latencies))
    print(f"  {name:9s} {rps:7.0f} requests/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
          f"errors {errors} {result.errors or ''}")  # fmt: skip
    print(f"  {'':9s} CPU per request: server {result.cpu_s / n * 1000:.2f} ms, "
          f"PostgreSQL {result.db_cpu_s / n * 1000:.2f} ms")  # fmt: skip
    return rps, p99


def postmaster(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        fields = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1])  # a backend's parent


def count(conninfo: str, sql: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument(
        "--profile", type=Path, help="run the platform's API under cProfile, statistics here"
    )
    parser.add_argument("--grouping-window", default="86400", help="LOGDAWG_GROUPING_WINDOW_S")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw, database(Path(raw)) as db:
        tmp = Path(raw)
        su = db.superuser_conninfo(db.database)
        with psycopg.connect(su, autocommit=True) as conn:
            conn.execute("CREATE TABLE bare_logs (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
            conn.execute(f"GRANT INSERT, SELECT ON bare_logs TO {db.app_role}")
            conn.execute(f"GRANT USAGE ON SEQUENCE bare_logs_id_seq TO {db.app_role}")
        env = platform_env(
            db, tmp, api_workers=str(args.api_workers), grouping_window_s=args.grouping_window
        )
        libpq = db.app_url.replace("postgresql+psycopg://", "postgresql://")
        bare_env = {**env, "BARE_DATABASE_URL": libpq}
        print(f"{args.clients} clients, {args.seconds:.0f} s each, "
              f"{args.api_workers} API process(es) each:")  # fmt: skip

        bare, bare_port = serve(
            "benchmarks.bare_ingest_app:app", bare_env, tmp / "bare.log", "/healthz",
            args.api_workers,
        )  # fmt: skip
        api, port = start_api(env, tmp / "api.log", workers=args.api_workers, profile=args.profile)
        try:
            postgres = postmaster(su)
            bare_result, bare_s, result, platform_s = interleaved(
                args,
                Server(bare.pid, bare_port, "/ingest"),
                Server(api.pid, port, DIAGNOSE),
                postgres,
            )
        finally:
            if args.profile:
                # uvicorn re-raises a SIGTERM after its shutdown, killing cProfile before it
                # writes; a SIGINT ends as KeyboardInterrupt, and cProfile writes on the way.
                api.send_signal(signal.SIGINT)
                api.wait(timeout=60)
            stop(bare, api)
        bare_rps, bare_p99 = report("bare", bare_result, bare_s)
        rps, p99 = report("platform", result, platform_s)

        bare_rows = count(su, "SELECT count(*) FROM bare_logs")
        stored = count(
            su, "SELECT (SELECT count(*) FROM reports) + (SELECT count(*) FROM report_occurrences)"
        )
        reports = count(su, "SELECT count(*) FROM reports")
        print(f"  accepted logs present: bare {bare_rows}/{bare_result.accepted}, platform "
              f"{stored}/{result.accepted} ({reports} reports, the rest occurrences)")  # fmt: skip
        print(f"  platform / bare: throughput x{rps / bare_rps:.2f} (target >= 0.5), "
              f"p99 x{p99 / bare_p99:.2f} (target <= 2)")  # fmt: skip


if __name__ == "__main__":
    main()
