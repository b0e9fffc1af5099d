"""The key-encryption key in Azure Key Vault: data keys are wrapped and unwrapped with an RSA
key (RSA-OAEP-256) that never leaves the vault.

The apps reach the vault through its private endpoint with their managed identity
(``AZURE_CLIENT_ID``), whose only right on the key is Key Vault Crypto User. The key version
that wrapped each data key is its full key id, so rotating the key in the vault leaves older
credentials readable.
"""

from __future__ import annotations

import asyncio
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

from app.secrets.base import KeyUnavailable

ALGORITHM = KeyWrapAlgorithm.rsa_oaep_256


class KeyVaultKey:
    def __init__(
        self,
        vault_uri: str,
        key_name: str,
        credential: TokenCredential,
        **client_options: Any,
    ) -> None:
        self._vault_uri = vault_uri
        self._key_name = key_name
        self._credential = credential
        # ``transport`` and other azure-core options, for the SDK's own test seams.
        self._options = client_options
        self._key_id: str | None = None
        self._clients: dict[str, CryptographyClient] = {}

    def __repr__(self) -> str:
        return f"KeyVaultKey({self._vault_uri}, {self._key_name})"

    async def load(self) -> KeyVaultKey:
        """Resolve the key's current version (once, at start-up)."""

        def current() -> str:
            client = KeyClient(self._vault_uri, self._credential, **self._options)
            key_id = client.get_key(self._key_name).id
            if not key_id:
                raise KeyUnavailable(f"Key Vault returned no id for key {self._key_name}")
            return key_id

        self._key_id = await self._call(current)
        return self

    @property
    def key_version(self) -> str:
        if self._key_id is None:
            raise KeyUnavailable("the Key Vault key was not loaded; call load() first")
        return self._key_id

    def _client(self, key_id: str) -> CryptographyClient:
        if key_id not in self._clients:
            self._clients[key_id] = CryptographyClient(key_id, self._credential, **self._options)
        return self._clients[key_id]

    async def wrap(self, data_key: bytes) -> bytes:
        client = self._client(self.key_version)
        result = await self._call(lambda: client.wrap_key(ALGORITHM, data_key))
        return bytes(result.encrypted_key)

    async def unwrap(self, wrapped: bytes, key_version: str) -> bytes:
        if not key_version.startswith(self._vault_uri.rstrip("/") + "/keys/"):
            raise KeyUnavailable(
                f"this data key was wrapped by {key_version.split(':', 1)[0]!r}, not by "
                "this Key Vault"
            )
        client = self._client(key_version)
        result = await self._call(lambda: client.unwrap_key(ALGORITHM, wrapped))
        return bytes(result.key)

    async def _call(self, fn: Any) -> Any:
        try:
            return await asyncio.to_thread(fn)
        except HttpResponseError as exc:
            raise KeyUnavailable(
                f"Key Vault refused the key operation ({exc.status_code}: {exc.reason})"
            ) from None
        except AzureError as exc:
            raise KeyUnavailable(f"Key Vault could not be reached ({type(exc).__name__})") from None
