"""Signing in to PostgreSQL with Entra ID tokens (Azure Database for PostgreSQL): the token
comes from an azure-identity credential and is the password of every new connection. The
embedded server trusts its socket, so what is proven here is what the platform sends; Azure
is what checks the token."""

from __future__ import annotations

import pytest
from azure.core.credentials import AccessToken
from sqlalchemy import text

from app.bootstrap import bootstrap
from app.db.embedded import EmbeddedDatabase
from app.db.entra import SCOPE, EntraPassword
from app.db.session import direct_connections
from app.settings import Settings

pytestmark = pytest.mark.integration


class _ManagedIdentity:
    def __init__(self) -> None:
        self.issued = 0

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        assert scopes == (SCOPE,)
        self.issued += 1
        # Already inside the refresh margin: every connection asks again.
        return AccessToken(f"entra-token-{self.issued}", 0)


async def test_the_platform_signs_in_with_tokens_and_migrates(
    fresh_database: EmbeddedDatabase,
) -> None:
    settings = Settings(
        database_host=str(fresh_database.socket_dir),
        database_port=fresh_database.port,
        database_name=fresh_database.database,
        database_user=fresh_database.owner_role,
        database_auth="entra",
        mode="multi_tenant",
        auth_provider="dev",
    )
    identity = _ManagedIdentity()
    platform = await bootstrap(settings, password=EntraPassword(identity))
    try:
        async with platform.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            password = raw.driver_connection.info.password  # type: ignore[union-attr]
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert password is not None and password.startswith("entra-token-")
        assert revision == platform.head_revision  # migrated with a token too
        assert identity.issued >= 2
        # The ingest statement's own connections sign in with a token as well.
        issued = identity.issued
        async with direct_connections(platform.engine).connection() as direct:
            assert direct.info.password == f"entra-token-{issued + 1}"
    finally:
        await platform.aclose()


def test_tokens_are_reused_until_close_to_expiry() -> None:
    class _LongLived:
        calls = 0

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            _LongLived.calls += 1
            return AccessToken("t", 4_102_444_800)

    password = EntraPassword(_LongLived())
    assert [password() for _ in range(3)] == ["t", "t", "t"]
    assert _LongLived.calls == 1


def test_entra_needs_a_host_and_a_user() -> None:
    with pytest.raises(ValueError, match="needs LOGDAWG_DATABASE_HOST"):
        Settings(database_auth="entra")
    with pytest.raises(ValueError, match="not both"):
        Settings(database_host="db.example.com", database_url="postgresql://x@y/z")
