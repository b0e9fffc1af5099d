"""Fresh request ids: 32 hex characters, never the same twice in a process, and a forked
process does not repeat its parent's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.api.observability import new_request_id

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_ids_are_hex_and_distinct() -> None:
    ids = [new_request_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_sane_offered_id_is_kept_and_an_odd_one_replaced() -> None:
    assert new_request_id("req-42.abc") == "req-42.abc"
    assert new_request_id("x y") != "x y"


# Run in a fresh interpreter: forking the test process itself, with its threads, is unsafe.
_FORK = """
import os
from app.api.observability import new_request_id
before = new_request_id()
read, write = os.pipe()
if os.fork() == 0:
    os.write(write, " ".join(new_request_id() for _ in range(100)).encode())
    os._exit(0)
os.close(write)
child = os.fdopen(read).read()
print(before, " ".join(new_request_id() for _ in range(100)), "|", child)
"""


def test_a_forked_process_does_not_repeat_its_parents_ids() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FORK], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    parent_part, child_part = out.split("|")
    parent, child = set(parent_part.split()), set(child_part.split())
    assert len(parent) == 101
    assert len(child) == 100
    assert {i[:16] for i in child}.isdisjoint({i[:16] for i in parent})
