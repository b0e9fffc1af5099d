"""When is an occurrence of a resolved issue a regression?

An issue is resolved plainly, "in release X", or "in commit SHA". A new occurrence reopens it
when it comes from code that should have had the fix:

- resolved plainly: any new occurrence is a regression;
- resolved in release X: an occurrence from release Y regresses when Y is later than X. When
  both parse as versions (PEP 440, via ``packaging.version``: ``1.3`` > ``1.2``, ``2.0rc1`` <
  ``2.0``), that order decides. Otherwise a different release counts as later only when this
  issue first saw it after the resolution (a release it had already seen before is an old
  deployment still running). The same or an older release leaves the issue resolved. An
  occurrence that names no release cannot be placed after the fix and leaves it resolved;
- resolved in commit C: an occurrence at C itself (the fix is deployed and still fails), or at
  a commit this issue first saw after the resolution, regresses; one at a commit seen before
  the resolution (an old deployment) does not. Commits compare by prefix, so a short SHA in a
  log matches the full one. An occurrence without a commit leaves the issue resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from packaging.version import InvalidVersion, Version


@dataclass(frozen=True, slots=True)
class Resolution:
    resolved_at: datetime
    in_release: str | None = None
    in_commit: str | None = None


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _first_seen_after(first_seen: Mapping[str, datetime], key: str, moment: datetime) -> bool:
    seen = first_seen.get(key)
    return seen is None or seen > moment


def release_is_later(
    release: str, resolved_in: str, *, first_seen: Mapping[str, datetime], resolved_at: datetime
) -> bool:
    """Is ``release`` later than the release the issue was resolved in?"""
    if release == resolved_in:
        return False
    ours, theirs = _version(release), _version(resolved_in)
    if ours is not None and theirs is not None:
        return ours > theirs
    return _first_seen_after(first_seen, release, resolved_at)


def same_commit(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    if not a or not b:
        return False
    return a.startswith(b) if len(a) >= len(b) else b.startswith(a)


def is_regression(
    resolution: Resolution,
    *,
    release: str | None,
    commit: str | None,
    releases_first_seen: Mapping[str, datetime],
    commits_first_seen: Mapping[str, datetime],
) -> bool:
    """Does an occurrence from ``release``/``commit`` reopen an issue resolved as
    ``resolution``? The first-seen maps are the issue's history *before* this occurrence."""
    if resolution.in_release:
        if not release:
            return False
        return release_is_later(
            release,
            resolution.in_release,
            first_seen=releases_first_seen,
            resolved_at=resolution.resolved_at,
        )
    if resolution.in_commit:
        if not commit:
            return False
        if same_commit(commit, resolution.in_commit):
            return True
        known = {k: v for k, v in commits_first_seen.items() if same_commit(k, commit)}
        return all(seen > resolution.resolved_at for seen in known.values())
    return True
