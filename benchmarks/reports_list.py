"""Benchmark: the reports list at a million rows.

Seeds --rows reports (default 1,000,000) into one organisation of an embedded PostgreSQL
(90 % complete, 7 % failed, 3 % pending, none running; each with a report_data of a few
kilobytes, as a diagnosis has), starts the API, and times GET /api/v1/reports: the first page,
a deep page (a cursor 900,000 rows down), and the first page of each status filter,
including a status with no rows. Target: p99 < 20 ms for each.

    .venv/bin/python benchmarks/reports_list.py [--rows 1000000] [--runs 100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from _platform import database, platform_env, start_api, stop

SEED = """
INSERT INTO reports (id, org_id, created_at, last_seen_at, status, fingerprint, source,
                     log_data, report_data, completed_at)
SELECT gen_random_uuid(), %(org)s,
       now() - make_interval(secs => g), now() - make_interval(secs => g),
       (CASE WHEN g %% 100 < 90 THEN 'complete' WHEN g %% 100 < 97 THEN 'failed'
             ELSE 'pending' END)::report_status,
       md5(g::text), 'bench',
       jsonb_build_object('content', 'ERROR ' || md5(g::text)),
       CASE WHEN g %% 100 < 90 THEN jsonb_build_object(
         'title', 'KeyError in total at shop/cart.py:' || (g %% 500),
         'error_type', 'KeyError',
         'summary', repeat(md5(g::text), 8),
         'root_cause', repeat(md5((g + 1)::text), 24),
         'error_analysis', repeat(md5((g + 2)::text), 40),
         'frames', (SELECT jsonb_agg(jsonb_build_object('file', 'shop/f' || i || '.py',
                    'line', i, 'function', md5((g * i)::text))) FROM generate_series(1, 12) i))
       END,
       CASE WHEN g %% 100 < 97 THEN now() - make_interval(secs => g) END
FROM generate_series(%(start)s::integer, %(stop)s::integer) g
"""


def seed(conninfo: str, rows: int) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        org = conn.execute("SELECT id FROM organisations WHERE slug = 'local'").fetchone()
        assert org is not None
        started = time.perf_counter()
        batch = 100_000
        for start in range(1, rows + 1, batch):
            conn.execute(
                SEED, {"org": org[0], "start": start, "stop": min(start + batch - 1, rows)}
            )
        conn.execute("VACUUM ANALYZE reports")
        print(f"seeded {rows} reports in {time.perf_counter() - started:.0f} s")
        deep = conn.execute(
            "SELECT (extract(epoch FROM created_at) * 1000000)::bigint, id FROM reports "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (int(rows * 0.9),),
        ).fetchone()
    assert deep is not None
    return f"{deep[0]}_{deep[1]}"  # as app.services.reports.encode_cursor


PLAN = """
EXPLAIN (ANALYZE, FORMAT JSON)
SELECT id, status, created_at, completed_at, repo_id, commit_hash, fingerprint, source,
       occurrence_count, report_data->>'title', report_data->>'error_type'
FROM reports WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 21
"""


def plans(db, cursor: str, org: str) -> None:  # type: ignore[no-untyped-def]
    """The server's side alone: each case's plan and execution time, as the application role
    under row-level security (what the API's query becomes)."""
    micros, report_id = cursor.split("_", 1)
    created = f"to_timestamp({micros}::numeric / 1000000)"
    keyset = f"(created_at, id) < ({created}, '{report_id}'::uuid)"
    conninfo = db.app_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.current_org', %s, false)", (org,))
        for name, where in (
            ("first page", "true"),
            ("deep cursor page", keyset),
            ("status=failed", "status_code = 3"),
            ("status=running (no rows)", "status_code = 1"),
            ("status=failed, deep cursor", f"status_code = 3 AND {keyset}"),
        ):
            times = []
            for _ in range(20):
                row = conn.execute(PLAN.format(where=where)).fetchone()
                assert row is not None
                plan = row[0][0]
                times.append(plan["Execution Time"])
            node = plan["Plan"]["Plans"][0]
            rows = int(plan["Plan"]["Actual Rows"])
            print(f"  server: {name:26s} {node['Node Type']} on {node.get('Index Name')}, "
                  f"{rows} rows, median {statistics.median(times):.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw, database(Path(raw)) as db:
        tmp = Path(raw)
        cursor = seed(db.superuser_conninfo(db.database), args.rows)
        with psycopg.connect(db.superuser_conninfo(db.database)) as conn:
            org = conn.execute("SELECT id::text FROM organisations").fetchone()
        assert org is not None
        plans(db, cursor, org[0])
        api, port = start_api(platform_env(db, tmp), tmp / "api.log")
        cases = {
            "first page": {},
            "deep cursor page": {"cursor": cursor},
            "status=complete": {"status": "complete"},
            "status=failed": {"status": "failed"},
            "status=pending": {"status": "pending"},
            "status=running (no rows)": {"status": "running"},
            "status=failed, deep cursor": {"status": "failed", "cursor": cursor},
        }
        worst = 0.0
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for name, params in cases.items():
                    times = []
                    for i in range(args.runs + 5):
                        started = time.perf_counter()
                        response = client.get("/api/v1/reports", params=params)
                        elapsed = (time.perf_counter() - started) * 1000
                        response.raise_for_status()
                        if i >= 5:  # warm-up
                            times.append(elapsed)
                    items = len(response.json()["items"])
                    times.sort()
                    p99 = times[int(len(times) * 0.99) - 1]
                    worst = max(worst, p99)
                    print(f"  {name:28s} {items:3d} items   p50 {statistics.median(times):5.1f} ms"
                          f"   p99 {p99:5.1f} ms")  # fmt: skip
        finally:
            stop(api)
        print(f"worst p99 {worst:.1f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
