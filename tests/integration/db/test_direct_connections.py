"""The ingest statement's own connections (app.db.session.DirectConnections): reused while
healthy, never lent again once broken, all dropped when the engine is disposed, and bounded."""

from __future__ import annotations

import asyncio
import gc

import psycopg
import pytest
from sqlalchemy import event, text

from app.db.embedded import EmbeddedDatabase
from app.db.session import (
    DirectConnections,
    create_engine,
    direct_connection,
    direct_connections,
)


async def _backend(direct: DirectConnections) -> int:
    async with direct.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        assert conn.autocommit
        return int(row[0])


async def test_reused_dropped_when_broken_and_on_dispose(embedded: EmbeddedDatabase) -> None:
    engine = create_engine(embedded.app_url)
    direct = DirectConnections(engine, size=2)
    try:
        first = await _backend(direct)
        assert await _backend(direct) == first  # the same connection, lent again

        # The server ends that backend (as a restart does): the next statement fails, and
        # that connection is not lent again.
        with psycopg.connect(embedded.superuser_conninfo(), autocommit=True) as su:
            su.execute("SELECT pg_terminate_backend(%s)", (first,))
        with pytest.raises(psycopg.OperationalError):
            await _backend(direct)
        second = await _backend(direct)
        assert second != first

        # Disposing the engine (what the ingest path does after a lost server) retires the
        # idle connections too.
        await engine.dispose(close=False)
        assert await _backend(direct) != second
    finally:
        await direct.aclose()
        await engine.dispose()


async def test_at_most_size_open(embedded: EmbeddedDatabase) -> None:
    engine = create_engine(embedded.app_url)
    direct = DirectConnections(engine, size=2)
    pids: set[int] = set()

    async def slow() -> None:
        async with direct.connection() as conn:
            row = await (await conn.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")).fetchone()
            assert row is not None
            pids.add(int(row[0]))

    try:
        await asyncio.gather(*(slow() for _ in range(8)))
        assert len(pids) == 2
    finally:
        await direct.aclose()
        await engine.dispose()


async def test_a_lost_server_retires_the_engines_pool(embedded: EmbeddedDatabase) -> None:
    """``direct_connection``: a statement that fails because its backend is gone disposes the
    engine (its pooled connections were to the same server); an ordinary SQL error does not."""
    engine = create_engine(embedded.app_url)
    disposed: list[object] = []
    event.listen(engine.sync_engine, "engine_disposed", disposed.append)
    try:
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with direct_connection(engine) as conn:
                await conn.execute("SELECT * FROM no_such_table")
        assert disposed == []

        async with engine.connect() as pooled:  # one connection of the engine's own pool
            pooled_pid = (await pooled.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with direct_connection(engine) as conn:
            row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
            assert row is not None
        with psycopg.connect(embedded.superuser_conninfo(), autocommit=True) as su:
            su.execute("SELECT pg_terminate_backend(%s)", (row[0],))
            with pytest.raises(psycopg.OperationalError):
                async with direct_connection(engine) as conn:
                    await conn.execute("SELECT 1")
            assert len(disposed) == 1
            # The pool's connection (alive: only one backend was ended) is closed, not left
            # open until the collector finds it.
            for _ in range(100):
                alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
                if not su.execute(alive, (pooled_pid,)).fetchone():
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the pool's connection was left open")
    finally:
        await direct_connections(engine).aclose()
        await engine.dispose()


async def test_an_engine_dropped_without_dispose_closes_its_idle_connections(
    embedded: EmbeddedDatabase,
) -> None:
    """A test's or a one-off command's engine that goes without ``dispose()``: its idle
    direct connections are closed with it (the server's backend ends), not left open for
    the collector to find (a ResourceWarning, an error under this suite's settings)."""
    engine = create_engine(embedded.app_url)
    async with direct_connection(engine) as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
    del engine, conn
    gc.collect()
    with psycopg.connect(embedded.superuser_conninfo(), autocommit=True) as su:
        for _ in range(100):
            if not su.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", row).fetchone():
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"backend {row[0]} still open after its engine was collected")
