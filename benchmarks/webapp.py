"""The web app's budgets, measured: the initial JavaScript a first visit downloads (gzipped;
target <= 200 KB), and the Reports page's time to first render with 10,000 reports in the
database (the real platform: `logdawg up`, embedded PostgreSQL, chromium), plus the API calls
that page makes.

    .venv/bin/python benchmarks/webapp.py            # builds the SPA first when needed
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from app.db.embedded import start_embedded

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "frontend" / "dist"
REPORTS = 10_000
BUDGET_KB = 200


def initial_js_gzip_kb() -> tuple[float, list[str]]:
    """The scripts index.html loads at once (entry and module preloads), gzipped."""
    html = (DIST / "index.html").read_text()
    files = re.findall(r'<script[^>]+src="/([^"]+\.js)"', html) + re.findall(
        r'<link[^>]+rel="modulepreload"[^>]+href="/([^"]+\.js)"', html
    )
    total = sum(len(gzip.compress((DIST / f).read_bytes(), 9)) for f in files)
    return total / 1024, files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SEED = """
INSERT INTO reports (id, org_id, status, created_at, last_seen_at, completed_at, fingerprint,
                     occurrence_count, log_data, report_data, source)
SELECT gen_random_uuid(), %(org)s, 'complete',
       now() - make_interval(mins => n * 4), now() - make_interval(mins => n * 4),
       now() - make_interval(mins => n * 4), md5((n %% 700)::text), 1 + n %% 5,
       jsonb_build_object('content', 'error ' || n),
       jsonb_build_object(
         'schema_version', 1,
         'title', (ARRAY['KeyError', 'TypeError', 'ShaderCompilationError',
                         'TimeoutError'])[1 + n %% 4]
                  || ': failure number ' || n || ' in '
                  || (ARRAY['cart', 'render', 'payments', 'auth', 'search'])[1 + n %% 5],
         'category', (ARRAY['missing file', 'type error', 'timeout', 'database error'])[1 + n %% 4],
         'confidence_score', 0.5 + (n %% 50) / 100.0,
         'log', jsonb_build_object('error_message', 'failed while handling request ' || n),
         'culprit', jsonb_build_object('file', 'src/module' || (n %% 300) || '.py',
                                       'line', n %% 400),
         'culprit_file', 'src/module' || (n %% 300) || '.py'),
       'bench'
FROM generate_series(1, %(n)s) AS n
"""


def _p50(client: httpx.Client, path: str, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    subprocess.run(["bash", str(ROOT / "scripts/build-frontend")], check=True)  # noqa: S603,S607
    kb, files = initial_js_gzip_kb()
    print(f"initial JavaScript (gzip): {kb:.1f} KB in {len(files)} file(s) (budget {BUDGET_KB} KB)")

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="logdawg-bench-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOGDAWG_")}
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "app.cli", "up", "--port", str(port), "--data-dir", str(data)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "Ctrl-C stops everything" in line:
                    break
            else:
                raise SystemExit("logdawg up did not start")
            db = start_embedded(data, cleanup=None)  # joins the running server
            with psycopg.connect(db.owner_url.replace("+psycopg", "")) as conn:
                org = conn.execute("SELECT id FROM organisations WHERE slug = 'local'").fetchone()
                assert org is not None
                start = time.perf_counter()
                conn.execute(SEED, {"org": org[0], "n": REPORTS})
                conn.execute("ANALYZE reports")
                conn.commit()
                print(f"seeded {REPORTS} reports in {time.perf_counter() - start:.1f} s")
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                page = _p50(client, "/api/v1/reports?limit=25")
                print(f"GET /api/v1/reports?limit=25: p50 {page:.1f} ms")
                search = "/api/v1/reports?limit=25&q=render%20failure"
                print(f"GET /api/v1/reports?q=render failure: p50 {_p50(client, search):.1f} ms")
                print(f"GET /api/v1/stats: p50 {_p50(client, '/api/v1/stats'):.1f} ms")
            out = subprocess.run(  # noqa: S603 - node runs our own script
                ["node", "bench/first-render.mjs", base, "7"],  # noqa: S607
                cwd=ROOT / "frontend", check=True, capture_output=True, text=True,
            )  # fmt: skip
            render = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"Reports page, first render with {REPORTS} reports: median "
                f"{render['median_ms']} ms (min {render['min_ms']}, max {render['max_ms']}, "
                f"{render['runs']} cold loads, {render['rows']} rows shown)"
            )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0 if kb <= BUDGET_KB else 1


if __name__ == "__main__":
    sys.exit(main())
