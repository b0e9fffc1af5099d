"""A stable fingerprint of an error: the same fault gives the same fingerprint across
deployments, hosts and requests; a different fault gives a different one.

From the exception type and the in-app frames (file name and function, not line numbers, which
move with every edit) when the log has a stack trace; otherwise from the exception type and the
message with the variable parts masked: numbers, ids, hex, UUIDs, timestamps, paths' numbers,
e-mail addresses, IPs and quoted values.
"""

from __future__ import annotations

import hashlib
import re

from app.analysis.models import ParsedLog, StackFrame

MAX_FRAMES = 8

_MASKS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
        "<ts>",
    ),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b[a-z]+-[0-9a-f]{6,}\b", re.I), "<id>"),
    (re.compile(r"'[^']{0,200}'|\"[^\"]{0,200}\""), "<str>"),
    (re.compile(r"\d+"), "<n>"),
]


def normalise_message(message: str) -> str:
    """``"User 4821 not found at 2024-01-02T03:04:05Z"`` → ``"User <n> not found at <ts>"``."""
    text = " ".join(message.split())[:2000]
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


_ADDRESSES_AND_NUMBERS = re.compile(r"0x[0-9a-f]+|\d+", re.I)


def _frame_key(frame: StackFrame) -> str:
    name = (frame.file or "").replace("\\", "/").rsplit("/", 1)[-1]
    function = _ADDRESSES_AND_NUMBERS.sub("", frame.function or "")
    return f"{name}:{function}"


def fingerprint(parsed: ParsedLog) -> str:
    """Hex SHA-256 of the error's identity."""
    error_type = (parsed.error_type or "").strip()
    in_app = [f for f in parsed.frames if f.in_app and f.file][:MAX_FRAMES]
    if in_app:
        parts = ["frames", error_type, *(_frame_key(f) for f in in_app)]
    else:
        message = parsed.error_message or parsed.message or "\n".join(parsed.error_lines[:3])
        parts = ["message", error_type, normalise_message(message)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
