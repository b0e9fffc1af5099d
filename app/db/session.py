"""Engines and tenant-scoped sessions.

A tenant session carries its organisation in ``session.info``; whenever the session begins a
transaction, ``app.current_org`` is set for that transaction only, so row-level security
filters every statement, even one that forgets its ``org_id`` filter.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import QueuePool

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


class DirectConnections:
    """A few autocommitted driver connections of an engine's database, outside SQLAlchemy's
    pool, for the hot paths: the ingest statement (``logdawg_submit_log``) and the reports
    list (app.services.reports).

    Lending a pooled connection through SQLAlchemy's async engine (greenlet hops, checkout
    and reset events) and switching it to autocommit and back costs about as much CPU as the
    rest of an ingest request's database work; these connections stay in autocommit and are
    lent from a plain stack. Whoever uses one sets the organisation for its own transaction
    (``set_config(..., true)``), never for the session. At most ``size`` are open, opened on
    demand. A connection that failed (the server restarted) is closed, not lent again; when
    the engine is disposed (SQLAlchemy retires its connections after a disconnect) these are
    closed too.
    """

    def __init__(self, engine: AsyncEngine, size: int, recycle_s: float = 1800.0) -> None:
        self._dialect = engine.sync_engine.dialect
        self._cargs, self._connect_kwargs = self._dialect.create_connect_args(engine.url)
        self._size = max(1, size)
        self._recycle_s = recycle_s
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []
        # An engine dropped without being disposed of (a test's, a one-off command's) takes
        # these with it: the idle ones are closed then, not left open to the collector.
        weakref.finalize(self, _finish, self._idle)
        self._slots = asyncio.Semaphore(self._size)
        self._generation = 0
        event.listen(engine.sync_engine, "engine_disposed", self._on_dispose)

    def _on_dispose(self, engine: Any) -> None:
        # Synchronous (an event): close the idle connections' sockets; lent ones are
        # dropped when they come back (a newer generation).
        self._generation += 1
        _finish(self._idle)

    @property
    def size(self) -> int:
        """How many connections may be open at once."""
        return self._size

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        # As the engine's pool connects: its ``do_connect`` listeners see the parameters
        # first (an Entra ID token as the password, app.db.entra).
        params = dict(self._connect_kwargs)
        for listener in self._dialect.dispatch.do_connect:
            listener(self._dialect, None, list(self._cargs), params)
        return await psycopg.AsyncConnection.connect(**params, autocommit=True)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._slots:
            conn = None
            now = time.monotonic()
            while self._idle:
                candidate, opened = self._idle.pop()
                if now - opened < self._recycle_s and not candidate.closed:
                    conn = candidate
                    break
                await candidate.close()
            if conn is None:
                conn = await self._open()
                opened = now
            generation = self._generation
            try:
                yield conn
            except BaseException:
                # Its state is unknown (a cancelled statement, a lost server): not lent again.
                await conn.close()
                raise
            if conn.closed or conn.broken or generation != self._generation:
                await conn.close()
            else:
                self._idle.append((conn, opened))

    async def aclose(self) -> None:
        self._on_dispose(None)


def _finish(idle: list[tuple[psycopg.AsyncConnection[Any], float]]) -> None:
    """Close idle connections' sockets (synchronously: from an event or a finaliser)."""
    while idle:
        conn, _ = idle.pop()
        conn.pgconn.finish()


_direct: weakref.WeakKeyDictionary[AsyncEngine, DirectConnections] = weakref.WeakKeyDictionary()


def direct_connections(engine: AsyncEngine) -> DirectConnections:
    """The engine's ``DirectConnections`` (half its pool size, at least two)."""
    if (found := _direct.get(engine)) is None:
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 10
        found = _direct[engine] = DirectConnections(engine, max(2, size // 2))
    return found


@asynccontextmanager
async def direct_connection(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """One of the engine's ``DirectConnections``, lent for a block. When a statement in it
    fails because the server went away (a restart), every pooled connection of that server is
    retired too (these ones through the dispose event), as SQLAlchemy does on a disconnect."""
    lost = False
    try:
        async with direct_connections(engine).connection() as driver:
            try:
                yield driver
            except psycopg.Error:
                # Read before the connection is closed on the way out.
                lost = driver.broken or driver.closed
                raise
    except psycopg.Error:
        if lost:
            # Closed, not only let go (``close=False``): when one backend was ended rather
            # than the server restarted, the other pooled connections are alive, and would
            # stay open until collected.
            await engine.dispose()
        raise
