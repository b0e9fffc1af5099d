"""Runs the evaluation set (real program output, ``tests/eval/build_real.py``) through the
engine and scores it; used by the test and by ``benchmarks/diagnosis_eval.py``."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.analysis.engine import RepoContext, diagnose
from app.analysis.report import DiagnosisReport, SuspectCommit
from app.analysis.sources import GitCheckoutSource, ProviderSource
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.diffs import Hunk
from app.git.github import GitHubClient
from app.git.http import HttpPolicy
from app.git.types import GitProvider, Provider, RepoRef
from tests.eval.build_real import RealCase, real_cases
from tests.fakes.git_servers import AzureDevOpsHandler, GitHubHandler, serve

METRICS = ("top1", "top3", "line", "suspect", "crash_site")


@dataclass
class Outcome:
    case: RealCase
    report: DiagnosisReport | None
    seconds: float = 0.0
    engine_seconds: float = 0.0
    error: str | None = None
    requests: int = 0

    @property
    def top1(self) -> bool:
        return self.report is not None and self.report.culprit_file == self.case.expected_file

    @property
    def line(self) -> bool:
        culprit = self.report.culprit if self.report is not None else None
        return self.top1 and culprit is not None and culprit.line == self.case.expected_line

    @property
    def top3(self) -> bool:
        if self.report is None:
            return False
        files = [f.file_path for f in self.report.relevant_code_files[:3]]
        return self.case.expected_file in files

    @property
    def crash_site(self) -> bool:
        """The file where the program crashed is among the first three shown."""
        if self.report is None:
            return False
        files = [f.file_path for f in self.report.relevant_code_files[:3]]
        return self.case.crash_file in files

    @property
    def suspect(self) -> bool:
        if self.report is None:
            return False
        touching = [c for c in self.report.suspect_commits if c.touches_culprit_line]
        return len(touching) == 1 and touching[0].message == self.case.expected_suspect

    def describe(self) -> str:
        if self.error:
            return f"{self.case.name}: error {self.error}"
        report = self.report
        assert report is not None
        got = f"{report.culprit_file}:{report.culprit.line if report.culprit else None}"
        touching = [c.message for c in report.suspect_commits if c.touches_culprit_line]
        return (
            f"{self.case.name}: expected {self.case.expected_file}:{self.case.expected_line}"
            f" ({self.case.expected_suspect!r}), got {got} {touching}"
        )


@dataclass
class Scores:
    outcomes: list[Outcome] = field(default_factory=list)

    def rate(self, metric: str, outcomes: Iterable[Outcome] | None = None) -> float:
        chosen = list(self.outcomes if outcomes is None else outcomes)
        return sum(bool(getattr(o, metric)) for o in chosen) / max(len(chosen), 1)

    @property
    def errors(self) -> int:
        return sum(o.error is not None for o in self.outcomes)

    def median_ms(self, outcomes: Iterable[Outcome] | None = None, *, engine: bool = True) -> float:
        chosen = list(self.outcomes if outcomes is None else outcomes)
        times = [o.engine_seconds if engine else o.seconds for o in chosen if o.error is None]
        return statistics.median(times) * 1000 if times else 0.0

    def groups(self, key: Callable[[Outcome], str]) -> dict[str, list[Outcome]]:
        found: dict[str, list[Outcome]] = {}
        for outcome in self.outcomes:
            found.setdefault(key(outcome), []).append(outcome)
        return dict(sorted(found.items()))

    def misses(self, metric: str) -> list[str]:
        return [o.describe() for o in self.outcomes if not getattr(o, metric)]


class _Memo:
    """The same source with every answer kept: a second diagnosis makes no git calls, which
    isolates the engine's own time from the provider's."""

    def __init__(self, inner: ProviderSource) -> None:
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

    async def resolve(self, ref: str) -> str:
        return str(await self._call("resolve", ref))

    async def list_paths(self, sha: str) -> dict[str, int | None]:
        return await self._call("list_paths", sha)  # type: ignore[return-value]

    async def read(self, path: str, sha: str) -> bytes:
        return await self._call("read", path, sha)  # type: ignore[return-value]

    async def path_commits(
        self, path: str, sha: str, since: datetime, limit: int
    ) -> list[SuspectCommit]:
        # ``since`` moves with the clock: keyed by its day, asked with the time itself.
        key = ("path_commits", path, sha, since.date(), limit)
        if key not in self.cache:
            self.cache[key] = await self.inner.path_commits(path, sha, since, limit)
        commits: list[SuspectCommit] = self.cache[key]  # type: ignore[assignment]
        return [c.model_copy() for c in commits]

    async def changed_lines(self, commit_sha: str, path: str) -> list[Hunk] | None:
        return await self._call("changed_lines", commit_sha, path)  # type: ignore[return-value]

    async def blame(self, path: str, sha: str, line: int) -> SuspectCommit | None:
        found = await self._call("blame", path, sha, line)
        return found.model_copy() if found is not None else None  # type: ignore[attr-defined]


async def evaluate(
    cases: list[RealCase] | None = None, *, root: Path | None = None, provider: str = "local"
) -> Scores:
    """Diagnose every case against its repository: a local checkout (git plumbing, blame), or
    the fake GitHub / Azure DevOps API over the same repository (``provider``), where the
    Azure DevOps answers have no blame and the culprit line is followed through diffs."""
    scores = Scores()
    for case in cases if cases is not None else real_cases(root):
        with ExitStack() as stack:
            inner = _source(case, provider, stack)
            source = _Memo(inner)
            log_data = {"content": case.log}
            try:
                started = time.perf_counter()
                result = await diagnose(
                    log_data,
                    repo=RepoContext(source=source, default_branch="main", name=case.name),
                )
                cold = time.perf_counter() - started
                started = time.perf_counter()
                await diagnose(log_data, repo=RepoContext(source=source, default_branch="main"))
                warm = time.perf_counter() - started
            except Exception as exc:
                last = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{Path(last.filename).name}:{last.lineno}"
                scores.outcomes.append(Outcome(case, None, error=f"{exc!r} at {where}"))
                continue
            finally:
                await inner.aclose()
            scores.outcomes.append(
                Outcome(case, result.report, cold, warm, requests=result.report.provider_requests)
            )
    return scores


def _source(case: RealCase, provider: str, stack: ExitStack) -> ProviderSource:
    repo = Path(case.repo)
    if provider == "local":
        return GitCheckoutSource(repo)
    cache = ScopedMemoryCache(MemoryCache(), "eval")
    policy = HttpPolicy(timeout_s=10, max_wait_s=2, max_retries=2)
    if provider == "github":
        fake = stack.enter_context(serve(GitHubHandler, repo))
        ref = RepoRef(Provider.GITHUB, "acme", "shop", base_url=fake.url)
        client: GitProvider = GitHubClient(
            fake.token or "", cache=cache, cache_scope="r", base_url=fake.url, policy=policy
        )
    elif provider == "azure_devops":
        fake = stack.enter_context(serve(AzureDevOpsHandler, repo))
        ref = RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop", project="Shop")
        client = AzureDevOpsClient(
            fake.token or "",
            cache=cache,
            cache_scope="r",
            base_url=f"{fake.url}/contoso",
            policy=policy,
        )
    else:
        raise ValueError(f"unknown provider {provider}")
    return ProviderSource(client, ref)
