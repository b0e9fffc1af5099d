"""API keys: ``ldk_<id>_<secret>``, kept only as a keyed hash.

The ``ldk_`` prefix and the fixed shape let secret scanners recognise a leaked key; the public
id (``ldk_<id>``) is what lists show. The whole key is hashed with HMAC-SHA256 under the
platform's API-key secret, so a copy of the database alone cannot be used to test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "ldk_"
_SHAPE = re.compile(r"^ldk_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")


class Scope(StrEnum):
    INGEST = "ingest"  # submit logs (POST /logs/diagnose, /ingest/*)
    READ = "read"  # read reports and their status


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once
    prefix: str  # ldk_<id>: what lists show


def generate() -> NewKey:
    public_id = secrets.token_hex(6)
    key = f"{PREFIX}{public_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=f"{PREFIX}{public_id}")


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def well_formed(value: str) -> bool:
    return _SHAPE.match(value) is not None


class KeyHasher:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the API-key hashing secret must be at least 32 bytes")
        self._secret = secret

    def hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
