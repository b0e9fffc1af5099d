"""Redaction of secrets and personal data, applied to everything before it leaves the process
for a model vendor. Each kind is replaced by a labelled placeholder, so the model still sees
that *something* was there (``[EMAIL]``, ``[TOKEN]``)."""

from __future__ import annotations

import ipaddress
import re

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("PRIVATE_KEY", re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("TOKEN", re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")),
    ("TOKEN", re.compile(r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}"
                         r"|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
                         r"|AIza[0-9A-Za-z_-]{30,})")),
    ("AWS_KEY", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("URL_CREDENTIALS", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    ("SECRET", re.compile(
        r"(?i)(?<![A-Za-z0-9])((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key"
        r"|account[_-]?key|shared[_-]?access[_-]?key|client[_-]?secret|token)"
        r"[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s;,&]+)")),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("IP", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
    ("IPV6", re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")),
]  # fmt: skip


def _ipv6(match: re.Match[str]) -> str:
    """Only a real IPv6 address (``12:30:45`` is a time, not an address)."""
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return match.group(0)
    return "[IP]"


def redact(text: str) -> tuple[str, int]:
    """``text`` with secrets and personal data replaced; and how many were replaced."""
    total = 0
    for label, pattern in _PATTERNS:
        if label == "SECRET":
            text, n = pattern.subn(lambda m: f"{m.group(1)}[SECRET]", text)
        elif label == "IPV6":
            before = text.count("[IP]")
            text = pattern.sub(_ipv6, text)
            n = text.count("[IP]") - before
        else:
            text, n = pattern.subn(f"[{label}]", text)
        total += n
    return text, total
