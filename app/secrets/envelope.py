"""Envelope encryption of provider tokens.

Each credential gets its own random data key; the token is sealed under it with AES-256-GCM,
authenticated with the organisation and credential ids (so a sealed token copied onto another
row or tenant does not open), and the data key is stored only wrapped by the key-encryption key.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.secrets.base import KeyUnavailable, KeyWrapper


@dataclass(frozen=True, repr=False)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    wrapped_data_key: bytes
    key_version: str


def _aad(org_id: uuid.UUID, credential_id: uuid.UUID) -> bytes:
    return f"logdawg:credential:v1:{org_id}:{credential_id}".encode()


async def seal(
    kek: KeyWrapper, token: str, *, org_id: uuid.UUID, credential_id: uuid.UUID
) -> Sealed:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, token.encode(), _aad(org_id, credential_id))
    return Sealed(
        ciphertext=ciphertext,
        nonce=nonce,
        wrapped_data_key=await kek.wrap(data_key),
        key_version=kek.key_version,
    )


async def unseal(
    kek: KeyWrapper, sealed: Sealed, *, org_id: uuid.UUID, credential_id: uuid.UUID
) -> str:
    data_key = await kek.unwrap(sealed.wrapped_data_key, sealed.key_version)
    try:
        plain = AESGCM(data_key).decrypt(
            sealed.nonce, sealed.ciphertext, _aad(org_id, credential_id)
        )
    except InvalidTag as exc:
        raise KeyUnavailable("the credential does not open for this organisation and id") from exc
    return plain.decode()
