"""Hunks out of unified diffs, and a line followed back through them."""

from __future__ import annotations

import re
from typing import NamedTuple

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


class Hunk(NamedTuple):
    """One changed block of a file's diff, in unified-diff numbering: the old file's lines
    ``old_start``.. (``old_count`` of them) became the new file's ``new_start``..
    (``new_count``). A count of 0 is an insertion or a deletion *after* the start line."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


def hunks(diff: str) -> list[Hunk]:
    """The hunks of a unified diff of one file (``@@ -a,b +c,d @@``; a missing count is 1)."""
    return [
        Hunk(
            int(m.group(1)),
            int(m.group(2)) if m.group(2) is not None else 1,
            int(m.group(3)),
            int(m.group(4)) if m.group(4) is not None else 1,
        )
        for m in _HUNK.finditer(diff)
    ]


def trace_line_back(changes: list[Hunk], line: int) -> int | None:
    """Follow ``line`` of the file after a commit back to the file before it: None when the
    commit changed (or wrote) that line, else the line's number before the commit."""
    shift = 0
    for hunk in sorted(changes, key=lambda h: h.new_start):
        if hunk.new_count > 0:
            end = hunk.new_start + hunk.new_count - 1
            if hunk.new_start <= line <= end:
                return None
            if end >= line:
                break
        elif hunk.new_start >= line:
            break  # a deletion after this line leaves it in place
        shift += hunk.new_count - hunk.old_count
    return line - shift
