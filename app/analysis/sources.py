"""Code sources for the engine: a local checkout read with git plumbing, and a memo layer.

``GitCheckoutSource`` reads an existing checkout with ``git rev-parse``, ``ls-tree``,
``cat-file``, ``log`` and ``diff`` — never clone, fetch or pull — for single-tenant local use
and the ``logdawg diagnose`` command. Every path it is asked for comes from the tree listing
(the mapping step only returns listed paths) and is passed to git as ``<sha>:<path>``, so
nothing outside the repository is ever read.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

from app.analysis.engine import SourceError
from app.analysis.report import SuspectCommit

MAX_FILE_BYTES = 2 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
_SEP = "\x1f"


class GitCheckoutSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._requests = 0

    @property
    def requests(self) -> int:
        return self._requests

    async def _git(self, *args: str, limit: int = 64 * 1024 * 1024) -> bytes:
        self._requests += 1
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(self.root),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip().splitlines()
            raise SourceError(
                f"git {args[0]} failed: {message[-1] if message else proc.returncode}",
                transient=False,
            )
        return out[:limit]

    async def resolve(self, ref: str) -> str:
        if ref.startswith("-") or not ref:
            raise SourceError(f"{ref!r} is not a ref", transient=False)
        try:
            out = await self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except SourceError:
            out = b""
        sha = out.decode().strip()
        if not _SHA.match(sha):
            raise SourceError(f"ref {ref!r} not found", transient=False)
        return sha

    async def list_paths(self, sha: str) -> dict[str, int | None]:
        out = await self._git("ls-tree", "-r", "-l", "-z", "--full-tree", sha)
        paths: dict[str, int | None] = {}
        for entry in out.split(b"\x00"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            fields = meta.split()
            if len(fields) >= 4 and fields[1] == b"blob":
                size = fields[3].decode()
                paths[path.decode(errors="replace")] = int(size) if size.isdigit() else None
        return paths

    async def read(self, path: str, sha: str) -> bytes:
        return await self._git("cat-file", "blob", f"{sha}:{path}", limit=MAX_FILE_BYTES)

    async def path_commits(
        self, path: str, sha: str, since: datetime, limit: int
    ) -> list[SuspectCommit]:
        fmt = _SEP.join(["%H", "%an", "%aI", "%s"]) + "\x1e"
        out = await self._git(
            "log",
            f"--max-count={limit}",
            f"--since={since.isoformat()}",
            f"--format={fmt}",
            sha,
            "--",
            path,
        )
        commits = []
        for record in out.decode(errors="replace").split("\x1e"):
            parts = record.strip().split(_SEP)
            if len(parts) == 4:
                commits.append(
                    SuspectCommit(
                        sha=parts[0], author=parts[1], date=parts[2], message=parts[3], files=[path]
                    )
                )
        return commits

    async def changed_lines(self, commit_sha: str, path: str) -> list[tuple[int, int]] | None:
        out = await self._git(
            "show", "--format=", "--unified=0", "--no-color", commit_sha, "--", path
        )
        return hunk_ranges(out.decode(errors="replace"))


def hunk_ranges(diff: str) -> list[tuple[int, int]]:
    """New-file line ranges a unified diff changed (``@@ -a,b +c,d @@`` → ``(c, c+d-1)``).
    A pure deletion (``d`` = 0) is the line it happened before."""
    ranges = []
    for m in _HUNK.finditer(diff):
        start = int(m.group(1))
        count = int(m.group(2)) if m.group(2) is not None else 1
        ranges.append((start, start + max(count, 1) - 1))
    return ranges
