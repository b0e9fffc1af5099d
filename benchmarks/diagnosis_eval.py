"""Benchmark: the evaluation set (tests/eval) through the diagnosis engine.

Prints top-1 / top-3 culprit-file accuracy, suspect-commit accuracy and time per diagnosis:
cold (git plumbing on a local checkout included) and warm (every repository answer memoised,
so only the engine's own work: parsing, mapping, snippets, classification).

    .venv/bin/python benchmarks/diagnosis_eval.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.eval.evaluate import evaluate


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        scores = asyncio.run(evaluate(Path(root)))
    n = len(scores.outcomes)
    print(f"cases: {n} in {len({o.case.language for o in scores.outcomes})} languages")
    print(f"top-1 culprit (file and line): {scores.rate('top1'):.3f}")
    print(f"top-3 culprit file:            {scores.rate('top3'):.3f}")
    print(f"suspect commit:                {scores.rate('suspect'):.3f}")
    print(f"median per diagnosis, cold (local git): {scores.median_ms:.1f} ms")
    print(f"median per diagnosis, warm (engine only): {scores.median_warm_ms:.2f} ms")
    for failure in scores.failures():
        print("miss:", failure)


if __name__ == "__main__":
    main()
