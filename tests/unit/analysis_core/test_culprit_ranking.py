"""How the culprit is chosen among the application's frames: code vendored into the
repository is a library, a licence file marks copied code unless the whole application lives
under it, and a caller whose line changed more recently than the crash site's is preferred.
The traces are real: the repository's program is run here to crash."""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.analysis.engine import RepoContext, diagnose
from app.analysis.sources import GitCheckoutSource, ProviderSource
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.http import HttpPolicy
from app.git.types import Provider, RepoRef
from tests.fakes.git_history import commit_env
from tests.fakes.git_servers import AzureDevOpsHandler, serve

HELPER = "def first_word(text):\n    return text.split()[0]\n"
CALLER = (
    "from {module} import first_word\n\n\ndef title(row):\n    return first_word(row['{key}'])\n"
)
MAIN = "from app.names import title\n\nprint(title({'name': '   ', 'title': '   '}))\n"


def _commit(repo: Path, message: str, days_ago: int) -> None:
    env = commit_env("Ada Dev", "ada@example.com", datetime.now(UTC) - timedelta(days=days_ago))
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=repo, env=env, check=True, capture_output=True
    )


def _build(root: Path, helper_dir: str, *, licence: str | None, caller_changed_last: bool) -> Path:
    repo = root / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / helper_dir).mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    module = helper_dir.replace("/", ".")
    (repo / "app/__init__.py").write_text("")
    (repo / helper_dir / "__init__.py").write_text(HELPER)
    if licence:
        (repo / licence).write_text("MIT License\n")
    caller = repo / "app/names.py"
    caller.write_text(CALLER.format(module=module, key="title"))
    (repo / "main.py").write_text(MAIN)
    _commit(repo, "Initial version", 60)
    if caller_changed_last:
        caller.write_text(CALLER.format(module=module, key="name"))
        _commit(repo, "Title rows by their name", 10)
    else:
        (repo / helper_dir / "__init__.py").write_text(HELPER.replace("[0]", "[0]  # first"))
        _commit(repo, "Comment the helper", 10)
    return repo


async def _culprit(repo: Path, tmp: Path) -> tuple[str | None, str | None, list[str]]:
    deployed = tmp / "srv" / "app"
    shutil.copytree(repo, deployed, ignore=shutil.ignore_patterns(".git"))
    done = subprocess.run(  # noqa: ASYNC221 - the crash to diagnose, before any waiting
        [sys.executable, "-B", "main.py"], cwd=deployed, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "IndexError" in done.stderr
    source = GitCheckoutSource(repo)
    report = (
        await diagnose(
            {"content": done.stderr}, repo=RepoContext(source=source, default_branch="main")
        )
    ).report
    files = [f.file_path for f in report.relevant_code_files]
    return report.culprit_file, report.selection_reason, files


async def test_a_crash_in_vendored_code_names_the_caller(tmp_path: Path) -> None:
    repo = _build(tmp_path, "app/_vendor/words", licence=None, caller_changed_last=False)
    culprit, reason, files = await _culprit(repo, tmp_path)
    assert culprit == "app/names.py"
    assert reason is not None and "vendored code" in reason
    assert files[:2] == ["app/names.py", "app/_vendor/words/__init__.py"]


async def test_a_directory_with_its_own_licence_is_vendored(tmp_path: Path) -> None:
    repo = _build(tmp_path, "libs/words", licence="libs/words/LICENSE", caller_changed_last=False)
    culprit, _, files = await _culprit(repo, tmp_path)
    assert culprit == "app/names.py"
    assert "libs/words/__init__.py" in files[:3]


async def test_a_shared_helper_that_did_not_change_points_at_the_recent_caller(
    tmp_path: Path,
) -> None:
    repo = _build(tmp_path, "app/common", licence=None, caller_changed_last=True)
    culprit, reason, files = await _culprit(repo, tmp_path)
    assert culprit == "app/names.py"
    assert reason is not None and "Title rows by their name" in reason
    assert files[:2] == ["app/names.py", "app/common/__init__.py"]


async def test_a_helper_changed_after_its_callers_stays_the_culprit(tmp_path: Path) -> None:
    repo = _build(tmp_path, "app/common", licence=None, caller_changed_last=False)
    culprit, reason, _ = await _culprit(repo, tmp_path)
    assert culprit == "app/common/__init__.py"
    assert reason is not None and "where the error was raised" in reason


FLAGS = "FLAGS = {'new-cart': True}\n\n\ndef flag(name):\n    return FLAGS[name]\n"
CHECKOUT = (
    "from app.flags import flag\n\n\ndef checkout():\n    enabled = flag('beta-checkout')\n"
    "    return enabled\n"
)


@pytest.mark.parametrize("provider", ["local", "azure_devops"])
async def test_when_history_cannot_tell_the_caller_passing_the_named_value_wins(
    tmp_path: Path, provider: str
) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)  # noqa: ASYNC221
    (repo / "app/__init__.py").write_text("")
    (repo / "app/flags.py").write_text(FLAGS)
    (repo / "app/checkout.py").write_text(CHECKOUT)
    (repo / "main.py").write_text("from app.checkout import checkout\n\ncheckout()\n")
    _commit(repo, "Initial version", 60)
    for n in range(4):  # newer commits elsewhere in both files: no line of the trace changes
        for name in ("app/flags.py", "app/checkout.py"):
            path = repo / name
            path.write_text(path.read_text() + f"# note {n}\n")
        _commit(repo, f"Notes {n}", 40 - n)
    deployed = tmp_path / "srv"
    shutil.copytree(repo, deployed, ignore=shutil.ignore_patterns(".git"))
    done = subprocess.run(  # noqa: ASYNC221 - the crash to diagnose, before any waiting
        [sys.executable, "-B", "main.py"], cwd=deployed, capture_output=True, text=True, check=False
    )
    assert "KeyError: 'beta-checkout'" in done.stderr
    with ExitStack() as stack:
        if provider == "local":
            source: ProviderSource = GitCheckoutSource(repo)
        else:
            fake = stack.enter_context(serve(AzureDevOpsHandler, repo))
            client = AzureDevOpsClient(
                fake.token or "",
                cache=ScopedMemoryCache(MemoryCache(), "t"),
                cache_scope="r",
                base_url=f"{fake.url}/contoso",
                policy=HttpPolicy(timeout_s=5, max_wait_s=1, max_retries=1),
            )
            source = ProviderSource(client, RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop",
                                                    project="Shop"))  # fmt: skip
        report = (
            await diagnose(
                {"content": done.stderr}, repo=RepoContext(source=source, default_branch="main")
            )
        ).report
        await source.aclose()
    assert report.culprit_file == "app/checkout.py"
    assert report.selection_reason is not None and "'beta-checkout'" in report.selection_reason
    assert [f.file_path for f in report.relevant_code_files][:2] == [
        "app/checkout.py",
        "app/flags.py",
    ]
