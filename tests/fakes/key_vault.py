"""Azure Key Vault's keys REST API (get key, wrapkey, unwrapkey), behind the Azure SDK's own
transport seam: a ``requests`` adapter mounted on the session of azure-core's
``RequestsTransport``. Requests never leave the process; the SDK's pipeline, challenge
authentication and serialisation all run for real. The RSA key is made by the test."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

VAULT = "https://fake-kv.vault.azure.net"
OAEP_256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeVault(BaseAdapter):  # type: ignore[misc]
    key_name: str = "credentials-kek"
    versions: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    current: str = ""
    token: str = "kv-access-token"
    seen: list[tuple[str, str]] = field(default_factory=list)
    deny: bool = False

    def __post_init__(self) -> None:
        super().__init__()
        self.rotate()

    def rotate(self) -> str:
        version = f"v{len(self.versions) + 1}"
        self.versions[version] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.current = version
        return version

    def kid(self, version: str) -> str:
        return f"{VAULT}/keys/{self.key_name}/{version}"

    def transport(self) -> RequestsTransport:
        session = requests.Session()
        session.mount("https://", self)
        return RequestsTransport(session=session, session_owner=False)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url or "").path.rstrip("/")
        self.seen.append((request.method or "", path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(request, 401, {"error": {"code": "Unauthorized"}}, {
                "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/'
                '72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"'
            })  # fmt: skip
        if self.deny:
            denied = {"error": {"code": "Forbidden", "message": "no keys/unwrapKey"}}
            return self._answer(request, 403, denied)
        parts = path.split("/")  # ['', 'keys', name, version?, operation?]
        if len(parts) < 3 or parts[1] != "keys" or parts[2] != self.key_name:
            return self._answer(request, 404, {"error": {"code": "KeyNotFound"}})
        version = parts[3] if len(parts) > 3 else self.current
        private = self.versions.get(version)
        if private is None:
            return self._answer(request, 404, {"error": {"code": "KeyNotFound"}})
        operation = parts[4] if len(parts) > 4 else None
        if operation is None:
            numbers = private.public_key().public_numbers()
            return self._answer(request, 200, {
                "key": {
                    "kid": self.kid(version), "kty": "RSA", "key_ops": ["wrapKey", "unwrapKey"],
                    "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": b64url(numbers.e.to_bytes(3, "big")),
                },
                "attributes": {"enabled": True, "recoveryLevel": "Recoverable"},
            })  # fmt: skip
        body = json.loads(request.body or b"{}")
        assert body.get("alg") == "RSA-OAEP-256", body
        value = unb64url(body["value"])
        if operation == "wrapkey":
            out = private.public_key().encrypt(value, OAEP_256)
        elif operation == "unwrapkey":
            out = private.decrypt(value, OAEP_256)
        else:
            return self._answer(request, 400, {"error": {"code": "BadParameter"}})
        return self._answer(request, 200, {"kid": self.kid(version), "value": b64url(out)})

    @staticmethod
    def _answer(
        request: requests.PreparedRequest,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json", **(headers or {})}
        )
        data = json.dumps(body).encode()
        response._content = data
        # azure-core reads the urllib3 response under requests' one, as a real adapter has it.
        response.raw = HTTPResponse(
            body=io.BytesIO(data), headers=dict(response.headers), status=status,
            preload_content=False,
        )  # fmt: skip
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None


class FakeManagedIdentity:
    """azure-identity's TokenCredential protocol, as a managed identity would answer it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, 4_102_444_800)
