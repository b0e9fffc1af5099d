"""Line ranges out of unified diffs."""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


def hunk_ranges(diff: str) -> list[tuple[int, int]]:
    """New-file line ranges a unified diff changed (``@@ -a,b +c,d @@`` → ``(c, c+d-1)``).
    A pure deletion (``d`` = 0) is reported as the line it happened at."""
    ranges = []
    for m in _HUNK.finditer(diff):
        start = int(m.group(1))
        count = int(m.group(2)) if m.group(2) is not None else 1
        ranges.append((max(start, 1), max(start, 1) + max(count, 1) - 1))
    return ranges
