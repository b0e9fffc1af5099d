"""Bad input through the whole engine, against a real checkout: a clear report, never a crash,
never a file outside the repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.analysis.engine import RepoContext, diagnose
from app.analysis.sources import GitCheckoutSource
from tests.eval.cases import build_repository, cases


class _Recording(GitCheckoutSource):
    """The real source, noting every path it is asked to read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read_paths: list[str] = []

    async def read(self, path: str, sha: str) -> bytes:
        self.read_paths.append(path)
        return await super().read(path, sha)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    case = next(c for c in cases() if c.name == "py-keyerror")
    return build_repository(case, tmp_path_factory.mktemp("bad"))


async def _run(checkout: Path, content: object) -> tuple[object, _Recording]:
    source = _Recording(checkout)
    result = await diagnose({"content": content}, repo=RepoContext(source, "main"))
    return result.report, source


@pytest.mark.parametrize(
    "content",
    [
        "",
        "   \n\t\n",
        "INFO service started\nINFO listening on :8080\nDEBUG warmed cache",
        bytes(range(256)).decode("latin-1") * 40 + "\x00\x00",
        "E" * (1024 * 1024),
        "{" * 5000,
        {},
        {"deeply": [[[[[[[[[[[[[[[[[[[[{"x": 1}]]]]]]]]]]]]]]]]]]]]},
    ],
    ids=[
        "empty",
        "blank",
        "no-error",
        "binary",
        "1MiB-line",
        "broken-json",
        "empty-object",
        "deep",
    ],
)
async def test_odd_logs_make_a_report_with_no_culprit(checkout: Path, content: object) -> None:
    report, source = await _run(checkout, content)
    assert report.culprit_file is None  # type: ignore[attr-defined]
    assert report.title  # type: ignore[attr-defined]
    assert len(report.fingerprint) == 64  # type: ignore[attr-defined]
    assert source.read_paths == []


@pytest.mark.parametrize(
    "path",
    ["../../etc/passwd", "/etc/passwd", "/app/../../../etc/shadow", "..\\..\\windows\\win.ini"],
)
async def test_frames_pointing_outside_the_repository_read_nothing(
    checkout: Path, path: str
) -> None:
    trace = (
        "Traceback (most recent call last):\n"
        f'  File "{path}", line 1, in <module>\n'
        "    x\n"
        "KeyError: 'root'"
    )
    report, source = await _run(checkout, trace)
    assert source.read_paths == []
    assert report.culprit_file is None  # type: ignore[attr-defined]
    assert report.relevant_code_files == []  # type: ignore[attr-defined]
    assert any(m.repo_path is None for m in report.code_mapping)  # type: ignore[attr-defined]


@pytest.fixture
def linked_checkout(tmp_path: Path) -> Path:
    case = next(c for c in cases() if c.name == "py-keyerror")
    repo = build_repository(case, tmp_path)
    os.symlink("/etc/passwd", repo / "shop" / "passwd.py")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "link"], check=True)
    return repo


async def test_a_committed_symlink_to_outside_yields_its_target_path_only(
    linked_checkout: Path,
) -> None:
    # git stores a symlink as a blob holding the target's path; reading through git never
    # follows it, so /etc/passwd's content cannot leak into a report.
    source = GitCheckoutSource(linked_checkout)
    head = await source.resolve("main")
    assert "shop/passwd.py" in await source.list_paths(head)
    assert await source.read("shop/passwd.py", head) == b"/etc/passwd"
