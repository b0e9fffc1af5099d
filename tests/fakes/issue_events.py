"""A stand-in for the notifications side: keeps every issue event it is given, in order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.issues.events import IssueEvent, IssueEventKind


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[IssueEvent] = []

    async def publish(self, session: AsyncSession, event: IssueEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[IssueEventKind]:
        return [e.kind for e in self.events]
