"""The database job (image target ``migrator``; declared in infra/components/migrator.py).

Runs inside the VNet as the migrator identity, an Entra ID administrator of the server:

1. creates the API's and the worker's database principals from their managed identities'
   object ids (``pgaadauth_create_principal_with_oid``), unless they exist;
2. grants them the application role, and nothing else: they own no table, so row-level
   security holds for every query they run;
3. applies the migrations as the owner (``logdawg migrate up``), under the migrations' own
   advisory lock, so two jobs started at once cannot both migrate.

Settings (environment): LOGDAWG_DATABASE_HOST, LOGDAWG_DATABASE_PORT (5432),
LOGDAWG_DATABASE_NAME, LOGDAWG_DATABASE_USER (the migrator identity's name),
LOGDAWG_DATABASE_APP_ROLE (logdawg_app), LOGDAWG_RUNTIME_PRINCIPALS ("name=objectid,...") and
AZURE_CLIENT_ID (the migrator identity, for its Entra ID token).
Exit 0 when the database is at the head revision; 2 on bad settings; 1 on any other failure.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping

import psycopg
from psycopg import sql

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_OID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class SettingsError(ValueError):
    pass


def runtime_principals(value: str) -> dict[str, str]:
    """``"api-id=<oid>,worker-id=<oid>"`` as {name: object id}, validated."""
    principals: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, oid = item.partition("=")
        if not _NAME.match(name) or not _OID.match(oid):
            raise SettingsError(f"LOGDAWG_RUNTIME_PRINCIPALS: {item!r} is not name=<object id>")
        principals[name] = oid
    if not principals:
        raise SettingsError("LOGDAWG_RUNTIME_PRINCIPALS names no principal")
    return principals


def entra_token() -> str:
    """The migrator identity's token for the server (the platform's own Entra ID sign-in)."""
    from azure.identity import ManagedIdentityCredential

    from app.db.entra import EntraPassword

    return EntraPassword(ManagedIdentityCredential(client_id=os.environ.get("AZURE_CLIENT_ID")))()


def conninfo(env: Mapping[str, str], database: str, password: str) -> str:
    host = env["LOGDAWG_DATABASE_HOST"]
    params = {
        "host": host,
        "port": env.get("LOGDAWG_DATABASE_PORT", "5432"),
        "user": env["LOGDAWG_DATABASE_USER"],
        "dbname": database,
        "password": password,
    }
    if not host.startswith("/"):
        params["sslmode"] = "require"
    return psycopg.conninfo.make_conninfo(**params)


def create_principals(conn: psycopg.Connection[tuple[object, ...]], wanted: dict[str, str]) -> None:
    for name, oid in wanted.items():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        if exists:
            continue
        # Azure's function: a login role for a service principal, bound to its object id.
        conn.execute(
            "SELECT * FROM pgaadauth_create_principal_with_oid(%s, %s, 'service', false, false)",
            (name, oid),
        )
        print(f"migrator: created database principal {name}", flush=True)


def grant_application_role(
    conn: psycopg.Connection[tuple[object, ...]], app_role: str, names: list[str]
) -> None:
    conn.execute(
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) "
            "THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        ).format(literal=sql.Literal(app_role), role=sql.Identifier(app_role))
    )
    for name in names:
        conn.execute(
            sql.SQL("GRANT {role} TO {name}").format(
                role=sql.Identifier(app_role), name=sql.Identifier(name)
            )
        )
    owned = conn.execute(
        "SELECT r.rolname, c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = ANY(%s)",
        (names,),
    ).fetchall()
    if owned:
        raise RuntimeError(
            f"runtime principals own tables, which bypasses row-level security: {owned}"
        )


def run(
    env: Mapping[str, str],
    *,
    password: Callable[[], str] = entra_token,
    migrate: Callable[[dict[str, str]], int] | None = None,
) -> int:
    try:
        for key in ("LOGDAWG_DATABASE_HOST", "LOGDAWG_DATABASE_USER", "LOGDAWG_DATABASE_NAME"):
            if not env.get(key):
                raise SettingsError(f"{key} is not set")
        wanted = runtime_principals(env.get("LOGDAWG_RUNTIME_PRINCIPALS", ""))
        if env["LOGDAWG_DATABASE_USER"] in wanted:
            raise SettingsError("the migrator cannot also be a runtime principal")
    except SettingsError as exc:
        print(f"migrator: {exc}", file=sys.stderr)
        return 2
    app_role = env.get("LOGDAWG_DATABASE_APP_ROLE", "logdawg_app")
    token = password()
    # Principals live in the server's "postgres" database; grants in the application's.
    with psycopg.connect(conninfo(env, "postgres", token), autocommit=True) as conn:
        create_principals(conn, wanted)
    with psycopg.connect(
        conninfo(env, env["LOGDAWG_DATABASE_NAME"], token), autocommit=True
    ) as conn:
        grant_application_role(conn, app_role, list(wanted))
    # `logdawg migrate up` as the owner: libpq reads the token from PGPASSWORD.
    child_env = {**env, "PGPASSWORD": token, "LOGDAWG_DATABASE_AUTH": "entra"}
    status = (migrate or _logdawg_migrate_up)(child_env)
    if status == 0:
        print("migrator: schema at head; runtime principals hold the application role only")
    return status


def _logdawg_migrate_up(env: dict[str, str]) -> int:
    import subprocess

    return subprocess.run(["logdawg", "migrate", "up"], env=env, check=False).returncode  # noqa: S607


if __name__ == "__main__":
    sys.exit(run(os.environ))
