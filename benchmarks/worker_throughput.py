"""Benchmark: diagnoses per minute of worker processes with a model answering in 1.0 s, and
the sample log's way to a complete report with the heuristic, end to end.

1. A fake OpenAI-compatible server on 127.0.0.1 (tests/fakes/llm_vendors.py) answers every
   chat completion after 1.0 s. N reports are queued (grouping off), then 1 and then 2
   `python -m worker` processes (LOGDAWG_WORKER_CONCURRENCY each) work them off; the rate is
   completed reports over the span from the first start to the last completion.
   Targets: >= 300 diagnoses/min from one process; two processes about twice that.
2. The API and one worker with the heuristic: POST the sample log (tests/data/logs), poll its
   status until complete; median of 20. Target: < 200 ms.

    .venv/bin/python benchmarks/worker_throughput.py [--jobs 600] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from _platform import ROOT, database, platform_env, start_api, start_worker, stop

from tests.fakes.llm_vendors import VALID, Reply, vendor_server

SAMPLE = ROOT / "tests/data/logs/malloc-craft-error.json"
MODEL_LATENCY_S = 1.0


def conninfo(db) -> str:  # type: ignore[no-untyped-def]
    return db.superuser_conninfo(db.database)


def seed(db, n: int) -> None:  # type: ignore[no-untyped-def]
    """Queue n reports, each with its job, in one transaction (what the API would write)."""
    log = json.loads(SAMPLE.read_text())["log_data"]
    with psycopg.connect(conninfo(db)) as conn:
        org = conn.execute("SELECT id FROM organisations WHERE slug = 'local'").fetchone()
        assert org is not None
        conn.execute("TRUNCATE reports CASCADE")
        for i in range(n):
            log["metadata"] = {**(log.get("metadata") or {}), "request": i}
            report = conn.execute(
                "INSERT INTO reports (id, org_id, log_data) VALUES (gen_random_uuid(), %s, %s) "
                "RETURNING id",
                (org[0], json.dumps(log)),
            ).fetchone()
            assert report is not None
            conn.execute(
                "INSERT INTO jobs (id, org_id, report_id) VALUES (gen_random_uuid(), %s, %s)",
                (org[0], report[0]),
            )


def wait_all_done(db, n: int, timeout_s: float) -> tuple[int, int, float, int]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(conninfo(db), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'complete'), "
                "count(*) FILTER (WHERE status = 'failed'), "
                "extract(epoch FROM max(completed_at) - min(started_at)), "
                "count(*) FILTER (WHERE report_data->'diagnoser'->>'name' = 'openai') "
                "FROM reports"
            ).fetchone()
            assert row is not None
            if row[0] + row[1] >= n or time.monotonic() > deadline:
                return int(row[0]), int(row[1]), float(row[2] or 0), int(row[3])
            time.sleep(0.2)


def model_diagnoses(db, tmp: Path, url: str, workers: int, jobs: int, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    seed(db, jobs)
    env = platform_env(
        db, tmp, diagnoser="openai", llm_api_key="bench", llm_base_url=url,
        worker_concurrency=str(concurrency), llm_max_retries="0",
    )  # fmt: skip
    procs = [start_worker(env, tmp / f"worker-{workers}-{i}.log") for i in range(workers)]
    try:
        complete, failed, span, by_model = wait_all_done(db, jobs, timeout_s=600)
    finally:
        stop(*procs)
    rate = complete / max(span, 1e-9) * 60
    print(
        f"  {workers} worker process(es) x {concurrency}: {complete} complete ({by_model} by "
        f"the model), {failed} failed in {span:.1f} s -> {rate:.0f} diagnoses/min"
    )
    return rate


def end_to_end(db, tmp: Path, runs: int = 20) -> float:  # type: ignore[no-untyped-def]
    env = platform_env(db, tmp, grouping_window_s="0")
    api, port = start_api(env, tmp / "api.log")
    worker = start_worker(env, tmp / "worker-e2e.log")
    body = SAMPLE.read_bytes()
    times = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            time.sleep(2.0)  # the worker is listening
            for _ in range(runs + 2):
                started = time.perf_counter()
                accepted = client.post(
                    "/api/v1/logs/diagnose", content=body,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                accepted.raise_for_status()
                status_url = accepted.json()["status_url"]
                while client.get(status_url).json()["status"] not in ("complete", "failed"):
                    time.sleep(0.005)
                times.append((time.perf_counter() - started) * 1000)
    finally:
        stop(worker, api)
    median = statistics.median(times[2:])  # the first two warm the processes up
    print(f"  sample log -> complete report (heuristic): median {median:.0f} ms of {runs}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw, database(Path(raw)) as db:
        tmp = Path(raw)
        print(f"workers against a model answering in {MODEL_LATENCY_S:.1f} s:")
        with vendor_server("openai") as fake:
            fake.replies.extend(
                Reply(text=json.dumps(VALID), delay_s=MODEL_LATENCY_S) for _ in range(args.jobs * 4)
            )
            one = model_diagnoses(db, tmp, fake.url + "/v1", 1, args.jobs // 2, args.concurrency)
            two = model_diagnoses(db, tmp, fake.url + "/v1", 2, args.jobs, args.concurrency)
        print(f"  scaling 1 -> 2 processes: x{two / one:.2f}")
        end_to_end(db, tmp)


if __name__ == "__main__":
    main()
