"""The key-encryption key port: wraps and unwraps per-credential data keys.

The key-encryption key never leaves its store (Azure Key Vault in Azure, a local key file on one
machine); only data keys travel, and only wrapped.
"""

from __future__ import annotations

from typing import Protocol


class KeyUnavailable(Exception):
    """The key-encryption key cannot be used (missing, unreadable, or the wrong key)."""


class KeyWrapper(Protocol):
    @property
    def key_version(self) -> str:
        """Names the key that ``wrap`` uses now; stored beside every wrapped data key."""
        ...

    async def wrap(self, data_key: bytes) -> bytes: ...

    async def unwrap(self, wrapped: bytes, key_version: str) -> bytes: ...
