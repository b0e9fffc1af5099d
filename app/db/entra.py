"""Entra ID tokens as PostgreSQL passwords (Azure Database for PostgreSQL with Entra ID
authentication): the app's managed identity signs in with a short-lived access token, and no
password exists anywhere. Tokens are fetched through azure-identity, cached until five minutes
before they expire, and handed to each new connection."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, event

SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
REFRESH_MARGIN_S = 300


class EntraPassword:
    def __init__(self, credential: Any) -> None:
        self._credential = credential
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires - REFRESH_MARGIN_S:
                token = self._credential.get_token(SCOPE)
                self._token, self._expires = token.token, float(token.expires_on)
            return self._token


def use_entra_password(engine: Engine, password: EntraPassword) -> None:
    """Every new connection of ``engine`` (a sync engine, or an async engine's
    ``sync_engine``) signs in with a current token."""

    @event.listens_for(engine, "do_connect")
    def _token(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = password()
