"""Benchmark: ``logdawg diagnose`` as a user runs it.

1. A local checkout (a repository of the evaluation set, tests/eval/build_real.py, with its
   real crash log): median wall time of 10 runs of the installed command, the median time
   to import it, and whether the database layer (SQLAlchemy) was loaded on that path.
2. A repository read through the provider's API (fake GitHub and Azure DevOps servers on
   127.0.0.1 over the same repository): requests of a cold run and of a warm run, which reads
   the SHA-addressed answers from the on-disk cache.

    .venv/bin/python benchmarks/cli_diagnose.py
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.eval.build_real import real_cases  # noqa: E402 - after the path is set
from tests.fakes.git_servers import AzureDevOpsHandler, GitHubHandler, serve  # noqa: E402

RUNS = 10
LOGDAWG = [str(ROOT / ".venv/bin/logdawg"), "diagnose"]


CPU: list[float] = []


def _timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run; its CPU seconds (user + system) go to ``CPU``, a figure that a
    busy machine inflates less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return elapsed


def main() -> None:
    case = next(c for c in real_cases() if c.name == "py-helper-plain")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "error.log"
        log.write_text(str(case.log))
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        local = [*LOGDAWG, str(log), "--repo", case.repo]
        _timed(local, env)  # the first run warms the operating system's file cache
        CPU.clear()
        walls = [_timed(local, env) for _ in range(RUNS)]
        cpu = statistics.median(CPU)
        python = str(ROOT / ".venv/bin/python")
        imports = [_timed([python, "-c", "import app.cli"], env) for _ in range(RUNS)]
        bare = [_timed([python, "-c", "pass"], env) for _ in range(RUNS)]
        probe = (
            "import sys, runpy; sys.argv = ['logdawg', 'diagnose', sys.argv[1], '--repo', "
            "sys.argv[2], '--quiet']\ntry:\n    runpy.run_module('app.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('sqlalchemy' in sys.modules, 'httpx' in sys.modules, file=sys.stderr)"
        )
        loaded = subprocess.run(  # noqa: S603 - our interpreter, our probe
            [python, "-c", probe, str(log), case.repo], env=env, capture_output=True, text=True
        ).stderr.split()[-2:]
        print(f"local checkout ({case.scenario}), median of {RUNS} runs:")
        print(f"  logdawg diagnose wall time:      {statistics.median(walls) * 1000:6.0f} ms")
        print(f"  logdawg diagnose CPU time:       {cpu * 1000:6.0f} ms")
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  load average: {load} on {os.cpu_count()} CPUs")
        print(
            f"  interpreter start:               {statistics.median(bare) * 1000:6.0f} ms"
            f"   import app.cli: {statistics.median(imports) * 1000:4.0f} ms (with start)"
        )
        print(f"  SQLAlchemy loaded: {loaded[0]}   httpx loaded: {loaded[1]}")
        print("repository through its API, requests per run:")
        for name, handler in (("GitHub", GitHubHandler), ("Azure DevOps", AzureDevOpsHandler)):
            cache = Path(tmp) / name
            with serve(handler, Path(case.repo)) as fake:
                if handler is GitHubHandler:
                    url, api = "https://github.example.com/acme/shop", fake.url
                else:
                    url, api = (
                        "https://ado.example.com/contoso/Shop/_git/shop",
                        f"{fake.url}/contoso",
                    )
                run_env = {
                    **env,
                    "XDG_CACHE_HOME": str(cache),
                    "LOGDAWG_GIT_TOKEN": fake.token or "",
                }
                command = [*LOGDAWG, str(log), "--repo", url, "--api-url", api]
                cold_s = _timed(command, run_env)
                cold = fake.sent()
                warm_s = _timed(command, run_env)
                warm = fake.sent() - cold
            print(
                f"  {name:<13} cold {cold:3d} requests ({cold_s * 1000:4.0f} ms)   "
                f"warm {warm:3d} ({warm_s * 1000:4.0f} ms)   target: warm <= 1"
            )
    print("target: local checkout < 500 ms")


if __name__ == "__main__":
    main()
