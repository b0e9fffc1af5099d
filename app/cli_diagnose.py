"""``logdawg diagnose LOGFILE``: a diagnosis in the terminal, without running the platform."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from app.analysis.engine import EngineResult, RepoContext, SourceError, diagnose
from app.analysis.report import DiagnosisReport
from app.analysis.sources import GitCheckoutSource, ProviderSource
from app.git.types import GitProviderError, Provider, RepoRef

# Imported where they are used, so that a diagnosis of a local checkout with the heuristic
# diagnoser loads neither the HTTP clients nor the settings: the provider clients, the
# model diagnosers, markdown rendering.

MAX_LOG_BYTES = 5 * 1024 * 1024


class UsageError(Exception):
    """Bad input from the command line: printed as ``logdawg diagnose: error: ...``, exit 2."""


def read_log(path: str) -> dict[str, Any]:
    """The ``log_data`` to diagnose: a request body like the API's (``{"log_data": ...}``) is
    unwrapped; anything else is the log itself."""
    if path == "-":
        raw = sys.stdin.buffer.read(MAX_LOG_BYTES + 1)
    else:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"{path}: no such file")
        with file.open("rb") as fh:
            raw = fh.read(MAX_LOG_BYTES + 1)
    if len(raw) > MAX_LOG_BYTES:
        raise UsageError(f"{path}: larger than {MAX_LOG_BYTES // (1024 * 1024)} MiB")
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise UsageError(f"{path}: the log is empty")
    try:
        body = json.loads(text)
    except ValueError:
        return {"content": text}
    if isinstance(body, dict) and isinstance(body.get("log_data"), dict):
        log_data: dict[str, Any] = body["log_data"]
        if "content" not in log_data:
            raise UsageError(f"{path}: log_data has no content")
        return log_data
    return {"content": text}


def provider_repo(url: str, api_url: str | None) -> RepoRef:
    """A GitHub or Azure DevOps repository from its web URL:
    ``https://github.com/OWNER/REPO``, ``https://GHES-HOST/OWNER/REPO``,
    ``https://dev.azure.com/ORG/PROJECT/_git/REPO``, ``https://ORG.visualstudio.com/PROJECT/_git/REPO``
    or an Azure DevOps Server ``https://HOST/COLLECTION/PROJECT/_git/REPO``."""
    parts = urlsplit(url)
    segments = [unquote(p) for p in parts.path.split("/") if p]
    host = parts.hostname or ""
    if "_git" in segments:
        i = segments.index("_git")
        if i < 1 or i + 1 >= len(segments):
            raise UsageError(f"{url}: expected .../PROJECT/_git/REPO")
        project, name = segments[i - 1], segments[i + 1]
        if host == "dev.azure.com":
            return RepoRef(Provider.AZURE_DEVOPS, segments[0], name, project, "main", api_url)
        if host.endswith(".visualstudio.com"):
            return RepoRef(Provider.AZURE_DEVOPS, host.split(".")[0], name, project, "main",
                           api_url or f"https://{host}")  # fmt: skip
        collection = "/".join(segments[: i - 1])
        base = api_url or f"{parts.scheme}://{parts.netloc}/{collection}"
        return RepoRef(Provider.AZURE_DEVOPS, collection, name, project, "main", base)
    if len(segments) < 2:
        raise UsageError(f"{url}: expected https://github.com/OWNER/REPO")
    owner, name = segments[0], segments[1].removesuffix(".git")
    api = api_url or (None if host == "github.com" else f"{parts.scheme}://{parts.netloc}/api/v3")
    # GitHub resolves HEAD to the default branch.
    return RepoRef(Provider.GITHUB, owner, name, None, "HEAD", api)


def provider_token(repo: RepoRef) -> str | None:
    names = ["LOGDAWG_GIT_TOKEN"] + (
        ["GITHUB_TOKEN", "GH_TOKEN"]
        if repo.provider is Provider.GITHUB
        else ["AZURE_DEVOPS_TOKEN", "AZURE_DEVOPS_EXT_PAT"]
    )
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _repository(spec: str) -> tuple[GitCheckoutSource, str]:
    root = Path(spec).expanduser()
    if not root.is_dir():
        raise UsageError(f"{spec}: no such directory")
    probe = subprocess.run(  # noqa: S603 - a fixed git command on a path the user named
        ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree", "--abbrev-ref", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    answer = probe.stdout.split()
    if probe.returncode != 0 or not answer or answer[0] != "true":
        raise UsageError(f"{spec}: not a git checkout")
    branch = answer[1] if len(answer) > 1 and answer[1] != "HEAD" else "HEAD"
    return GitCheckoutSource(root), branch


def render_text(report: DiagnosisReport) -> str:
    culprit = report.culprit
    lines = [report.title, ""]
    lines.append(f"  category    {report.category} (confidence {report.confidence_score:.0%})")
    if culprit is not None:
        path = report.culprit_file or culprit.file
        lines.append(
            f"  culprit     {path}:{culprit.line}"
            + (f" in {culprit.function}" if culprit.function else "")
        )
        if report.selection_reason:
            lines.append(f"  why         {report.selection_reason}")
    if report.commit is not None:
        lines.append(f"  commit      {report.commit.sha[:12]} ({report.commit.source})")
    lines += ["", "Root cause:", f"  {report.root_cause}", "", "Recommendations:"]
    lines += [f"  {i}. {r}" for i, r in enumerate(report.recommendations, 1)]
    if report.relevant_code_files and report.relevant_code_files[0].snippets:
        snip = report.relevant_code_files[0].snippets[0]
        lines += ["", f"Code ({report.relevant_code_files[0].file_path}):"]
        for n, text in enumerate(snip.content.split("\n"), snip.start_line):
            lines.append(f"  {'>' if n == snip.highlight_line else ' '}{n:5d}  {text}")
    if report.suspect_commits:
        lines += ["", "Suspect commits (newest first):"]
        for c in report.suspect_commits:
            mark = "  <- changed the culprit line" if c.touches_culprit_line else ""
            lines.append(f"  {c.sha[:12]} {c.date or ''} {c.author or ''}: {c.message}{mark}")
    if report.limitations:
        lines += ["", "Limitations:"] + [f"  - {item}" for item in report.limitations]
    return "\n".join(lines) + "\n"


def _diagnoser() -> Any:
    """The model diagnoser the settings ask for; None (the heuristic) without reading the
    settings module when no ``LOGDAWG_DIAGNOSER`` is set."""
    chosen = [v for k, v in os.environ.items() if k.upper() == "LOGDAWG_DIAGNOSER"]
    if all(v.strip().lower() in ("", "heuristic") for v in chosen):
        return None
    from app.llm.diagnosers import build_diagnoser, config_from_settings
    from app.settings import Settings

    model = config_from_settings(Settings())
    return build_diagnoser(model) if model is not None else None


async def _run(
    log_data: dict[str, Any], target: RepoContext | RepoRef | None, ref: str | None
) -> EngineResult:
    repo = await _provider_context(target, ref) if isinstance(target, RepoRef) else target
    diagnoser = _diagnoser()
    try:
        # ``strict``: the repository the user named must be readable and a ref asked for
        # must exist — an error, not a limitation in the report. The engine resolves the ref
        # itself, once.
        return await diagnose(log_data, repo=repo, diagnoser=diagnoser)
    finally:
        if repo is not None and isinstance(repo.source, ProviderSource):
            await repo.source.aclose()
        if diagnoser is not None:
            await diagnoser.aclose()


async def _provider_context(repo: RepoRef, ref: str | None) -> RepoContext:
    from app.git.cache import DiskCache, user_cache_dir
    from app.git.factory import provider_for
    from app.settings import Settings

    try:
        provider = await provider_for(
            repo,
            provider_token(repo),
            Settings(mode="single_tenant"),
            # Answers addressed by a commit SHA stay valid for good: kept between runs, so a
            # second diagnosis of the repository costs one conditional request.
            cache=DiskCache(user_cache_dir() / "git"),
            cache_scope=repo.label,
        )
    except GitProviderError as exc:
        raise UsageError(str(exc)) from None
    return RepoContext(
        source=ProviderSource(provider, repo),
        default_branch=repo.default_branch,
        ref=ref,
        name=repo.label,
        strict=True,
    )


def cmd_diagnose(args: argparse.Namespace) -> int:
    progress = sys.stderr.isatty() and not args.quiet

    def say(message: str) -> None:
        if progress:
            print(f"logdawg: {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        log_data = read_log(args.logfile)
        repo: RepoContext | RepoRef | None = None
        if args.repo and args.repo.startswith(("https://", "http://")):
            repo = provider_repo(args.repo, args.api_url)
            say(f"reading {repo.label} through its API")
        elif args.repo:
            source, branch = _repository(args.repo)
            repo = RepoContext(
                source=source, default_branch=branch, ref=args.ref, name=args.repo, strict=True
            )
            say(f"reading {args.repo} at {args.ref or 'the commit the log names, else ' + branch}")
        elif args.ref:
            raise UsageError("--ref needs --repo")
        say("diagnosing")
        report = asyncio.run(_run(log_data, repo, args.ref)).report
    except UsageError as exc:
        print(f"logdawg diagnose: error: {exc}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"logdawg diagnose: error: the repository could not be read: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(
            f"logdawg diagnose: error: invalid settings: {exc.errors()[0]['msg']}", file=sys.stderr
        )
        return 2
    say(f"done in {(time.perf_counter() - started) * 1000:.0f} ms")
    if args.format == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    elif args.format == "markdown":
        from app.analysis.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        sys.stdout.write(render_text(report))
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "diagnose",
        help="diagnose a log file in the terminal (no server needed)",
        description="Diagnose LOGFILE (text, JSON, or an API request body; '-' reads stdin), "
        "optionally against a local git checkout.",
    )
    parser.add_argument("logfile")
    parser.add_argument(
        "--repo",
        help="a local git checkout, or a GitHub / Azure DevOps repository URL (token from "
        "LOGDAWG_GIT_TOKEN, GITHUB_TOKEN or AZURE_DEVOPS_TOKEN)",
    )
    parser.add_argument("--api-url", help="the provider's API root, when not derived from the URL")
    parser.add_argument("--ref", help="branch, tag or commit to read (default: the log's)")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=cmd_diagnose)
