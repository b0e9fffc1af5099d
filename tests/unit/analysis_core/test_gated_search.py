"""The word gates in front of the log reader's case-insensitive patterns (``_Gated``) change
nothing that matches: over every line of the real-crash logs and the sources beside them, and
over lines made to sit on the edges (Unicode characters that ``re`` folds to ASCII letters), a
gated search finds exactly what the bare pattern finds."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from app.analysis import logs

ROOT = Path(__file__).resolve().parents[3]

EDGES = [
    "FA\u0130LED to start",  # capital I with dot above: re matches it to i under IGNORECASE
    "fa\u0131led to start",  # dotless i, likewise
    "Segmentation \u017fault (core dumped)",  # long s
    "\u212aeyError: 'x'",  # Kelvin sign
    "\u017fha: 0123abcd",
    "\u0130NFO ready",
    "a Traceback (most recent call last): in the middle",
    "panic: runtime error: index out of range",
    "Task timed out after 3.00 seconds",
    "revision=9fceb02d0ae598e95dc970b74767f19372d61af8",
    "service version: 1.2.3-rc1",
    "RELEASE=2.0.1 deployed",
    "deploying Commit 1a2b3c4d to prod",
    "GIT_SHA: ABCDEF0123456",
    "nothing to see in this line at all",
]


def corpus() -> list[str]:
    lines = list(EDGES)
    for path in sorted((ROOT / "tests" / "eval" / "real").rglob("*")):
        if path.is_file():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


GATES = {
    "level": logs._GATED_LEVEL,
    "errorish": logs._GATED_ERRORISH,
    "commit": logs._GATED_COMMIT,
    "version": logs._GATED_VERSION,
}


@pytest.mark.parametrize("name", GATES)
def test_a_gated_search_finds_what_the_pattern_finds(name: str) -> None:
    gate = GATES[name]
    lines = corpus()
    matched = 0
    for line in lines:
        want = gate.pattern.search(line)
        got = gate.search(line, logs._fold(line))
        assert (got and got.span()) == (want and want.span()), line
        matched += want is not None
    assert len(lines) > 1000
    assert matched >= 3, f"the corpus must exercise matches of {name} too"


def test_folding_agrees_with_re_ignorecase_on_every_character() -> None:
    """Every code point ``re`` matches to an ASCII letter under IGNORECASE folds to it."""
    everything = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    for letter in string.ascii_lowercase:
        for char in re.findall(letter, everything, re.IGNORECASE):
            assert logs._fold(char) == letter, (letter, hex(ord(char)))
