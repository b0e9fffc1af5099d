"""The embedded default: a key-encryption key in a local file readable by its owner only."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.secrets.base import KeyUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12
WRAP_AAD = b"logdawg:kek:v1"


def load_or_create_secret(path: Path) -> bytes:
    """A random 32-byte secret kept in ``path``: created 0600 on first use, refused when
    others can read it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyUnavailable(
                f"the key file {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
            ) from None
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise KeyUnavailable(f"the key file {path} is not a {KEY_BYTES}-byte key") from None
        return key
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class LocalKeyFile:
    """AES-256-GCM key wrapping under a 32-byte key kept in ``path`` (created 0600)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._key = load_or_create_secret(path)
        self._version = "local:" + hashlib.sha256(self._key).hexdigest()[:16]

    @property
    def key_version(self) -> str:
        return self._version

    async def wrap(self, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, data_key, WRAP_AAD)

    async def unwrap(self, wrapped: bytes, key_version: str) -> bytes:
        if key_version != self._version:
            raise KeyUnavailable(
                f"this data key was wrapped by key {key_version}, but {self._path} holds "
                f"{self._version}"
            )
        try:
            return AESGCM(self._key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], WRAP_AAD)
        except InvalidTag as exc:
            raise KeyUnavailable("the wrapped data key does not open with this key") from exc
