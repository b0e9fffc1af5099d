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
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from _platform import database, platform_env, start, start_api, stop

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


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)


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


async def load(port: int, path: str, seconds: float, clients: int) -> tuple[Result, float]:
    warm = Result()
    await asyncio.gather(
        *(client(port, path, time.perf_counter() + 2, 1000 + i, warm) for i in range(clients))
    )
    result = Result()
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(client(port, path, until, i, result) for i in range(clients)))
    result.accepted += warm.accepted  # for the count in the database
    return result, time.perf_counter() - started


def report(name: str, result: Result, elapsed: float, warm_accepted: int) -> tuple[float, float]:
    measured = len(result.latencies)
    rps = measured / elapsed
    lat = sorted(result.latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    errors = sum(result.errors.values())
    print(f"  {name:9s} {rps:7.0f} requests/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
          f"errors {errors} {result.errors or ''}")  # fmt: skip
    return rps, p99


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--api-workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw, database(Path(raw)) as db:
        tmp = Path(raw)
        su = db.superuser_conninfo(db.database)
        with psycopg.connect(su, autocommit=True) as conn:
            conn.execute("CREATE TABLE bare_logs (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
            conn.execute(f"GRANT INSERT, SELECT ON bare_logs TO {db.app_role}")
            conn.execute(f"GRANT USAGE ON SEQUENCE bare_logs_id_seq TO {db.app_role}")
        env = platform_env(db, tmp, api_workers=str(args.api_workers))
        libpq = db.app_url.replace("postgresql+psycopg://", "postgresql://")
        bare_env = {**env, "BARE_DATABASE_URL": libpq}
        print(f"{args.clients} clients, {args.seconds:.0f} s each, "
              f"{args.api_workers} API process(es) each:")  # fmt: skip

        bare = start(
            [sys.executable, "-m", "uvicorn", "benchmarks.bare_ingest_app:app", "--host",
             "127.0.0.1", "--port", "18741", "--no-access-log", "--workers",
             str(args.api_workers)], bare_env, tmp / "bare.log",
        )  # fmt: skip
        time.sleep(3)
        try:
            bare_result, bare_s = asyncio.run(load(18741, "/ingest", args.seconds, args.clients))
        finally:
            stop(bare)
        bare_rps, bare_p99 = report("bare", bare_result, bare_s, 0)

        api = start_api(env, 18742, tmp / "api.log", workers=args.api_workers)
        try:
            result, elapsed = asyncio.run(
                load(18742, "/api/v1/logs/diagnose", args.seconds, args.clients)
            )
        finally:
            stop(api)
        rps, p99 = report("platform", result, elapsed, 0)

        with psycopg.connect(su) as conn:
            bare_rows = conn.execute("SELECT count(*) FROM bare_logs").fetchone()
            stored = conn.execute(
                "SELECT (SELECT count(*) FROM reports) + (SELECT count(*) FROM report_occurrences),"
                " (SELECT count(*) FROM reports)"
            ).fetchone()
        assert bare_rows is not None and stored is not None
        print(f"  accepted logs present: bare {bare_rows[0]}/{bare_result.accepted}, "
              f"platform {stored[0]}/{result.accepted} ({stored[1]} reports)")  # fmt: skip
        print(f"  platform / bare: throughput x{rps / bare_rps:.2f} (target >= 0.5), "
              f"p99 x{p99 / bare_p99:.2f} (target <= 2)")  # fmt: skip


if __name__ == "__main__":
    main()
