"""From a submitted log to a report: deterministic evidence first, the model only to explain.

1. Parse the log (format, error lines, exception chain, frames, commit/version).
2. With a repository: pick the commit (the one the log names, else the head of the default
   branch, or the ref asked for), list its tree once, map in-app frames to files by trailing
   path segments (applying and learning stack-root → source-root rules), read the mapped files
   at that commit and cut snippets around each frame's line.
3. Suspect commits: commits that changed the culprit file within a year, newest first; the
   newest few are checked against the culprit line.
4. The heuristic verdict always; a model diagnoser, when configured, explains the same
   evidence (and its failure is reported, never dressed up as its success).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from app.analysis.classify import classify
from app.analysis.diagnoser import Diagnoser, DiagnoserError, DiagnosisContext
from app.analysis.fingerprint import fingerprint
from app.analysis.logs import parse_log
from app.analysis.mapping import CodeMapping, RepoIndex, map_paths
from app.analysis.models import Classification, ParsedLog, StackFrame
from app.analysis.report import (
    CommitRef,
    DiagnoserInfo,
    DiagnosisReport,
    FrameMapping,
    RelevantCodeFile,
    Snippet,
    SuspectCommit,
)
from app.analysis.snippets import snippet

TITLE_LIMIT = 160
MAX_FILES = 5
MAX_SNIPPETS_PER_FILE = 3
MAX_SUSPECTS = 5
# How many of the newest commits to the culprit file get their diff read (one request each).
DIFF_CHECKS = 2
SUSPECT_WINDOW = timedelta(days=365)
EXCERPT_CHARS = 8_000


class SourceError(Exception):
    """The repository could not be read. ``transient`` errors (rate limits, an unavailable
    provider) are worth retrying later; the others (bad credentials, no access, unknown ref)
    need a person, and the diagnosis goes on without repository context."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class CodeSource(Protocol):
    """What the engine reads from a repository (an adapter over a ``GitProvider``)."""

    @property
    def requests(self) -> int: ...

    async def resolve(self, ref: str) -> str: ...

    async def list_paths(self, sha: str) -> dict[str, int | None]: ...

    async def read(self, path: str, sha: str) -> bytes: ...

    async def path_commits(
        self, path: str, sha: str, since: datetime, limit: int
    ) -> list[SuspectCommit]: ...

    async def changed_lines(self, commit_sha: str, path: str) -> list[tuple[int, int]] | None: ...

    async def blame(self, path: str, sha: str, line: int) -> SuspectCommit | None: ...


@dataclass
class RepoContext:
    source: CodeSource
    default_branch: str
    learned: Sequence[CodeMapping] = ()
    # A ref asked for explicitly (the CLI's --ref); otherwise the log's commit or the branch.
    ref: str | None = None
    name: str = "the repository"


@dataclass
class EngineResult:
    report: DiagnosisReport
    new_mappings: list[CodeMapping] = field(default_factory=list)


def _title(parsed: ParsedLog) -> str:
    kind = parsed.error_type or (parsed.level or "Log").capitalize()
    message = parsed.error_message or parsed.message or (parsed.error_lines[:1] or [""])[0]
    title = f"{kind}: {message}" if message else kind
    title = " ".join(title.split())
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def _excerpt(parsed: ParsedLog) -> str:
    parts = [*parsed.error_lines, "", parsed.text]
    return "\n".join(parts)[:EXCERPT_CHARS]


class _Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = self.started
        self.timings: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round((now - self.last) * 1000, 3)
        self.last = now

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": round((time.perf_counter() - self.started) * 1000, 3)}


@dataclass
class _Code:
    commit: CommitRef | None = None
    mapping: list[FrameMapping] = field(default_factory=list)
    new_rules: list[CodeMapping] = field(default_factory=list)
    culprit: StackFrame | None = None
    culprit_file: str | None = None
    files: list[RelevantCodeFile] = field(default_factory=list)
    culprit_snippet: Snippet | None = None
    suspects: list[SuspectCommit] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)


async def _pick_commit(parsed: ParsedLog, repo: RepoContext, code: _Code) -> str | None:
    if repo.ref:
        sha = await repo.source.resolve(repo.ref)
        code.commit = CommitRef(sha=sha, source="request", ref=repo.ref)
        return sha
    if parsed.commit:
        try:
            sha = await repo.source.resolve(parsed.commit)
        except SourceError as exc:
            if exc.transient:
                raise
            code.limitations.append(
                f"The log names commit {parsed.commit}, which {repo.name} does not have "
                f"({exc}); the code shown is from the head of {repo.default_branch} instead."
            )
        else:
            code.commit = CommitRef(sha=sha, source="log", ref=parsed.commit)
            return sha
    sha = await repo.source.resolve(repo.default_branch)
    code.commit = CommitRef(sha=sha, source="default_branch", ref=repo.default_branch)
    if not parsed.commit:
        code.limitations.append(
            f"The log names no commit or release; the code shown is from the head of "
            f"{repo.default_branch}, which may differ from what was running."
        )
    return sha


async def _read_code(parsed: ParsedLog, repo: RepoContext, code: _Code) -> None:
    sha = await _pick_commit(parsed, repo, code)
    if sha is None:
        return
    in_app = [f for f in parsed.frames if f.in_app and f.file]
    if not in_app:
        return
    tree = await repo.source.list_paths(sha)
    index = RepoIndex.build(tree)
    matches, code.new_rules = map_paths((f.file or "" for f in in_app), index, repo.learned)
    code.mapping = [
        FrameMapping(frame_path=m.frame_path, repo_path=m.repo_path, method=m.method)
        for m in matches.values()
    ]
    mapped = [(f, matches[f.file or ""].repo_path) for f in in_app]
    mapped_frames = [(f, path) for f, path in mapped if path]
    if not mapped_frames:
        code.limitations.append(
            "No in-app frame matched a file of the repository (see code_mapping for why)."
        )
        return
    # The culprit: the parsed culprit if it maps, else the first mapped frame in the same
    # order of preference (root exception, innermost first).
    preferred = parsed.culprit
    order = sorted(
        mapped_frames,
        key=lambda fp: (fp[0] is not preferred, _distance(parsed, fp[0], preferred)),
    )
    code.culprit, code.culprit_file = order[0]
    files: dict[str, list[StackFrame]] = {}
    for frame, path in order:
        if path is not None and (path in files or len(files) < MAX_FILES):
            files.setdefault(path, []).append(frame)
    # The files are independent reads: in flight together (the provider bounds concurrency).
    contents = await asyncio.gather(*(repo.source.read(path, sha) for path in files))
    for rank, ((path, frames), content) in enumerate(zip(files.items(), contents, strict=True)):
        snippets: list[Snippet] = []
        seen_lines: set[int] = set()
        for frame in frames:
            if frame.line is None or frame.line in seen_lines:
                continue
            seen_lines.add(frame.line)
            cut = snippet(content, frame.line)
            if cut is not None and len(snippets) < MAX_SNIPPETS_PER_FILE:
                snippets.append(cut)
            if frame is code.culprit and cut is not None:
                code.culprit_snippet = cut
        first = frames[0]
        code.files.append(
            RelevantCodeFile(
                file_path=path,
                size_kb=round(len(content) / 1024, 2),
                snippets=snippets,
                relevance_score=round(max(1.0 - 0.15 * rank, 0.1), 2),
                selection_reason=(
                    "the culprit: innermost frame of the application's own code"
                    if rank == 0
                    else "a caller in the stack trace"
                )
                + (f" ({first.function}, line {first.line})" if first.function else ""),
            )
        )
    await _suspects(repo, code, sha)


def _distance(parsed: ParsedLog, frame: StackFrame, preferred: StackFrame | None) -> int:
    """Frames closer to the preferred culprit (same exception, nearer the innermost) first."""
    frames = parsed.frames
    position = next(i for i, f in enumerate(frames) if f is frame)
    if preferred is None:
        return position
    anchor = next(i for i, f in enumerate(frames) if f is preferred)
    # Python prints the innermost frame last: walk outwards backwards.
    outward = anchor - position if parsed.language == "python" else position - anchor
    return outward if outward >= 0 else 10_000 - outward


async def _suspects(repo: RepoContext, code: _Code, sha: str) -> None:
    """Commits to the culprit file within a year, newest first. The one that last changed the
    culprit line comes from blame where the provider has it (one request); otherwise the
    diffs of the newest few commits are checked against the line."""
    path = code.culprit_file
    if path is None:
        return
    since = datetime.now(UTC) - SUSPECT_WINDOW
    line = code.culprit.line if code.culprit else None
    blamed, commits = await asyncio.gather(
        repo.source.blame(path, sha, line) if line is not None else _nothing(),
        repo.source.path_commits(path, sha, since, MAX_SUSPECTS),
    )
    if blamed is not None and blamed.sha not in {c.sha for c in commits}:
        blamed_date = datetime.fromisoformat(blamed.date) if blamed.date else None
        if blamed_date is None or blamed_date >= since:
            commits.append(blamed)
    for i, commit in enumerate(commits[: MAX_SUSPECTS + 1]):
        commit.reason = f"changed {path}"
        if blamed is not None:
            commit.touches_culprit_line = commit.sha == blamed.sha
        elif line is not None and i < DIFF_CHECKS:
            ranges = await repo.source.changed_lines(commit.sha, path)
            commit.touches_culprit_line = bool(
                ranges and any(start - 3 <= line <= end + 3 for start, end in ranges)
            )
        if commit.touches_culprit_line:
            how = "last changed" if blamed is not None else "changed"
            commit.reason = f"{how} {path} around line {line}"
        code.suspects.append(commit)


async def _nothing() -> None:
    return None


def _summary(parsed: ParsedLog, culprit: StackFrame | None, culprit_file: str | None) -> str:
    where = ""
    if culprit is not None and culprit.file:
        location = culprit_file or culprit.file
        where = f" at {location}:{culprit.line}" if culprit.line else f" in {location}"
    service = f" in {parsed.service}" if parsed.service else ""
    message = parsed.error_message or parsed.message or "see the error lines of the log"
    return f"{parsed.error_type or 'An error'}{where}{service}: {' '.join(message.split())[:500]}"


async def diagnose(
    log_data: dict[str, Any],
    *,
    repo: RepoContext | None = None,
    diagnoser: Diagnoser | None = None,
    no_repository: str | None = None,
) -> EngineResult:
    """Diagnose the ``log_data`` object of a diagnose request (as stored on the report).

    Raises ``SourceError`` only for transient repository failures (worth a retry); anything
    else the repository refuses is written into the report's limitations, as is
    ``no_repository``: why there is no repository to read, when the caller knows.
    """
    clock = _Clock()
    metadata = log_data.get("metadata")
    # Parsing is CPU-bound (up to a few MiB of text): off the event loop.
    parsed = await asyncio.to_thread(
        parse_log,
        log_data.get("content", ""),
        source=log_data.get("source"),
        metadata=metadata if isinstance(metadata, dict) else None,
    )
    clock.lap("parse")
    code = _Code(culprit=parsed.culprit)
    if repo is None:
        code.limitations.append(
            (no_repository or "No repository is connected.")
            + " Frames were not mapped to files and no code or suspect commits were read."
        )
    else:
        try:
            await _read_code(parsed, repo, code)
        except SourceError as exc:
            if exc.transient:
                raise
            code.limitations.append(f"The repository could not be read: {exc}")
    clock.lap("repository")
    verdict = classify(parsed, code.culprit_snippet)
    clock.lap("classify")
    report = _assemble(parsed, code, verdict)
    if diagnoser is not None:
        await _explain(report, parsed, code, verdict, diagnoser)
        clock.lap("diagnoser")
    report.timings_ms = clock.total()
    report.provider_requests = repo.source.requests if repo is not None else 0
    return EngineResult(report=report, new_mappings=code.new_rules)


def _assemble(parsed: ParsedLog, code: _Code, verdict: Classification) -> DiagnosisReport:
    frames_note = (
        f"{len(parsed.frames)} stack frame(s) extracted, "
        f"{sum(f.in_app for f in parsed.frames)} of them in the application's own code."
        if parsed.frames
        else "The log carries no stack trace."
    )
    mapped = sum(1 for m in code.mapping if m.repo_path)
    mapping_note = (
        f"{mapped} of {len(code.mapping)} in-app frame path(s) matched repository files."
        if code.mapping
        else ""
    )
    suspects_note = (
        f"{len(code.suspects)} commit(s) changed {code.culprit_file} in the last year"
        + (
            f"; {sum(c.touches_culprit_line for c in code.suspects)} near the culprit line."
            if code.suspects
            else "."
        )
        if code.culprit_file
        else ""
    )
    return DiagnosisReport(
        title=_title(parsed),
        error_type=parsed.error_type,
        summary=_summary(parsed, code.culprit, code.culprit_file),
        root_cause=verdict.root_cause,
        error_analysis=" ".join(
            p
            for p in (
                f"Log format: {parsed.format}.",
                frames_note,
                mapping_note,
                suspects_note,
                *verdict.evidence,
            )
            if p
        ),
        recommendations=verdict.recommendations,
        confidence_score=verdict.confidence,
        relevant_code_files=code.files,
        category=verdict.category,
        log=parsed,
        frames=parsed.frames,
        culprit=code.culprit,
        culprit_file=code.culprit_file,
        code_mapping=code.mapping,
        fingerprint=fingerprint(parsed),
        commit=code.commit
        or (CommitRef(sha=parsed.commit, source="log") if parsed.commit else None),
        suspect_commits=code.suspects,
        diagnoser=DiagnoserInfo(name="heuristic"),
        limitations=code.limitations,
    )


async def _explain(
    report: DiagnosisReport,
    parsed: ParsedLog,
    code: _Code,
    verdict: Classification,
    diagnoser: Diagnoser,
) -> None:
    context = DiagnosisContext(
        log=parsed,
        excerpt=_excerpt(parsed),
        culprit=code.culprit,
        code=code.files,
        suspect_commits=code.suspects,
        baseline=verdict,
    )
    try:
        answer = await diagnoser.diagnose(context)
    except DiagnoserError as exc:
        report.diagnoser = DiagnoserInfo(name="heuristic", fallback_from=diagnoser.name)
        report.limitations.append(
            f"The {diagnoser.name} diagnoser failed ({exc}); this is the heuristic diagnosis."
        )
        return
    report.title = answer.title[:TITLE_LIMIT]
    report.summary = answer.summary
    report.root_cause = answer.root_cause
    report.error_analysis = answer.error_analysis
    report.recommendations = answer.recommendations
    report.confidence_score = answer.confidence
    report.category = answer.category
    report.diagnoser = answer.diagnoser
    report.usage = answer.usage
