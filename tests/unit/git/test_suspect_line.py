"""The commit that last changed the culprit line, on each provider: exactly one is flagged.

The repository of the diagnosis issue: a commit inserts a line at the top of the culprit
file, the next one changes the culprit line, and a newer one inserts another line at the top
(so the culprit line's number today is not its number in either older commit). Azure DevOps
has no blame: the line is followed back through each newer diff instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.analysis.engine import RepoContext, diagnose
from app.analysis.sources import ProviderSource
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.diffs import Hunk, hunks, trace_line_back
from app.git.github import GitHubClient
from app.git.http import HttpPolicy
from app.git.local import LocalGitProvider
from app.git.types import GitProvider, Provider, RepoRef
from tests.fakes.git_history import commit_env
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve

TOKEN = "t0k3n-secret"
FAST = HttpPolicy(timeout_s=5, max_wait_s=2, max_retries=2)
BODY = [
    "def total(prices, count):",
    "    subtotal = sum(prices)",
    "    tax = subtotal * 0.2",
    "    average = subtotal / len(prices)",
    "    return average + tax",
]


def _commit(repo: Path, message: str, days_ago: int) -> None:
    env = commit_env("Ada Dev", "ada@example.com", datetime.now(UTC) - timedelta(days=days_ago))
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=repo, env=env, check=True, capture_output=True
    )


@pytest.fixture(scope="module")
def moved_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("moved") / "shop"
    (repo / "src/shop").mkdir(parents=True)
    env = commit_env("Ada Dev", "ada@example.com", datetime.now(UTC))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=env, check=True)
    calc = repo / "src/shop/calc.py"
    calc.write_text("\n".join(BODY) + "\n")
    _commit(repo, "Initial version", 90)
    calc.write_text("import math\n" + calc.read_text())
    _commit(repo, "Import math at the top", 40)
    calc.write_text(calc.read_text().replace("len(prices)", "count"))
    _commit(repo, "Average over the count passed in", 20)
    calc.write_text("# Licensed under the MIT licence.\n" + calc.read_text())
    _commit(repo, "Add a licence header", 5)
    return repo


# The culprit line, ``average = subtotal / count``, is line 6 today.
LOG = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/src/shop/calc.py", line 6, in total\n'
    "    average = subtotal / count\n"
    "ZeroDivisionError: division by zero\n"
)


@pytest.fixture(params=["local", "github", "azure_devops"])
async def source(
    request: pytest.FixtureRequest, moved_repo: Path
) -> AsyncIterator[tuple[str, ProviderSource, FakeServer | None]]:
    cache = ScopedMemoryCache(MemoryCache(), "org-1")
    client: GitProvider
    if request.param == "local":
        ref = RepoRef(Provider.LOCAL, "", "shop", base_url=str(moved_repo))
        yield request.param, ProviderSource(LocalGitProvider(moved_repo), ref), None
        return
    handler = GitHubHandler if request.param == "github" else AzureDevOpsHandler
    with serve(handler, moved_repo) as fake:
        if request.param == "github":
            client = GitHubClient(
                TOKEN, cache=cache, cache_scope="r", base_url=fake.url, policy=FAST
            )
            ref = RepoRef(Provider.GITHUB, "acme", "shop", base_url=fake.url)
        else:
            client = AzureDevOpsClient(
                TOKEN, cache=cache, cache_scope="r", base_url=f"{fake.url}/contoso", policy=FAST
            )
            ref = RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop", project="Shop")
        source = ProviderSource(client, ref)
        yield request.param, source, fake
        await source.aclose()


async def test_exactly_the_commit_that_changed_the_culprit_line_is_flagged(
    source: tuple[str, ProviderSource, FakeServer | None],
) -> None:
    name, code, _ = source
    result = await diagnose({"content": LOG}, repo=RepoContext(source=code, default_branch="main"))
    report = result.report
    assert report.culprit_file == "src/shop/calc.py"
    flagged = [c.message for c in report.suspect_commits if c.touches_culprit_line]
    assert flagged == ["Average over the count passed in"], name
    # Every commit to the file is still listed, newest first.
    assert [c.message for c in report.suspect_commits] == [
        "Add a licence header",
        "Average over the count passed in",
        "Import math at the top",
        "Initial version",
    ]


def test_a_line_is_followed_back_through_insertions_and_deletions(tmp_path: Path) -> None:
    # Thirty lines; then a header inserted, old lines 8-9 deleted and old line 20 changed.
    old = [f"old {n}" for n in range(1, 31)]
    new = ["# header", *old[:7], *old[9:19], "new 20", *old[20:]]
    (tmp_path / "a").write_text("\n".join(old) + "\n")
    (tmp_path / "b").write_text("\n".join(new) + "\n")
    diff = subprocess.run(
        ["git", "diff", "--no-index", "-U0", "a", "b"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    changes = hunks(diff)
    assert changes == [Hunk(0, 0, 1, 1), Hunk(8, 2, 8, 0), Hunk(20, 1, 19, 1)]
    for line, text in enumerate(new, 1):
        back = trace_line_back(changes, line)
        if text.startswith("old"):
            assert back is not None and old[back - 1] == text, (line, text, back)
        else:
            assert back is None, (line, text)  # written by this diff
