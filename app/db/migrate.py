"""Running Alembic from code: the API's start-up (local, staging slot) and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Arbitrary, fixed: the key of the advisory lock that serialises migrations.
MIGRATION_LOCK_ID = 7_150_104_811


def alembic_config(owner_url: str | None = None, app_role: str = "logdawg_app") -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    if owner_url:
        cfg.set_main_option("sqlalchemy.url", owner_url.replace("%", "%%"))
    cfg.attributes["app_role"] = app_role
    return cfg


def resolve_owner_url(cfg: Config) -> str:
    """The URL migrations run with: the one given, else the settings' owner (or only) URL,
    else the embedded server's owner role."""
    url = cfg.get_main_option("sqlalchemy.url")
    if url:
        return url
    settings = Settings()
    cfg.attributes.setdefault("app_role", settings.database_app_role)
    if settings.migration_database_url or settings.database_url:
        return str(settings.migration_database_url or settings.database_url)
    from app.db.embedded import start_embedded

    return start_embedded(settings.data_dir, app_role=settings.database_app_role).owner_url


def app_role(cfg: Config) -> str:
    return str(cfg.attributes.get("app_role", "logdawg_app"))


def upgrade(owner_url: str, app_role: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url, app_role), revision)


def downgrade(owner_url: str, app_role: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url, app_role), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision_at(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()
