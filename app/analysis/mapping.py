"""Mapping stack-frame paths to files of the repository.

A frame names a path as the running program saw it (``/app/src/shop/cart.py``,
``C:\\build\\src\\Cart.cs``, ``webpack:///./src/cart.ts``); the repository lists paths from its
root (``src/shop/cart.py``). They are matched on trailing path segments: the repository file that
shares the most trailing segments with the frame wins, and only when no other file shares as
many — an ambiguous frame stays unmapped rather than pointing at the wrong file. Each accepted
match teaches a stack-root → source-root rule (``/app/`` → ``""``) that later frames, and later
diagnoses of the same repository, apply directly.

Only paths that the repository listing contains are ever returned, so a frame pointing at
``../../etc/passwd`` or outside the repository maps to nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):/*")
# Bundler schemes whose paths are relative to the project, however many slashes follow.
_PROJECT_SCHEMES = {"webpack", "webpack-internal", "app", "ng", "vite"}
_DRIVE = re.compile(r"^[a-zA-Z]:/")


@dataclass(frozen=True)
class CodeMapping:
    """``stack_root`` (a prefix of frame paths) corresponds to ``source_root`` in the repo."""

    stack_root: str
    source_root: str

    def apply(self, frame_path: str) -> str | None:
        if not frame_path.startswith(self.stack_root):
            return None
        return self.source_root + frame_path[len(self.stack_root) :]


@dataclass(frozen=True)
class FrameMatch:
    frame_path: str
    repo_path: str | None
    # "learned" (a known root rule), "suffix" (unique trailing-segment match), or why not.
    method: str
    matched_segments: int = 0


def normalise_frame_path(raw: str) -> str:
    """The frame's path with URL schemes, drive letters, backslashes and ``./`` removed."""
    path = raw.strip().replace("\\", "/")
    absolute = path.startswith("/")
    if _DRIVE.match(path):
        path, absolute = path[2:], True
    elif scheme := _SCHEME.match(path):
        name = scheme.group(1).lower()
        absolute = name == "file"
        path = path[scheme.end() :]
        if name not in ("file", *_PROJECT_SCHEMES):
            path = path.split("?", 1)[0].split("#", 1)[0]
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return ("/" if absolute else "") + "/".join(parts)


def _segments(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


@dataclass
class RepoIndex:
    """The repository tree, indexed by file name for suffix matching."""

    paths: frozenset[str]
    by_name: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, paths: Iterable[str]) -> RepoIndex:
        clean = frozenset(p.strip("/") for p in paths if p and not p.endswith("/"))
        by_name: dict[str, list[str]] = defaultdict(list)
        for path in clean:
            by_name[path.rsplit("/", 1)[-1]].append(path)
        return cls(paths=clean, by_name=dict(by_name))


def _common_suffix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _learn(frame_path: str, repo_path: str, matched: int) -> CodeMapping:
    frame_segments = _segments(frame_path)
    repo_segments = _segments(repo_path)
    stack_prefix = frame_segments[: len(frame_segments) - matched]
    source_prefix = repo_segments[: len(repo_segments) - matched]
    stack_root = ("/" if frame_path.startswith("/") else "") + "".join(
        s + "/" for s in stack_prefix
    )
    return CodeMapping(stack_root=stack_root, source_root="".join(s + "/" for s in source_prefix))


def match_frame(
    raw_path: str, index: RepoIndex, learned: Sequence[CodeMapping] = ()
) -> tuple[FrameMatch, CodeMapping | None]:
    """Match one frame path; also returns the rule this match teaches, if it is new."""
    path = normalise_frame_path(raw_path)
    segments = _segments(path)
    if not segments or ".." in segments:
        return FrameMatch(raw_path, None, "unsafe or empty path"), None
    for rule in learned:
        candidate = rule.apply(path)
        if candidate is not None and candidate.strip("/") in index.paths:
            return FrameMatch(raw_path, candidate.strip("/"), "learned", len(segments)), None
    candidates = index.by_name.get(segments[-1], [])
    if not candidates:
        return FrameMatch(raw_path, None, "no file of that name in the repository"), None
    scored = sorted(((_common_suffix(segments, _segments(c)), c) for c in candidates), reverse=True)
    best, repo_path = scored[0]
    if len(scored) > 1 and scored[1][0] == best:
        tied = sum(1 for s, _ in scored if s == best)
        return FrameMatch(raw_path, None, f"ambiguous: {tied} files match equally"), None
    rule = _learn(path, repo_path, best)
    return FrameMatch(raw_path, repo_path, "suffix", best), rule


def map_paths(
    raw_paths: Iterable[str], index: RepoIndex, learned: Sequence[CodeMapping] = ()
) -> tuple[dict[str, FrameMatch], list[CodeMapping]]:
    """Map every distinct frame path. Returns the matches and the rules learned on the way
    (already-known rules are not repeated). A frame that was ambiguous on its own is tried
    again once the other frames have taught a rule (``/app/utils.py`` is ambiguous until
    ``/app/shop/cart.py`` shows that ``/app/`` is the repository root)."""
    rules = list(learned)
    new_rules: list[CodeMapping] = []
    matches: dict[str, FrameMatch] = {}
    for raw in raw_paths:
        if raw in matches:
            continue
        found, rule = match_frame(raw, index, rules)
        matches[raw] = found
        if rule is not None and rule not in rules and (rule.stack_root or rule.source_root):
            rules.insert(0, rule)
            new_rules.append(rule)
    if new_rules:
        for raw, found in matches.items():
            if found.repo_path is None:
                retried, _ = match_frame(raw, index, new_rules)
                if retried.method == "learned":
                    matches[raw] = retried
    return matches, new_rules


def mappings_from_rows(rows: Iterable[Mapping[str, str]]) -> list[CodeMapping]:
    return [CodeMapping(stack_root=r["stack_root"], source_root=r["source_root"]) for r in rows]
