"""A local checkout read with git plumbing: ``rev-parse``, ``ls-tree``, ``cat-file``, ``log``,
``show``. Never clone, fetch or pull. Only for single-tenant local use (a worker serving many
tenants has no business reading its own disk) and the ``logdawg diagnose`` command.

Files are read as ``<sha>:<path>`` blobs, so a symlink yields its target's name and nothing
outside the repository is ever read.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from app.git.diffs import Hunk, hunks
from app.git.types import (
    CommitMeta,
    FileMeta,
    PathNotFound,
    RefNotFound,
    Refused,
    RepoRef,
    RepositoryNotFound,
    safe_path,
)

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SEP = "\x1f"
_END = "\x1e"


class GitFailed(Exception):
    pass


class LocalGitProvider:
    def __init__(self, root: Path, *, allowed: bool = True) -> None:
        if not allowed:
            raise Refused("local checkouts are read only when the platform runs single-tenant")
        self.root = root
        self._requests = 0

    def __repr__(self) -> str:
        return f"LocalGitProvider({self.root})"

    @property
    def requests(self) -> int:
        return self._requests

    async def aclose(self) -> None:
        return None

    async def _git(self, *args: str, limit: int = MAX_OUTPUT_BYTES) -> bytes:
        if not self.root.is_dir():
            raise RepositoryNotFound(f"{self.root} is not a directory")
        self._requests += 1
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(self.root),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "HOME": str(self.root),
            },
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            if lines and "not a git repository" in lines[-1]:
                raise RepositoryNotFound(f"{self.root} is not a git checkout")
            raise GitFailed(lines[-1] if lines else f"git {args[0]} exited {proc.returncode}")
        if len(out) > limit:
            raise Refused(f"git {args[0]} produced more than {limit} bytes")
        return out

    async def resolve_ref(self, repo: RepoRef, ref: str) -> str:
        missing = RefNotFound(f"{repo.label} has no branch, tag or commit {ref!r}")
        if not ref or ref.startswith("-") or len(ref) > 255:
            raise missing
        try:
            out = await self._git("rev-parse", "--verify", "--quiet", "--end-of-options",
                                  f"{ref}^{{commit}}")  # fmt: skip
        except GitFailed:
            raise missing from None
        sha = out.decode().strip()
        if not _FULL_SHA.match(sha):
            raise missing
        return sha

    async def _sha(self, repo: RepoRef, ref: str) -> str:
        # A full SHA is used as given (git reports it if the object is missing), as the
        # REST clients do; only names are resolved.
        return ref if _FULL_SHA.match(ref) else await self.resolve_ref(repo, ref)

    async def list_files(self, repo: RepoRef, ref: str) -> list[FileMeta]:
        sha = await self._sha(repo, ref)
        out = await self._git("ls-tree", "-r", "-l", "-z", "--full-tree", sha)
        files: list[FileMeta] = []
        for entry in out.split(b"\x00"):
            meta, _, path = entry.partition(b"\t")
            fields = meta.split()
            if len(fields) >= 4 and fields[1] == b"blob":
                size = fields[3].decode()
                files.append(
                    FileMeta(
                        path.decode(errors="replace"),
                        int(size) if size.isdigit() else None,
                        fields[2].decode(),
                    )
                )
        return files

    async def get_file_content(self, repo: RepoRef, path: str, ref: str) -> bytes:
        path = safe_path(path)
        sha = await self._sha(repo, ref)
        try:
            return await self._git("cat-file", "blob", f"{sha}:{path}", limit=MAX_FILE_BYTES)
        except GitFailed:
            raise PathNotFound(f"{repo.label} has no file {path} at {sha[:12]}") from None

    @staticmethod
    def _parse_log(out: bytes) -> list[CommitMeta]:
        commits = []
        for record in out.decode(errors="replace").split(_END):
            parts = record.strip("\n").split(_SEP)
            if len(parts) != 6:
                continue
            sha, name, email, date, parents, message = parts
            commits.append(
                CommitMeta(
                    sha=sha,
                    author_name=name,
                    author_email=email,
                    date=datetime.fromisoformat(date),
                    message=message.strip(),
                    parents=tuple(parents.split()),
                )
            )
        return commits

    _FORMAT = _SEP.join(["%H", "%an", "%ae", "%aI", "%P", "%B"]) + _END

    async def list_commits(
        self,
        repo: RepoRef,
        *,
        ref: str,
        path: str | None = None,
        since: datetime | None = None,
        limit: int = 30,
    ) -> list[CommitMeta]:
        sha = await self._sha(repo, ref)
        args = ["log", f"--max-count={max(limit, 1)}", f"--format={self._FORMAT}"]
        if since is not None:
            args.append(f"--since={since.isoformat()}")
        args += [sha, "--"]
        if path:
            args.append(safe_path(path))
        return self._parse_log(await self._git(*args))

    async def get_commit(self, repo: RepoRef, sha: str) -> CommitMeta:
        full = await self._sha(repo, sha)
        out = await self._git("show", "--no-color", "--name-only", f"--format={self._FORMAT}",
                              full)  # fmt: skip
        head, _, names = out.decode(errors="replace").partition(_END)
        commit = self._parse_log((head + _END).encode())[0]
        files = tuple(n for n in names.splitlines() if n.strip())
        return CommitMeta(**{**commit.__dict__, "files": files})

    async def blame_line(self, repo: RepoRef, sha: str, path: str, line: int) -> CommitMeta | None:
        full = await self._sha(repo, sha)
        try:
            out = await self._git("blame", "--porcelain", "-L", f"{line},{line}", full, "--",
                                  safe_path(path))  # fmt: skip
        except GitFailed:
            return None  # the file has fewer lines than the frame says
        return parse_blame(out.decode(errors="replace"))

    async def changed_lines(self, repo: RepoRef, sha: str, path: str) -> list[Hunk]:
        full = await self._sha(repo, sha)
        out = await self._git("show", "--format=", "--unified=0", "--no-color", full, "--",
                              safe_path(path))  # fmt: skip
        return hunks(out.decode(errors="replace"))


def parse_blame(porcelain: str) -> CommitMeta | None:
    """The commit of the first line of ``git blame --porcelain`` output."""
    lines = porcelain.splitlines()
    if not lines or not _FULL_SHA.match(lines[0].split(" ", 1)[0]):
        return None
    fields: dict[str, str] = {}
    for row in lines[1:]:
        if row.startswith("\t"):
            break
        key, _, value = row.partition(" ")
        fields[key] = value
    when = fields.get("author-time")
    return CommitMeta(
        sha=lines[0].split(" ", 1)[0],
        author_name=fields.get("author"),
        author_email=fields.get("author-mail", "").strip("<>") or None,
        date=datetime.fromtimestamp(int(when), UTC) if when and when.isdigit() else None,
        message=fields.get("summary", ""),
    )
