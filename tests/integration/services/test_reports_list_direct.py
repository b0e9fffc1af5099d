"""The reports list as the API runs it (``DirectConnections``, one pipelined round trip) gives
the same pages as in a session, sees one organisation only, and follows every filter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.db.embedded import EmbeddedDatabase
from app.db.models import ReportStatus
from app.services.reports import ReportFilters, list_reports

STATUSES = ["complete", "failed", "pending", "complete"]


@pytest.fixture
async def orgs(embedded: EmbeddedDatabase) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    """Two organisations with committed reports (other connections must see them)."""
    a, b = uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with psycopg.connect(embedded.superuser_conninfo(embedded.database), autocommit=True) as su:
        for org in (a, b):
            su.execute(
                "INSERT INTO organisations (id, slug, name) VALUES (%s, %s, %s)",
                (org, f"list-{org.hex[:8]}", "list"),
            )
        for i in range(30):
            su.execute(
                "INSERT INTO reports (id, org_id, created_at, last_seen_at, status, source, "
                "log_data, report_data) VALUES (%s, %s, %s, %s, %s, 'test', '{}'::jsonb, "
                "%s::jsonb)",
                (
                    uuid.uuid4(), a if i % 3 else b, start + timedelta(minutes=i),
                    start + timedelta(minutes=i), STATUSES[i % 4],
                    f'{{"title": "KeyError {i}", "error_type": "KeyError", "category": '
                    f'"{"code" if i % 2 else "config"}", "summary": "{"x" * 200}"}}',
                ),
            )  # fmt: skip
    yield a, b
    with psycopg.connect(embedded.superuser_conninfo(embedded.database), autocommit=True) as su:
        su.execute("DELETE FROM organisations WHERE id IN (%s, %s)", (a, b))


async def test_direct_pages_match_session_pages(
    app_engine: AsyncEngine, orgs: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org_a, org_b = orgs
    direct = async_sessionmaker(bind=app_engine)  # an engine: the pipelined driver path
    async with app_engine.connect() as conn:
        in_session = async_sessionmaker(bind=conn)  # a connection: the session path
        for filters in (
            ReportFilters(),
            ReportFilters(status=ReportStatus.COMPLETE),
            ReportFilters(status=ReportStatus.RUNNING),
            ReportFilters(category="code"),
            ReportFilters(q="KeyError"),
            ReportFilters(since=datetime(2026, 11, 1, 0, 10, tzinfo=UTC)),
        ):
            pages = []
            for sessions in (direct, in_session):
                seen, cursor = [], None
                while True:
                    rows, cursor = await list_reports(
                        sessions, org_id=org_a, limit=7, cursor=cursor, filters=filters
                    )
                    seen += rows
                    if cursor is None:
                        break
                pages.append(seen)
            assert pages[0] == pages[1], filters
            rows = pages[0]
            # Newest first, org A's only, each filter applied.
            created = [r.created_at for r in rows]
            assert created == sorted(created, reverse=True)
            assert len({r.id for r in rows}) == len(rows)
            assert all(r.summary.get("error_type") == "KeyError" for r in rows)
            assert all("summary" not in r.summary for r in rows)  # only the list's keys
            if filters.status is not None:
                assert all(r.status is filters.status for r in rows)
            if filters.category:
                assert all(r.summary["category"] == "code" for r in rows)
            if filters == ReportFilters():
                assert len(rows) == 20  # 30 reports, every third is org B's
        everyone_b, _ = await list_reports(direct, org_id=org_b, limit=100, filters=ReportFilters())
        assert len(everyone_b) == 10
        assert not {r.id for r in everyone_b} & {r.id for r in pages[0]}
