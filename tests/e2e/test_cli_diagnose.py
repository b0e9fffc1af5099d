"""``logdawg diagnose``: the command a user runs without the platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.eval.cases import build_repository as build
from tests.eval.cases import cases
from tests.fakes.git_servers import AzureDevOpsHandler, GitHubHandler, serve

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests/data/logs/malloc-craft-error.json"


def logdawg(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "diagnose", *args],
        cwd=ROOT,
        input=stdin,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    case = next(c for c in cases() if c.name == "py-keyerror")
    root = tmp_path_factory.mktemp("cli")
    repo = build(case, root)
    log = root / "error.log"
    log.write_text(str(case.log))
    return repo, log


def test_the_sample_request_body_is_diagnosed_without_a_repository() -> None:
    done = logdawg(str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert "ShaderCompilationError" in done.stdout
    assert "src/shader.c:45 in compile_shader_from_file" in done.stdout
    assert "No repository is connected" in done.stdout


def test_json_against_a_checkout_names_file_line_and_suspect(checkout: tuple[Path, Path]) -> None:
    repo, log = checkout
    done = logdawg(str(log), "--repo", str(repo), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["culprit_file"] == "shop/cart.py"
    assert report["culprit"]["line"] == 42
    touching = [c for c in report["suspect_commits"] if c["touches_culprit_line"]]
    assert [c["message"] for c in touching] == ["Change the line that fails"]
    assert report["relevant_code_files"][0]["snippets"][0]["highlight_line"] == 42


def test_markdown_and_stdin(checkout: tuple[Path, Path]) -> None:
    repo, log = checkout
    done = logdawg("-", "--repo", str(repo), "--format", "markdown", stdin=log.read_text())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# KeyError")
    assert ">   42  return prices[item.sku] * item.qty" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.log"], "missing.log: no such file"),
        (["{log}", "--repo", "{tmp}"], "not a git checkout"),
        (
            ["{log}", "--repo", "{repo}", "--ref", "no-such-branch"],
            "has no branch, tag or commit 'no-such-branch'",
        ),
        (["{log}", "--repo", "https://github.com/acme"], "expected https://github.com/OWNER/REPO"),
        (["{log}", "--ref", "main"], "--ref needs --repo"),
        (["{empty}"], "the log is empty"),
    ],
)
def test_bad_input_is_a_clear_error_and_exit_2(
    checkout: tuple[Path, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    repo, log = checkout
    empty = tmp_path / "empty.log"
    empty.write_text("  \n")
    filled = [a.format(log=log, tmp=tmp_path, repo=repo, empty=empty) for a in args]
    done = logdawg(*filled)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_a_github_url_is_read_through_the_api(checkout: tuple[Path, Path]) -> None:
    repo, log = checkout
    with serve(GitHubHandler, repo) as fake:
        done = logdawg(
            str(log),
            "--repo",
            "https://github.example.com/acme/shop",
            "--api-url",
            fake.url,
            "--format",
            "json",
            env={"LOGDAWG_GIT_TOKEN": fake.token or ""},
        )
        sent = fake.sent()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["culprit_file"] == "shop/cart.py"
    assert report["provider_requests"] == sent
    assert "touches_culprit_line" in report["suspect_commits"][0]


@pytest.mark.parametrize("handler", [GitHubHandler, AzureDevOpsHandler])
def test_a_second_run_reads_the_repository_from_the_disk_cache(
    checkout: tuple[Path, Path], tmp_path: Path, handler: type[GitHubHandler]
) -> None:
    repo, log = checkout
    with serve(handler, repo) as fake:
        if handler is GitHubHandler:
            url, api = "https://github.example.com/acme/shop", fake.url
        else:
            url, api = "https://ado.example.com/contoso/Shop/_git/shop", f"{fake.url}/contoso"
        env = {"LOGDAWG_GIT_TOKEN": fake.token or "", "XDG_CACHE_HOME": str(tmp_path)}
        args = (str(log), "--repo", url, "--api-url", api, "--format", "json")
        cold = logdawg(*args, env=env)
        cold_sent = fake.sent()
        warm = logdawg(*args, env=env)
        warm_sent = fake.sent() - cold_sent
    assert cold.returncode == 0 and warm.returncode == 0, cold.stderr + warm.stderr
    assert cold_sent >= 4
    # The branch head, revalidated; everything addressed by a commit SHA came from disk.
    assert warm_sent <= 1
    assert json.loads(warm.stdout)["provider_requests"] == warm_sent
    assert json.loads(warm.stdout)["culprit_file"] == json.loads(cold.stdout)["culprit_file"]
    assert any((tmp_path / "logdawg" / "git").rglob("*"))


def test_a_wrong_token_for_a_url_is_a_clear_error(checkout: tuple[Path, Path]) -> None:
    repo, log = checkout
    with serve(GitHubHandler, repo) as fake:
        done = logdawg(
            str(log), "--repo", "https://github.example.com/acme/shop", "--api-url", fake.url,
            env={"LOGDAWG_GIT_TOKEN": "wrong"},
        )  # fmt: skip
    assert done.returncode == 2
    assert "rejected the token" in done.stderr
