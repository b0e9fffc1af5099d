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
import re
import time
from collections.abc import Awaitable, Callable, Sequence
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
from app.git.diffs import Hunk, trace_line_back

TITLE_LIMIT = 160
MAX_FILES = 5
MAX_SNIPPETS_PER_FILE = 3
MAX_SUSPECTS = 5
# Without blame: how many of the newest commits to a file get their diff read to find the one
# that last changed a line (one request each).
DIFF_CHECKS = 3
# How many of the innermost application frames are weighed as the culprit.
CULPRIT_CANDIDATES = 3
# Directories of code copied into a repository from elsewhere: treated like library frames.
VENDORED_DIRS = frozenset(
    {
        "_vendor",
        "vendor",
        "vendored",
        "third_party",
        "thirdparty",
        "third-party",
        "external",
        "extern",
    }
)
_LICENCE_FILE = re.compile(r"^(?:LICEN[CS]E|COPYING|COPYRIGHT)(?:[.-][\w.]+)?$", re.IGNORECASE)
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

    async def changed_lines(self, commit_sha: str, path: str) -> list[Hunk] | None: ...

    async def blame(self, path: str, sha: str, line: int) -> SuspectCommit | None: ...


@dataclass
class RepoContext:
    source: CodeSource
    default_branch: str
    learned: Sequence[CodeMapping] = ()
    # A ref asked for explicitly (the CLI's --ref); otherwise the log's commit or the branch.
    ref: str | None = None
    name: str = "the repository"
    # The caller named this repository itself (the terminal command): what it cannot read is
    # an error for the caller, not a limitation in the report.
    strict: bool = False


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
    culprit_reason: str | None = None
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
    # Application frames, and frames of vendored code that the repository may hold.
    in_app = [f for f in parsed.frames if f.file and (f.in_app or _is_vendored(f.file))]
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
    mapped_frames = [(f, path) for f, path in mapped if path is not None]
    if not mapped_frames:
        code.limitations.append(
            "No in-app frame matched a file of the repository (see code_mapping for why)."
        )
        return
    # Innermost first: the crash site, then its callers outwards (root exception first).
    order = _innermost_first(parsed, mapped_frames)
    vendored = _vendored_roots(tree, [path for _, path in order])
    own = [(f, p) for f, p in order if not _is_vendored(p, vendored)]
    history = _History(repo, sha)
    crash = order[0]
    reads: dict[str, asyncio.Task[bytes]] = {}

    def read(path: str) -> asyncio.Task[bytes]:
        if path not in reads:
            reads[path] = asyncio.ensure_future(repo.source.read(path, sha))
        return reads[path]

    culprit, reason = await _choose_culprit(
        own or order, crash, history, vendored, parsed.error_message, read
    )
    code.culprit, code.culprit_file = culprit
    code.culprit_reason = reason
    # The files: the culprit's, the crash site's (kept in view when it is not the culprit),
    # then the other frames' in order.
    ranked = [culprit, crash, *[fp for fp in order if fp[0] not in (culprit[0], crash[0])]]
    files: dict[str, list[StackFrame]] = {}
    for frame, path in ranked:
        if path is not None and (path in files or len(files) < MAX_FILES):
            files.setdefault(path, []).append(frame)
    # The files are independent reads: in flight together (the provider bounds concurrency).
    contents = await asyncio.gather(*(read(path) for path in files))
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
        if rank == 0:
            why = f"the culprit: {reason}"
        elif first is crash[0]:
            kind = "vendored code" if _is_vendored(path, vendored) else "the application"
            why = f"the crash site, in {kind}: where the error was raised"
        else:
            why = "a caller in the stack trace"
        code.files.append(
            RelevantCodeFile(
                file_path=path,
                size_kb=round(len(content) / 1024, 2),
                snippets=snippets,
                relevance_score=round(max(1.0 - 0.15 * rank, 0.1), 2),
                selection_reason=why
                + (f" ({first.function}, line {first.line})" if first.function else ""),
            )
        )
    await _suspects(history, code)


def _vendored_roots(tree: dict[str, int | None], mapped: list[str]) -> set[str]:
    """Directories holding code copied from elsewhere: the conventional names, and any
    directory below the root with its own licence file — unless every mapped frame lies in
    it (then it is the application itself, e.g. one package of a monorepo)."""
    roots: set[str] = set()
    for path in tree:
        directory, _, name = path.rpartition("/")
        if directory and _LICENCE_FILE.match(name):
            roots.add(directory + "/")
    return {r for r in roots if not all(p.startswith(r) for p in mapped)}


def _is_vendored(path: str, licensed_roots: frozenset[str] | set[str] = frozenset()) -> bool:
    parts = path.replace("\\", "/").split("/")[:-1]
    if any(part.lower() in VENDORED_DIRS for part in parts):
        return True
    return any(path.startswith(root) for root in licensed_roots)


class _History:
    """When each line last changed, read once per diagnosis: blame where the provider has it
    (one request), else the newest commits to the file with the line followed back through
    each diff until the commit that changed it."""

    def __init__(self, repo: RepoContext, sha: str) -> None:
        self.repo = repo
        self.sha = sha
        self.since = datetime.now(UTC) - SUSPECT_WINDOW
        self._commits: dict[str, asyncio.Task[list[SuspectCommit]]] = {}
        self._lines: dict[tuple[str, int, datetime | None], asyncio.Task[SuspectCommit | None]] = {}
        self.by_diffs = False
        # Without blame, a line not changed by the newest commits read last changed before
        # the oldest of them: that commit's date bounds it.
        self.bounds: dict[tuple[str, int], datetime] = {}

    def commits(self, path: str) -> asyncio.Task[list[SuspectCommit]]:
        if path not in self._commits:
            self._commits[path] = asyncio.ensure_future(
                self.repo.source.path_commits(path, self.sha, self.since, MAX_SUSPECTS)
            )
        return self._commits[path]

    def last_change(
        self, path: str, line: int, newer_than: datetime | None = None
    ) -> asyncio.Task[SuspectCommit | None]:
        """The commit that last changed ``line`` of ``path``. Without blame, ``newer_than``
        bounds the diffs read: an older change does not matter to the caller (None)."""
        key = (path, line, newer_than)
        if key not in self._lines:
            self._lines[key] = asyncio.ensure_future(self._last_change(path, line, newer_than))
        return self._lines[key]

    async def _last_change(
        self, path: str, line: int, newer_than: datetime | None
    ) -> SuspectCommit | None:
        blamed = await self.repo.source.blame(path, self.sha, line)
        if blamed is not None:
            return blamed
        self.by_diffs = True
        current: int | None = line
        for commit in (await self.commits(path))[:DIFF_CHECKS]:
            when = _when(commit)
            if newer_than is not None and (when is None or when <= newer_than):
                return None
            changes = await self.repo.source.changed_lines(commit.sha, path)
            if changes is None or current is None:
                return None
            current = trace_line_back(changes, current)
            if current is None:
                return commit.model_copy()
            if when is not None:
                self.bounds[(path, line)] = when
        return None


def _when(commit: SuspectCommit | None) -> datetime | None:
    if commit is None or not commit.date:
        return None
    try:
        when = datetime.fromisoformat(commit.date)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_QUOTED = re.compile(r"""['"`]([^'"`\s][^'"`]{0,78})['"`]""")


def _line_of(content: bytes, line: int) -> str:
    lines = content.decode("utf-8", errors="replace").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


async def _choose_culprit(
    own: list[tuple[StackFrame, str]],
    crash: tuple[StackFrame, str],
    history: _History,
    vendored: set[str],
    message: str | None,
    read: Callable[[str], Awaitable[bytes]],
) -> tuple[tuple[StackFrame, str], str]:
    """The innermost application frame, unless a caller's line changed more recently than
    it: a crash inside a helper that has not changed is usually fixed in the caller that
    started passing it a bad value. When the history cannot tell them apart (no dates, or the
    same), a caller whose line passes the value the error message names is preferred."""
    first = own[0]
    where = f"{crash[1]}:{crash[0].line}"
    if first[0] is crash[0]:
        base = "the innermost frame of the application's own code, where the error was raised"
    elif crash[1] and _is_vendored(crash[1], vendored):
        base = f"the innermost application frame; the error was raised in vendored code ({where})"
    else:
        base = f"the innermost application frame; the error was raised in library code ({where})"
    seen: set[tuple[str, int]] = set()
    candidates: list[tuple[StackFrame, str]] = []
    # The error's own stack: the innermost few frames. A sanitizer's other stacks (where the
    # memory was allocated or freed): their innermost two, as likely a place for the bug.
    quota = {None: CULPRIT_CANDIDATES, "allocated": 2, "freed": 2}
    for frame, path in own:
        if path is None or frame.line is None or (path, frame.line) in seen:
            continue
        if quota.get(frame.stack, 0) == 0:
            continue
        quota[frame.stack] = quota.get(frame.stack, 0) - 1
        seen.add((path, frame.line))
        candidates.append((frame, path))
    if len(candidates) < 2 or candidates[0][0] is not first[0]:
        return first, base
    # The crash site's line first: a caller matters only if its line changed after that.
    crash_path, crash_line = candidates[0][1], candidates[0][0].line or 0
    crash_change = await history.last_change(crash_path, crash_line)
    # Known exactly, or (without blame) known to be no newer than a bound.
    crash_date = _when(crash_change) or history.bounds.get((crash_path, crash_line))
    changes = [
        crash_change,
        *await asyncio.gather(
            *(history.last_change(p, f.line or 0, crash_date) for f, p in candidates[1:])
        ),
    ]
    dates = [_when(c) for c in changes]
    best, best_date = 0, crash_date
    for index in range(1, len(candidates)):
        date = dates[index]
        if date is not None and (best_date is None or date > best_date):
            best, best_date = index, date
    if best == 0:
        named = await _passes_named_value(candidates, dates, message, read)
        if named is not None:
            index, value = named
            frame, path = candidates[index]
            return (frame, path), (
                f"the caller whose line passes {value!r}, the value the error names; the error "
                f"surfaced deeper, at {candidates[0][1]}:{candidates[0][0].line}, and the "
                "history does not tell the two apart"
            )
        return first, base
    frame, path = candidates[best]
    chosen = changes[best]
    assert chosen is not None
    before = (
        f"last changed {crash_change.date[:10]}"
        if crash_change is not None and crash_change.date
        else "not changed in the history read"
    )
    role = (
        f"the frame where the memory was {frame.stack}"
        if frame.stack
        else "the caller whose line changed most recently"
    )
    reason = (
        f"{role} ({chosen.sha[:8]} on "
        f"{(chosen.date or '')[:10]}: {chosen.message!r}); the error surfaced deeper, at "
        f"{candidates[0][1]}:{candidates[0][0].line}, whose line was {before}"
    )
    return (frame, path), reason


async def _passes_named_value(
    candidates: list[tuple[StackFrame, str]],
    dates: list[datetime | None],
    message: str | None,
    read: Callable[[str], Awaitable[bytes]],
) -> tuple[int, str] | None:
    """The first caller whose line holds a value quoted in the error message when the crash
    site's line does not, among callers the history does not place before the crash site."""
    values = [v for v in _QUOTED.findall(message or "") if len(v.strip()) >= 2]
    if not values:
        return None
    texts = [
        _line_of(content, frame.line or 0)
        for (frame, _), content in zip(
            candidates, await asyncio.gather(*(read(p) for _, p in candidates)), strict=True
        )
    ]
    if any(v in texts[0] for v in values):
        return None
    for index in range(1, len(candidates)):
        unknown = dates[0] is None and dates[index] is None
        same_age = unknown or (dates[index] is not None and dates[index] == dates[0])
        found = next((v for v in values if v in texts[index]), None)
        if same_age and found is not None:
            return index, found
    return None


async def _suspects(history: _History, code: _Code) -> None:
    """Commits that changed the culprit file within a year, newest first; the one that last
    changed the culprit line is flagged — exactly one, from blame or from following the line
    back through the newest diffs."""
    path = code.culprit_file
    if path is None:
        return
    line = code.culprit.line if code.culprit else None
    commits = list(await history.commits(path))
    flagged = await history.last_change(path, line) if line is not None else None
    if flagged is not None and flagged.sha not in {c.sha for c in commits}:
        flagged_date = _when(flagged)
        if flagged_date is None or flagged_date >= history.since:
            commits.append(flagged)
    for commit in commits[: MAX_SUSPECTS + 1]:
        commit = commit.model_copy()
        commit.reason = f"changed {path}"
        commit.touches_culprit_line = flagged is not None and commit.sha == flagged.sha
        if commit.touches_culprit_line:
            commit.reason = f"last changed {path} line {line}"
        code.suspects.append(commit)
    if line is not None and flagged is None and history.by_diffs:
        code.limitations.append(
            f"The commit that last changed {path} line {line} is older than the "
            f"{DIFF_CHECKS} newest commits to the file read without blame."
        )


def _innermost_first(
    parsed: ParsedLog, frames: list[tuple[StackFrame, str]]
) -> list[tuple[StackFrame, str]]:
    """The mapped frames from the crash site outwards: the root exception's stack first (the
    parsed culprit's), a sanitizer's allocation/free stacks after the error's own."""
    anchor = parsed.culprit or frames[0][0]
    position = {id(f): i for i, f in enumerate(parsed.frames)}
    # Python prints the innermost frame last, everything else first.
    sign = -1 if parsed.language == "python" else 1

    def key(fp: tuple[StackFrame, str]) -> tuple[bool, bool, int]:
        frame = fp[0]
        return (
            frame.exception_index != anchor.exception_index,
            frame.stack is not None,
            sign * position.get(id(frame), 0),
        )

    return sorted(frames, key=key)


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
    if parsed.fields.get("alert_results") == "not included":
        code.limitations.append(
            "The alert carries its log query and a link to the results, not the result rows: "
            "submit the rows (the query's output, e.g. the Application Insights exceptions "
            "with their details) to diagnose the error itself."
        )
    if repo is None:
        code.limitations.append(
            (no_repository or "No repository is connected.")
            + " Frames were not mapped to files and no code or suspect commits were read."
        )
    else:
        try:
            await _read_code(parsed, repo, code)
        except SourceError as exc:
            if exc.transient or repo.strict:
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
        selection_reason=code.culprit_reason,
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
