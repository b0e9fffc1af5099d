"""What a message says, from a report's diagnosis."""

from __future__ import annotations

import uuid

from app.notifications.messages import payload_of, suspect_of

A, B = "a" * 40, "b" * 40


def test_the_suspect_is_the_commit_that_changed_the_culprit_line() -> None:
    data = {"suspect_commits": [
        {"sha": A, "message": "Tidy comments"},
        {"sha": B, "message": "Sum the prices\n\nlong body", "touches_culprit_line": True},
    ]}  # fmt: skip
    assert suspect_of(data) == {"sha": B, "message": "Sum the prices", "author": None, "url": None}
    assert suspect_of({"suspect_commits": [{"sha": A, "message": "x"}]})["sha"] == A  # type: ignore[index]
    assert suspect_of({}) is None


def test_a_payload_names_title_culprit_commit_and_the_spa_link() -> None:
    report = uuid.uuid4()
    data = {
        "title": "KeyError: 'sku'",
        "culprit": {"file": "/srv/app/cart.py", "line": 12},
        "culprit_file": "src/app/cart.py",
        "suspect_commits": [{"sha": A, "message": "Add SKUs"}],
    }
    payload = payload_of("new", report, None, data, "https://logdawg.example.com/")
    assert payload["title"] == "KeyError: 'sku'"
    assert payload["culprit"] == "src/app/cart.py:12"
    assert payload["suspect_commit"]["sha"] == A
    assert payload["url"] == f"https://logdawg.example.com/reports/{report}"
    pending = payload_of("new", report, None, None, "https://x.example")
    assert pending["culprit"] is None and "pending" in pending["title"]
