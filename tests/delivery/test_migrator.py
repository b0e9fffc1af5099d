"""The database job against a real PostgreSQL: Azure's principal function is stood in for by a
SQL function of the same signature (the one outside system here); everything else is real."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from app.db.embedded import EmbeddedDatabase, drop_database, ensure_database
from app.db.migrate import head_revision
from scripts.migrator import run, runtime_principals

API_OID = "11111111-aaaa-4bbb-8ccc-000000000001"
WORKER_OID = "11111111-aaaa-4bbb-8ccc-000000000002"


@pytest.fixture
def server(embedded: EmbeddedDatabase) -> Iterator[tuple[EmbeddedDatabase, str]]:
    """A fresh database owned by a migrator role, and the stand-in principal function."""
    database = f"mig_{uuid.uuid4().hex[:8]}"
    migrator = f"migrator_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(embedded.superuser_conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(migrator)))
        conn.execute(
            """
            CREATE OR REPLACE FUNCTION pgaadauth_create_principal_with_oid(
                role_name text, object_id text, object_type text, is_admin boolean,
                is_mfa boolean) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
            BEGIN
              EXECUTE format('CREATE ROLE %I LOGIN', role_name);
              EXECUTE format('COMMENT ON ROLE %I IS %L', role_name,
                             object_type || ':' || object_id);
              RETURN 'Created role for ' || role_name;
            END $$
            """
        )
    ensure_database(embedded, database)
    with psycopg.connect(embedded.superuser_conninfo(database), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(migrator)
            )
        )
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(migrator)))
    yield embedded, f"{database}:{migrator}"
    drop_database(embedded, database)


def _env(db: EmbeddedDatabase, database: str, migrator: str, suffix: str) -> dict[str, str]:
    return {
        "PATH": str(Path(sys.executable).parent),
        "LOGDAWG_DATABASE_HOST": str(db.socket_dir),
        "LOGDAWG_DATABASE_PORT": str(db.port),
        "LOGDAWG_DATABASE_NAME": database,
        "LOGDAWG_DATABASE_USER": migrator,
        # On a new Azure server the migrator creates the application role, as here.
        "LOGDAWG_DATABASE_APP_ROLE": f"app_{suffix}",
        "LOGDAWG_RUNTIME_PRINCIPALS": f"api-{suffix}={API_OID},worker-{suffix}={WORKER_OID}",
    }


def test_the_job_creates_principals_grants_the_app_role_only_and_migrates_as_owner(
    server: tuple[EmbeddedDatabase, str],
) -> None:
    db, names = server
    database, migrator = names.split(":")
    suffix = uuid.uuid4().hex[:6]
    env = _env(db, database, migrator, suffix)

    def migrate(child_env: dict[str, str]) -> int:
        assert child_env["PGPASSWORD"] == "token-from-entra"
        logdawg = str(Path(sys.executable).parent / "logdawg")
        return subprocess.run([logdawg, "migrate", "up"], env=child_env, check=False).returncode

    for _ in range(2):  # a second run (the next release) changes nothing and still succeeds
        assert run(env, password=lambda: "token-from-entra", migrate=migrate) == 0

    with psycopg.connect(db.superuser_conninfo(database)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            head_revision(),
        )
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        )}  # fmt: skip
        assert owners == {migrator}
        for who, oid in (("api", API_OID), ("worker", WORKER_OID)):
            name = f"{who}-{suffix}"
            comment = conn.execute(
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
                (name,),
            ).fetchone()
            assert comment == (f"service:{oid}",)
            memberships = {r[0] for r in conn.execute(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (name,),
            )}  # fmt: skip
            assert memberships == {f"app_{suffix}"}


def test_bad_settings_stop_with_exit_2_before_any_connection() -> None:
    env = {
        "LOGDAWG_DATABASE_HOST": "db.example.org",
        "LOGDAWG_DATABASE_USER": "migrator",
        "LOGDAWG_DATABASE_NAME": "logdawg",
        "LOGDAWG_RUNTIME_PRINCIPALS": "api=not-an-oid",
    }

    def no_token() -> str:
        raise AssertionError("no token may be requested for bad settings")

    assert run(env, password=no_token) == 2
    assert run({**env, "LOGDAWG_RUNTIME_PRINCIPALS": f"migrator={API_OID}"}, password=no_token) == 2
    with pytest.raises(ValueError, match="names no principal"):
        runtime_principals(" , ")
