from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool, text

from app.db import migrate
from app.db.base import Base
from app.db.embedded import EmbeddedDatabase
from app.db.models import TENANT_TABLES

pytestmark = pytest.mark.integration


def test_upgrade_downgrade_upgrade_on_a_real_server(fresh_database: EmbeddedDatabase) -> None:
    url = fresh_database.owner_url
    migrate.upgrade(url, fresh_database.app_role)
    assert migrate.current_revision_at(url) == migrate.head_revision()

    migrate.downgrade(url, fresh_database.app_role)
    assert migrate.current_revision_at(url) is None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        types = conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).all()
        assert types == [], "enum types must go with the tables"

    migrate.upgrade(url, fresh_database.app_role)
    assert migrate.current_revision_at(url) == migrate.head_revision()
    engine.dispose()


def test_models_and_migrations_agree(embedded: EmbeddedDatabase) -> None:
    engine = create_engine(embedded.owner_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == [], f"models differ from the migrations: {diff}"


def test_every_tenant_table_has_row_level_security(embedded: EmbeddedDatabase) -> None:
    engine = create_engine(embedded.owner_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity, o.rolname "
                "FROM pg_class c "
                "JOIN pg_roles o ON o.oid = c.relowner "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            )
        ).all()
    engine.dispose()
    tables = {name: (rls, owner) for name, rls, owner in rows}
    for table in (*TENANT_TABLES, "organisations", "users"):
        rls, owner = tables[table]
        assert rls, f"{table} has no forced row-level security"
        assert owner == embedded.owner_role != embedded.app_role
    # The application role owns nothing at all.
    assert embedded.app_role not in {owner for _, owner in tables.values()}


def test_only_the_migrator_has_a_policy_that_sees_every_organisation(
    embedded: EmbeddedDatabase,
) -> None:
    engine = create_engine(embedded.owner_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename, policyname, roles, qual FROM pg_policies")
        ).all()
    engine.dispose()
    for table, policy, roles, qual in rows:
        if qual == "true":
            assert (policy, list(roles)) == ("migrator_access", [embedded.owner_role]), table
        else:
            assert list(roles) == ["public"] and "logdawg_current_" in qual, (table, qual)
