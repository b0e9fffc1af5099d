"""A diagnosed report, rules and a notifier over the rolled-back test database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db.models import (
    Job,
    NotificationDelivery,
    NotificationRule,
    Report,
    ReportOccurrence,
    ReportStatus,
)
from app.db.session import tenant_session
from app.issues.events import IssueEvent, IssueEventKind
from app.notifications import rules
from app.notifications.delivery import Notifier
from app.notifications.sink import NotificationSink
from app.queue.postgres import PostgresJobQueue
from app.secrets.local import LocalKeyFile
from app.settings import Settings
from tests.conftest import TenantDb

SHA = "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"


def report_data(title: str = "ZeroDivisionError in checkout total") -> dict[str, Any]:
    return {
        "title": title,
        "summary": "The cart total divides by the item count, which is zero for an empty cart.",
        "culprit": {"file": "/srv/app/cart.py", "line": 42, "language": "python"},
        "culprit_file": "src/app/cart.py",
        "suspect_commits": [
            {"sha": SHA, "author": "Grace Dev", "message": "Average price per item\n\nbody",
             "url": f"https://github.com/acme/shop/commit/{SHA}"},
        ],
    }  # fmt: skip


@dataclass
class World:
    db: TenantDb
    queue: PostgresJobQueue
    settings: Settings
    kek: LocalKeyFile
    sink: NotificationSink
    notifier: Notifier

    async def report(self, title: str = "ZeroDivisionError in checkout total") -> uuid.UUID:
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            report = Report(
                org_id=self.db.org_a, status=ReportStatus.COMPLETE, log_data={"content": "x"},
                report_data=report_data(title), fingerprint=f"fp-{title}",
            )  # fmt: skip
            session.add(report)
            await session.commit()
            return report.id

    async def add_occurrence(self, report_id: uuid.UUID) -> None:
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            session.add(ReportOccurrence(org_id=self.db.org_a, report_id=report_id, log_data={}))
            await session.commit()

    async def rule(self, **fields: Any) -> NotificationRule:
        values: dict[str, Any] = {"name": "on-call", "trigger": "new", "config": {}, "secret": ""}
        values.update(fields)
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            rule = await rules.create(
                session, self.kek, rules.RuleInput(**values), org_id=self.db.org_a,
                created_by=None, multi_tenant=False,
            )  # fmt: skip
            await session.commit()
            return rule

    async def publish(
        self, report_id: uuid.UUID, kind: IssueEventKind = IssueEventKind.NEW,
        issue_id: uuid.UUID | None = None,
    ) -> None:  # fmt: skip
        event = IssueEvent(
            kind=kind, org_id=self.db.org_a, repo_id=None, issue_id=issue_id or uuid.uuid4(),
            report_id=report_id, occurred_at=datetime.now(UTC),
        )  # fmt: skip
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            await self.sink.publish(session, event)
            await session.commit()

    async def run_due(self) -> list[str | None]:
        """Claim every due job and hand notify jobs to the notifier, as the worker does."""
        outcomes = []
        for job in await self.queue.claim_many("test-worker", 50):
            assert job.kind == "notify"
            outcomes.append(await self.notifier(job))
        return outcomes

    async def deliveries(self, rule_id: uuid.UUID | None = None) -> list[NotificationDelivery]:
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            query = select(NotificationDelivery).order_by(NotificationDelivery.created_at)
            if rule_id is not None:
                query = query.where(NotificationDelivery.rule_id == rule_id)
            return list((await session.scalars(query)).all())

    async def make_due(self) -> None:
        """Move every waiting job to now (what the passing of time would do)."""
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            past = datetime(2000, 1, 1, tzinfo=UTC)
            await session.execute(update(Job).values(available_at=past))
            await session.execute(update(NotificationDelivery).values(created_at=past))
            await session.commit()

    async def jobs(self) -> list[Job]:
        async with tenant_session(self.db.sessions, self.db.org_a) as session:
            return list((await session.scalars(select(Job).where(Job.kind == "notify"))).all())


@pytest.fixture
async def world(tenant_db: TenantDb, tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(
        key_file=tmp_path / "kek", public_url="https://logdawg.example.com",
        notify_timeout_s=0.5, notify_retry_delay_s=0, notify_max_attempts=3,
    )  # fmt: skip
    queue = PostgresJobQueue(tenant_db.sessions, visibility_timeout_s=60, max_attempts=3)
    kek = LocalKeyFile(tmp_path / "kek")
    notifier = Notifier(tenant_db.sessions, queue, kek, settings)
    yield World(tenant_db, queue, settings, kek, NotificationSink(queue, settings), notifier)
    await notifier.aclose()
