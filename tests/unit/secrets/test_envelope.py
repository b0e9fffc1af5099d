from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from app.secrets.base import KeyUnavailable
from app.secrets.envelope import Sealed, seal, unseal
from app.secrets.local import LocalKeyFile

TOKEN = "ghp_exampleexampleexampleexample0000"


async def test_round_trip_and_the_token_is_nowhere_in_clear(tmp_path: Path) -> None:
    kek = LocalKeyFile(tmp_path / "kek")
    org, cred = uuid.uuid4(), uuid.uuid4()

    sealed = await seal(kek, TOKEN, org_id=org, credential_id=cred)

    stored = (
        sealed.ciphertext + sealed.nonce + sealed.wrapped_data_key + sealed.key_version.encode()
    )
    assert TOKEN.encode() not in stored
    assert TOKEN not in repr(sealed)
    assert await unseal(kek, sealed, org_id=org, credential_id=cred) == TOKEN
    # A fresh data key and nonce every time.
    again = await seal(kek, TOKEN, org_id=org, credential_id=cred)
    assert again.ciphertext != sealed.ciphertext
    assert again.wrapped_data_key != sealed.wrapped_data_key


async def test_a_token_moved_to_another_tenant_or_row_does_not_open(tmp_path: Path) -> None:
    kek = LocalKeyFile(tmp_path / "kek")
    org, cred = uuid.uuid4(), uuid.uuid4()
    sealed = await seal(kek, TOKEN, org_id=org, credential_id=cred)

    with pytest.raises(KeyUnavailable):
        await unseal(kek, sealed, org_id=uuid.uuid4(), credential_id=cred)
    with pytest.raises(KeyUnavailable):
        await unseal(kek, sealed, org_id=org, credential_id=uuid.uuid4())
    # The last byte flipped (replacing it with a fixed byte left it unchanged 1 time in 256).
    flipped = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])
    tampered = Sealed(flipped, sealed.nonce, sealed.wrapped_data_key, sealed.key_version)
    with pytest.raises(KeyUnavailable):
        await unseal(kek, tampered, org_id=org, credential_id=cred)


async def test_key_file_is_private_reused_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kek"
    first = LocalKeyFile(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = await seal(first, TOKEN, org_id=uuid.UUID(int=1), credential_id=uuid.UUID(int=2))

    second = LocalKeyFile(path)  # a restart
    assert second.key_version == first.key_version
    assert (
        await unseal(second, sealed, org_id=uuid.UUID(int=1), credential_id=uuid.UUID(int=2))
        == TOKEN
    )

    other = LocalKeyFile(tmp_path / "other")
    with pytest.raises(KeyUnavailable, match="wrapped by key"):
        await unseal(other, sealed, org_id=uuid.UUID(int=1), credential_id=uuid.UUID(int=2))

    path.chmod(0o644)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        LocalKeyFile(path)
    path.chmod(0o600)
    path.write_bytes(b"short")
    with pytest.raises(KeyUnavailable, match="32-byte"):
        LocalKeyFile(path)
