"""Engines and tenant-scoped sessions.

A tenant session carries its organisation in ``session.info``; whenever the session begins a
transaction, ``app.current_org`` is set for that transaction only, so row-level security
filters every statement, even one that forgets its ``org_id`` filter.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

ORG_KEY = "org_id"
USER_KEY = "user_id"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The application's engine.

    - ``hide_parameters``: a database error's message (and so the server log) never carries
      the statement's parameters, which hold submitted logs and sealed tokens.
    - No pre-ping (a round trip on every checkout, the cost of a whole ingest statement):
      when the server restarts, the first statement on a dead connection fails (the API
      answers 503 with Retry-After, a worker's job returns to the queue) and SQLAlchemy
      invalidates every older pooled connection at once; ``pool_recycle`` retires
      connections before a network path's idle timeout can cut them.
    """
    options: dict[str, Any] = {"pool_recycle": 1800, "hide_parameters": True}
    return create_async_engine(url, **(options | kwargs))


def session_factory(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False)


@event.listens_for(Session, "after_begin")
def _set_current_org(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    org_id = session.info.get(ORG_KEY)
    user_id = session.info.get(USER_KEY)
    if org_id is not None or user_id is not None:
        connection.execute(
            text(
                "SELECT set_config('app.current_org', :org, true), "
                "set_config('app.current_user', :user, true)"
            ),
            {"org": str(org_id or ""), "user": str(user_id or "")},
        )


@asynccontextmanager
async def tenant_session(
    factory: async_sessionmaker[AsyncSession],
    org_id: uuid.UUID | None,
    *,
    user_id: uuid.UUID | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session whose every transaction sees only ``org_id``'s rows (and, with ``user_id``,
    the signed-in person's own user and memberships). The caller commits."""
    async with factory(info={ORG_KEY: org_id, USER_KEY: user_id}) as session:
        yield session


async def act_in_org(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Switch the session's organisation, in the open transaction and for later ones."""
    session.info[ORG_KEY] = org_id
    await session.execute(
        text("SELECT set_config('app.current_org', :org, true)"), {"org": str(org_id)}
    )
