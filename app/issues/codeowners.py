"""CODEOWNERS: who owns a file.

GitHub reads the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``; the
same paths are read for Azure DevOps repositories. Each line is a pattern and its owners
(``@user``, ``@org/team`` or an e-mail address); ``#`` starts a comment. Patterns follow
gitignore's rules as GitHub applies them: a pattern with a slash at its start or in its
middle is anchored at the repository root, otherwise it matches at any depth; a trailing
slash matches a directory (and everything under it); ``*`` stays within one path segment,
``**`` crosses them; ``dir/*`` matches the files directly in ``dir`` only. The LAST matching
line decides, and a matching line without owners means the file has none. GitHub does not
support ``!`` negation or ``[ ]`` ranges, so neither do we (such lines never match).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
# GitHub ignores a CODEOWNERS file over 3 MB.
MAX_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str] | None


def _segment(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The regular expression of one CODEOWNERS pattern, matched against a file path relative
    to the repository root (no leading slash). None for what GitHub does not support."""
    if not pattern or pattern.startswith("!") or "[" in pattern.replace("\\[", ""):
        return None
    directory = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = body.startswith("/") or "/" in body
    body = body.lstrip("/")
    if not body:
        return None
    parts = body.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            # Leading or inner "**/": any number of directories; a trailing "/**": anything.
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _segment(part) + ("" if last else "/")
    prefix = "^" if anchored else "^(?:.*/)?"
    if directory:
        suffix = "/.*$"
    elif body.endswith("/*") or parts[-1] == "**":
        suffix = "$"  # files directly under the directory (GitHub's ``docs/*``), or all
    else:
        suffix = "(?:/.*)?$"  # the file itself, or everything under a directory of that name
    return re.compile(prefix + regex + suffix)


def parse(text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = line.split()
        pattern = tokens[0].replace("\\#", "#")
        owners: list[str] = []
        for token in tokens[1:]:
            if token.startswith("#"):
                break  # an inline comment
            owners.append(token)
        rules.append(Rule(pattern=pattern, owners=tuple(owners), regex=compile_pattern(pattern)))
    return rules


def owners_of(rules: Iterable[Rule], path: str) -> list[str]:
    """The owners of ``path``: those of the last rule that matches it."""
    path = path.lstrip("/")
    found: tuple[str, ...] = ()
    for rule in rules:
        if rule.regex is not None and rule.regex.match(path):
            found = rule.owners
    return list(found)


_NOREPLY = re.compile(r"^(?:\d+\+)?([a-z0-9-]+)@users\.noreply\.github\.com$", re.I)


def owner_matches_email(owner: str, email: str) -> bool:
    """Whether a CODEOWNERS owner names the person with ``email``: an e-mail owner by equality
    (case-insensitive); an ``@handle`` only through GitHub's no-reply address
    (``handle@users.noreply.github.com`` or ``id+handle@...``), the one e-mail that carries
    a handle. Teams (``@org/team``) name no one person."""
    email = email.strip().lower()
    owner = owner.strip().lower()
    if not email or not owner:
        return False
    if owner.startswith("@"):
        handle = owner[1:]
        if "/" in handle:
            return False
        match = _NOREPLY.match(email)
        return match is not None and match.group(1).lower() == handle
    return owner == email


class RepositoryFiles(Protocol):
    """What reading CODEOWNERS needs of a repository (the engine's ``CodeSource`` has it)."""

    async def list_paths(self, sha: str) -> dict[str, int | None]: ...

    async def read(self, path: str, sha: str) -> bytes: ...


async def owners_in_repository(
    files: RepositoryFiles, sha: str, path: str
) -> tuple[str, list[str]] | None:
    """(the CODEOWNERS file read, the owners of ``path``) at commit ``sha``, or None when the
    repository has no CODEOWNERS file there. The tree listing is the one the diagnosis
    already read (cached), so a repository without the file costs no request."""
    listed = await files.list_paths(sha)
    found = next((p for p in CODEOWNERS_PATHS if p in listed), None)
    if found is None:
        return None
    size = listed.get(found)
    if size is not None and size > MAX_BYTES:
        return found, []
    text = (await files.read(found, sha)).decode("utf-8", errors="replace")
    return found, owners_of(parse(text), path)
