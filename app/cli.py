"""``logdawg``: run the platform locally, migrate, and diagnose a log from the terminal."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app import cli_diagnose

if TYPE_CHECKING:
    from app.settings import Settings

# The platform commands import the web client, the database layer and settings where they
# run: ``logdawg diagnose`` pays for none of them.

SAMPLE = Path("tests/data/logs/malloc-craft-error.json")


def _wait_ready(url: str, procs: dict[str, subprocess.Popen[bytes]], timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"logdawg: the {name} exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"logdawg: the API did not become ready at {url} within {timeout_s:.0f} s")


def _first_steps(settings: Settings, url: str) -> str:
    if settings.mode == "multi_tenant":
        how = (
            f'the local development issuer: POST {url}/dev-issuer/token {{"email": …, "name": …}}'
            if settings.auth_provider == "dev"
            else f"Entra ID (tenant {settings.auth_tenant_id})"
        )
        return (
            f"Multi-tenant mode: sign in with {how}, create an organisation "
            f"(POST {url}/api/v1/orgs) and an API key (POST {url}/api/v1/api-keys); "
            "see the README's 'Sign-in and organisations'."
        )
    return (
        f"Submit the sample error log:\n"
        f"  curl -s -X POST {url}/api/v1/logs/diagnose -H 'Content-Type: application/json' "
        f"--data @{SAMPLE}\n"
        f"then read the report (replace ID with the diagnosis_id it printed):\n"
        f"  curl -s {url}/api/v1/reports/ID"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_up(args: argparse.Namespace) -> int:
    from app.api import spa as spa_module
    from app.bootstrap import database_urls, ensure_local_org
    from app.db import migrate
    from app.settings import Settings

    settings = Settings(
        api_host=args.host,
        api_port=args.port,
        data_dir=args.data_dir,
        **({"api_workers": args.api_workers} if args.api_workers else {}),
    )
    try:
        settings.check_api()
    except ValueError as exc:
        print(f"logdawg: error: {exc}", file=sys.stderr)
        return 2
    app_url, owner_url, embedded = database_urls(settings)
    where = (
        f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
        if embedded
        else "LOGDAWG_DATABASE_URL"
    )
    print(f"database: {where}")
    migrate.upgrade(owner_url, settings.database_app_role)
    if settings.mode == "single_tenant":
        ensure_local_org(owner_url, settings.local_org_slug)
    env = {
        **os.environ,
        "LOGDAWG_DATABASE_URL": app_url,
        "LOGDAWG_MIGRATION_DATABASE_URL": owner_url,
        "LOGDAWG_MIGRATE_ON_START": "false",
        "LOGDAWG_DATA_DIR": str(settings.data_dir),
    }
    api = [
        sys.executable,
        "-m",
        "app.serve",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        # LOGDAWG_API_WORKERS processes share the port (one per core is a good start).
        "--workers",
        str(settings.api_workers),
    ]
    worker = [sys.executable, "-m", "worker"]
    # Our own interpreter and modules; no user input reaches the command lines.
    procs = {
        name: subprocess.Popen(cmd, env=env)  # noqa: S603
        for name, cmd in (("API", api), ("worker", worker))
    }
    url = f"http://{settings.api_host}:{settings.api_port}"
    spa = (
        f"{url}/"
        if (spa_module.DEFAULT_DIST / "index.html").is_file()
        else "not built (./scripts/start builds it with Node 20.19+; see frontend/README.md)"
    )
    try:
        _wait_ready(url, procs)
        print(
            f"\nLog Dawg Cloud is running.\n"
            f"  API:      {url}   (OpenAPI docs: {url}/docs)\n"
            f"  Worker:   python -m worker (pid {procs['worker'].pid})\n"
            f"  Web app:  {spa}\n\n"
            f"{_first_steps(settings, url)}\n\n"
            f"Ctrl-C stops everything.",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.bootstrap import database_urls
    from app.db import migrate
    from app.settings import Settings

    settings = Settings()
    _, owner_url, _ = database_urls(settings)
    if args.direction == "up":
        migrate.upgrade(owner_url, settings.database_app_role, args.revision or "head")
    else:
        migrate.downgrade(owner_url, settings.database_app_role, args.revision or "base")
    print(f"database at revision {migrate.current_revision_at(owner_url)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logdawg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser(
        "up", help="run the API and a worker locally (embedded PostgreSQL by default)"
    )
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--data-dir", type=Path, default=Path(".logdawg"))
    up.add_argument(
        "--api-workers", type=int, default=None,
        help="API processes (default: LOGDAWG_API_WORKERS, else 1)",
    )  # fmt: skip
    up.set_defaults(func=cmd_up)
    mig = sub.add_parser("migrate", help="apply (up) or revert (down) schema migrations")
    mig.add_argument("direction", choices=["up", "down"])
    mig.add_argument("revision", nargs="?")
    mig.set_defaults(func=cmd_migrate)
    cli_diagnose.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        # A bad setting: its name and what is wrong, not a traceback.
        for error in exc.errors():
            field = "".join(f"LOGDAWG_{str(p).upper()}: " for p in error["loc"][:1])
            message = error["msg"].removeprefix("Value error, ")
            print(f"logdawg: error: {field}{message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
