"""What happened to an issue, as the rest of the platform hears it."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class IssueEventKind(enum.StrEnum):
    NEW = "new"  # the first occurrence of a fingerprint in a repository
    REGRESSION = "regression"  # a resolved issue seen again in a later release/commit
    OCCURRENCE = "occurrence"  # any other occurrence (threshold rules count these)


@dataclass(frozen=True, slots=True)
class IssueEvent:
    kind: IssueEventKind
    org_id: uuid.UUID
    repo_id: uuid.UUID | None
    issue_id: uuid.UUID
    report_id: uuid.UUID
    occurred_at: datetime


class IssueEventSink(Protocol):
    async def publish(self, session: AsyncSession, event: IssueEvent) -> None:
        """Called inside the transaction that recorded the event (so what it enqueues commits
        or rolls back with it). Must not do network I/O: enqueue work, do not deliver."""
