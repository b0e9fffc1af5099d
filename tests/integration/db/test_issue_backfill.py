"""Migration 0011 turns the reports diagnosed before it into issues."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine, pool, text

from app.db import migrate
from app.db.embedded import EmbeddedDatabase

pytestmark = pytest.mark.integration


def test_existing_complete_reports_become_issues(fresh_database: EmbeddedDatabase) -> None:
    url = fresh_database.owner_url
    migrate.upgrade(url, fresh_database.app_role, "0010")
    engine = create_engine(url, poolclass=pool.NullPool)
    org = uuid.uuid4()
    data = {"title": "KeyError: 'SKU-1'", "culprit": {"file": "shop/cart.py", "line": 42}}
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO organisations (id, slug, name) VALUES (:id, 'o', 'O')"), {"id": org}
        )
        for status, fingerprint, count in (
            ("complete", "f1", 3), ("complete", "f1", 2), ("complete", "f2", 1),
            ("failed", "f3", 1), ("pending", "f1", 1),
        ):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO reports (id, org_id, status, fingerprint, occurrence_count, "
                    "log_data, report_data) VALUES (:id, :org, :status, :fp, :n, '{}', "
                    "CAST(:data AS jsonb))"
                ),
                {"id": uuid.uuid4(), "org": org, "status": status, "fp": fingerprint, "n": count,
                 "data": json.dumps(data)},
            )  # fmt: skip
        # Repeats: two of a complete report (counted in its issue), two of the pending one.
        conn.execute(
            text(
                "INSERT INTO report_occurrences (id, org_id, report_id, log_data) "
                "SELECT gen_random_uuid(), org_id, id, '{}' FROM reports, generate_series(1, 2) "
                "WHERE status IN ('pending', 'complete') AND fingerprint = 'f1'"
                " AND (status = 'pending' OR occurrence_count = 3)"
            )
        )
    migrate.upgrade(url, fresh_database.app_role)
    with engine.connect() as conn:
        counted = conn.execute(
            text(
                "SELECT r.status, o.issue_counted, count(*) FROM report_occurrences o "
                "JOIN reports r ON r.id = o.report_id GROUP BY 1, 2 ORDER BY r.status::text"
            )
        ).all()
        issues = conn.execute(
            text(
                "SELECT fingerprint, title, culprit, state, occurrence_count, "
                "(SELECT count(*) FROM reports r WHERE r.issue_id = i.id) "
                "FROM issues i ORDER BY fingerprint"
            )
        ).all()
        created = conn.execute(
            text("SELECT count(*) FROM issue_activities WHERE kind = 'created'")
        ).scalar_one()
    engine.dispose()
    assert [tuple(i) for i in issues] == [
        ("f1", "KeyError: 'SKU-1'", "shop/cart.py:42", "unresolved", 5, 2),
        ("f2", "KeyError: 'SKU-1'", "shop/cart.py:42", "unresolved", 1, 1),
    ]
    assert created == 2
    # The pending report's repeats wait for the worker to link it; the complete one's are in.
    assert [tuple(c) for c in counted] == [("complete", True, 2), ("pending", False, 2)]
