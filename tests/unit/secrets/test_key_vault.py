"""The Key Vault key-encryption key through the Azure SDK's transport seam."""

from __future__ import annotations

import os
import uuid

import pytest

from app.secrets.base import KeyUnavailable
from app.secrets.envelope import seal, unseal
from app.secrets.keyvault import KeyVaultKey
from tests.fakes.key_vault import VAULT, FakeManagedIdentity, FakeVault


async def _key(vault: FakeVault, identity: FakeManagedIdentity) -> KeyVaultKey:
    return await KeyVaultKey(VAULT, vault.key_name, identity, transport=vault.transport()).load()


async def test_tokens_are_sealed_and_opened_with_the_vault_key() -> None:
    vault = FakeVault()
    identity = FakeManagedIdentity(vault.token)
    kek = await _key(vault, identity)
    assert kek.key_version == f"{VAULT}/keys/credentials-kek/v1"
    org, credential = uuid.uuid4(), uuid.uuid4()
    sealed = await seal(kek, "github_pat_secret", org_id=org, credential_id=credential)
    assert sealed.key_version == kek.key_version
    assert await unseal(kek, sealed, org_id=org, credential_id=credential) == "github_pat_secret"
    assert ("https://vault.azure.net/.default",) in identity.scopes
    assert ("POST", "/keys/credentials-kek/v1/unwrapkey") in vault.seen


async def test_after_rotation_old_credentials_still_open() -> None:
    vault = FakeVault()
    identity = FakeManagedIdentity(vault.token)
    kek = await _key(vault, identity)
    org, credential = uuid.uuid4(), uuid.uuid4()
    old = await seal(kek, "old-token", org_id=org, credential_id=credential)
    vault.rotate()
    rotated = await _key(vault, identity)
    assert rotated.key_version.endswith("/v2")
    assert await unseal(rotated, old, org_id=org, credential_id=credential) == "old-token"


async def test_refusals_are_key_unavailable_without_detail_leaks() -> None:
    vault = FakeVault()
    kek = await _key(vault, FakeManagedIdentity(vault.token))
    vault.deny = True
    with pytest.raises(KeyUnavailable, match="refused the key operation \\(403"):
        await kek.unwrap(b"x" * 256, kek.key_version)
    with pytest.raises(KeyUnavailable, match="not by this Key Vault"):
        await kek.unwrap(b"x", "local:abcdef")


@pytest.mark.skipif(
    not os.environ.get("LOGDAWG_TEST_KEYVAULT_URI"),
    reason="set LOGDAWG_TEST_KEYVAULT_URI (and sign in with az login) to run against Key Vault",
)
async def test_against_a_real_key_vault() -> None:
    from azure.identity import DefaultAzureCredential

    kek = await KeyVaultKey(
        os.environ["LOGDAWG_TEST_KEYVAULT_URI"],
        os.environ.get("LOGDAWG_TEST_KEYVAULT_KEY", "credentials-kek"),
        DefaultAzureCredential(),
    ).load()
    wrapped = await kek.wrap(b"k" * 32)
    assert await kek.unwrap(wrapped, kek.key_version) == b"k" * 32
