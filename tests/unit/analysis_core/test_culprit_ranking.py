"""How the culprit is chosen among the application's frames: code vendored into the
repository is a library, a licence file marks copied code unless the whole application lives
under it, and a caller whose line changed more recently than the crash site's is preferred.
The traces are real: the repository's program is run here to crash."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.analysis.engine import RepoContext, diagnose
from app.analysis.sources import GitCheckoutSource
from tests.fakes.git_history import commit_env

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
