"""Benchmark: the evaluation set of real program output (tests/eval/build_real.py) through the
diagnosis engine, per language and per envelope.

Prints top-1 culprit file, top-3 culprit file, culprit line, suspect commit (the commit that
wrote the culprit line flagged, alone), crash site shown in the top 3, errors, and the median
time per diagnosis: the engine alone (every repository answer memoised: parsing, mapping,
ranking, snippets, classification) and cold (git plumbing on the local checkout included);
then the same cases through the fake GitHub and Azure DevOps APIs, with their request counts.
The set is built on first use and cached (see tests/eval/build_real.py).

    .venv/bin/python benchmarks/diagnosis_eval.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.eval.evaluate import Outcome, Scores, evaluate

TARGETS = "targets: top-1 >= 0.95, top-3 = 1.00, suspect >= 0.90, 0 errors, engine < 50 ms"


def _row(scores: Scores, name: str, outcomes: list[Outcome]) -> str:
    rate = {m: scores.rate(m, outcomes) for m in ("top1", "top3", "line", "suspect", "crash_site")}
    errors = sum(o.error is not None for o in outcomes)
    return (
        f"{name:<12} {len(outcomes):>5} {rate['top1']:>6.3f} {rate['top3']:>6.3f} "
        f"{rate['line']:>6.3f} {rate['suspect']:>8.3f} {rate['crash_site']:>6.3f} {errors:>6} "
        f"{scores.median_ms(outcomes):>10.2f} {scores.median_ms(outcomes, engine=False):>9.1f}"
    )


def main() -> None:
    scores = asyncio.run(evaluate())
    header = (
        f"{'':<12} {'cases':>5} {'top-1':>6} {'top-3':>6} {'line':>6} {'suspect':>8} "
        f"{'crash':>6} {'errors':>6} {'engine ms':>10} {'cold ms':>9}"
    )
    print(header)
    print(_row(scores, "all", scores.outcomes))
    for title, key in (
        ("language", lambda o: o.case.language),
        ("envelope", lambda o: o.case.envelope),
    ):
        print(f"-- per {title}")
        for name, group in scores.groups(key).items():
            print(_row(scores, name, group))
    print(TARGETS)
    # The same cases read through the fake provider APIs on 127.0.0.1: GitHub (blame in one
    # GraphQL request per file) and Azure DevOps (no blame: lines followed through diffs).
    print(f"-- through a provider's API {'':<15} requests per diagnosis: median, max")
    for provider in ("github", "azure_devops"):
        through = asyncio.run(evaluate(provider=provider))
        requests = [o.requests for o in through.outcomes]
        print(
            _row(through, provider, through.outcomes)
            + f"   {statistics.median(requests):5.1f} {max(requests):4d}"
        )
    for metric in ("top1", "top3", "suspect"):
        for miss in scores.misses(metric):
            print(f"miss ({metric}): {miss}")


if __name__ == "__main__":
    main()
