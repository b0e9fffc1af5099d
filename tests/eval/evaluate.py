"""Runs the evaluation set through the engine and scores it (used by the test and the
benchmark, ``benchmarks/diagnosis_eval.py``)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.analysis.engine import RepoContext, diagnose
from app.analysis.report import DiagnosisReport
from app.analysis.sources import GitCheckoutSource
from tests.eval.cases import Case, build_repository, cases


@dataclass
class Outcome:
    case: Case
    report: DiagnosisReport
    seconds: float
    warm_seconds: float

    @property
    def top1(self) -> bool:
        culprit = self.report.culprit
        return (
            self.report.culprit_file == self.case.expected_file
            and culprit is not None
            and culprit.line == self.case.culprit.line
        )

    @property
    def top3(self) -> bool:
        files = [f.file_path for f in self.report.relevant_code_files[:3]]
        return self.case.expected_file in files

    @property
    def suspect(self) -> bool:
        suspects = self.report.suspect_commits
        touching = [c for c in suspects if c.touches_culprit_line]
        top = (touching or suspects)[:1]
        return bool(top) and top[0].message == self.case.expected_suspect


@dataclass
class Scores:
    outcomes: list[Outcome] = field(default_factory=list)

    def rate(self, attribute: str) -> float:
        return sum(getattr(o, attribute) for o in self.outcomes) / len(self.outcomes)

    @property
    def median_ms(self) -> float:
        return statistics.median(o.seconds for o in self.outcomes) * 1000

    @property
    def median_warm_ms(self) -> float:
        return statistics.median(o.warm_seconds for o in self.outcomes) * 1000

    def failures(self) -> list[str]:
        return [
            f"{o.case.name}: expected {o.case.expected_file}:{o.case.culprit.line}, got "
            f"{o.report.culprit_file}:{o.report.culprit.line if o.report.culprit else None}"
            for o in self.outcomes
            if not o.top1
        ]


class _Memo:
    """The same source with every answer kept: a second diagnosis makes no git calls, which
    isolates the engine's own time from the provider's."""

    def __init__(self, inner: GitCheckoutSource) -> None:
        self.inner = inner
        self.cache: dict[tuple[object, ...], object] = {}

    @property
    def requests(self) -> int:
        return self.inner.requests

    async def _call(self, name: str, *args: object) -> object:
        key = (name, *args)
        if key not in self.cache:
            self.cache[key] = await getattr(self.inner, name)(*args)
        return self.cache[key]

    async def resolve(self, ref):  # type: ignore[no-untyped-def]
        return await self._call("resolve", ref)

    async def list_paths(self, sha):  # type: ignore[no-untyped-def]
        return await self._call("list_paths", sha)

    async def read(self, path, sha):  # type: ignore[no-untyped-def]
        return await self._call("read", path, sha)

    async def path_commits(self, path, sha, since, limit):  # type: ignore[no-untyped-def]
        # ``since`` moves with the clock; the answer for one run is what matters.
        commits = await self._call("path_commits", path, sha, since.date(), limit)
        return [c.model_copy() for c in commits]  # type: ignore[attr-defined]

    async def changed_lines(self, commit_sha, path):  # type: ignore[no-untyped-def]
        return await self._call("changed_lines", commit_sha, path)

    async def blame(self, path, sha, line):  # type: ignore[no-untyped-def]
        found = await self._call("blame", path, sha, line)
        return found.model_copy() if found is not None else None  # type: ignore[attr-defined]


async def evaluate(root: Path) -> Scores:
    scores = Scores()
    for case in cases():
        repo_path = build_repository(case, root)
        source = _Memo(GitCheckoutSource(repo_path))
        repo = RepoContext(source=source, default_branch="main", name=case.name)
        log_data = {"content": case.log}
        started = time.perf_counter()
        result = await diagnose(log_data, repo=repo)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        await diagnose(log_data, repo=RepoContext(source=source, default_branch="main"))
        warm = time.perf_counter() - started
        scores.outcomes.append(Outcome(case, result.report, cold, warm))
    return scores
