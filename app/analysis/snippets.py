"""Code snippets around a line, for the report and the model."""

from __future__ import annotations

from app.analysis.report import Snippet

CONTEXT_LINES = 6
MAX_LINE_CHARS = 400


def is_binary(content: bytes) -> bool:
    return b"\x00" in content[:8192]


def snippet(content: bytes, line: int | None, context: int = CONTEXT_LINES) -> Snippet | None:
    """Lines ``line - context`` … ``line + context`` (1-based, clamped), ``line`` highlighted.
    None for binary content or a line the file does not have."""
    if is_binary(content):
        return None
    lines = content.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return None
    if line is None or line < 1 or line > len(lines):
        return None
    start = max(1, line - context)
    end = min(len(lines), line + context)
    body = "\n".join(text[:MAX_LINE_CHARS] for text in lines[start - 1 : end])
    return Snippet(start_line=start, end_line=end, content=body, highlight_line=line)
