"""Azure DevOps read with a customer's own service principal that signs in with a certificate
(or a secret), through the real azure-identity credentials: their own transport seam sends
Entra ID's requests to a token endpoint on 127.0.0.1 that verifies the client assertion with
the certificate. The PEM is checked at registration, sealed, never returned or logged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app.bootstrap import Platform
from app.main import create_app
from app.services.repository_access import (
    RepositoryAccess,
    ServicePrincipalFields,
    service_principal_credential,
)
from tests.fakes.entra_tokens import (
    FakeEntraTokens,
    LoopbackTransport,
    Principal,
    fake_entra_tokens,
)
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, serve
from tests.fakes.sample_repo import build_sample_repo

pytestmark = pytest.mark.integration

TENANT = str(uuid.uuid4())
PASSWORD = "pem-password-" + uuid.uuid4().hex[:12]


def certificate(key: rsa.RSAPrivateKey, *, days: int = 30) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "logdawg-reader")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1 + max(0, -days)))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def key_pem(key: rsa.RSAPrivateKey, password: str | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclasses.dataclass
class Setup:
    client: httpx.AsyncClient
    entra: FakeEntraTokens
    ado: FakeServer
    transports: list[LoopbackTransport]
    unsealed: list[ServicePrincipalFields]


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[tuple[FakeEntraTokens, FakeServer]]:
    with (
        serve(AzureDevOpsHandler, build_sample_repo(tmp_path), token="no-pat") as ado,
        fake_entra_tokens() as entra,
    ):

        def accept(token: str, expires: float) -> None:
            ado.issued[token] = (0, None, expires)

        entra.on_issue = accept
        yield entra, ado


@pytest.fixture
async def setup(platform: Platform, fakes: tuple[FakeEntraTokens, FakeServer]) -> Any:
    entra, ado = fakes
    transports: list[LoopbackTransport] = []
    unsealed: list[ServicePrincipalFields] = []

    def through_the_fake(fields: ServicePrincipalFields) -> Any:
        unsealed.append(fields)
        transport = LoopbackTransport(entra.url)
        transports.append(transport)
        return service_principal_credential(fields, transport=transport)

    single = dataclasses.replace(
        platform, access=RepositoryAccess(service_principal=through_the_fake)
    )
    transport = httpx.ASGITransport(app=create_app(platform=single))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield Setup(client, entra, ado, transports, unsealed)


def body(ado: FakeServer, **principal: str) -> dict[str, Any]:
    return {
        "provider": "azure_devops", "owner": "contoso", "project": "Shop", "name": "shop",
        "base_url": f"{ado.url}/contoso", "auth": "azure_service_principal",
        "service_principal": {"tenant_id": TENANT, **principal},
    }  # fmt: skip


async def register_and_test(s: Setup, principal: dict[str, str]) -> dict[str, Any]:
    created = await s.client.post("/api/v1/repositories", json=body(s.ado, **principal))
    assert created.status_code == 201, created.text
    assert created.json()["has_credential"] is True
    assert created.json()["auth_kind"] == "azure_service_principal"
    repo_id = created.json()["id"]
    tested = await s.client.post(f"/api/v1/repositories/{repo_id}/test")
    outcome: dict[str, Any] = tested.json()
    assert (await s.client.delete(f"/api/v1/repositories/{repo_id}")).status_code == 204
    return {"created": created.text, **outcome}


async def test_a_certificate_signs_in_through_azure_identity(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    s = setup
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = certificate(key)
    client_id = str(uuid.uuid4())
    s.entra.principals[client_id] = Principal(TENANT, client_id, certificate=cert)

    plain = key_pem(key) + cert_pem(cert)
    read = await register_and_test(s, {"client_id": client_id, "certificate": plain})
    assert read["ok"] is True, (read, s.entra.refused)
    assert s.entra.refused == [] and len(s.entra.assertions) == 1
    assert any(t.sent[-1].endswith("/oauth2/v2.0/token") for t in s.transports)

    # The certificate first, then an encrypted key with its password: the same.
    encrypted = cert_pem(cert) + key_pem(key, PASSWORD)
    read = await register_and_test(
        s, {"client_id": client_id, "certificate": encrypted, "certificate_password": PASSWORD}
    )
    assert read["ok"] is True, read
    assert s.entra.refused == [] and len(s.entra.assertions) == 2
    assert s.unsealed[-1].certificate_password == PASSWORD

    # A password given for an unencrypted key is not needed, and not kept.
    read = await register_and_test(
        s, {"client_id": client_id, "certificate": plain, "certificate_password": PASSWORD}
    )
    assert read["ok"] is True, read
    assert s.unsealed[-1].certificate_password is None

    # Another key under the same certificate name: Entra ID refuses the assertion, and the
    # test of the connection says the credentials are refused.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    s.entra.principals[client_id] = Principal(TENANT, client_id, certificate=certificate(other))
    read = await register_and_test(s, {"client_id": client_id, "certificate": plain})
    assert read["ok"] is False and read["problem"] == "bad_credentials", read
    assert s.entra.refused == ["the assertion names another certificate"]
    assert len(s.entra.assertions) == 4

    secrets_ = [*plain.splitlines()[1:-1], *encrypted.splitlines()[1:-1], PASSWORD]
    secrets_ = [line for line in secrets_ if "-----" not in line]
    secrets_ += s.entra.issued + s.entra.assertions
    output = caplog.text + read["created"]
    assert [x[:12] for x in secrets_ if x in output] == []


async def test_a_client_secret_signs_in_through_the_same_endpoint(setup: Setup) -> None:
    s = setup
    client_id, secret = str(uuid.uuid4()), "sp-secret-" + uuid.uuid4().hex
    s.entra.principals[client_id] = Principal(TENANT, client_id, secret=secret)
    read = await register_and_test(s, {"client_id": client_id, "client_secret": secret})
    assert read["ok"] is True, read
    wrong = await register_and_test(s, {"client_id": client_id, "client_secret": "not-it"})
    assert wrong["ok"] is False and wrong["problem"] == "bad_credentials", wrong
    assert s.entra.refused == ["wrong or missing client secret"]


async def test_a_pem_that_cannot_sign_is_refused_at_registration(setup: Setup) -> None:
    s = setup
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = certificate(key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client_id = str(uuid.uuid4())
    cases = {
        "holds no X.509 certificate": {"certificate": key_pem(key)},
        "holds no private key": {"certificate": cert_pem(cert)},
        "is encrypted: give its password": {"certificate": key_pem(key, PASSWORD) + cert_pem(cert)},
        "cannot be opened": {"certificate": key_pem(key, PASSWORD) + cert_pem(cert),
                             "certificate_password": "wrong-password"},
        "does not belong to the certificate": {"certificate": key_pem(other) + cert_pem(cert)},
        "expired on": {"certificate": key_pem(key) + cert_pem(certificate(key, days=-2))},
        "one of the two": {"certificate": key_pem(key) + cert_pem(cert), "client_secret": "x"},
    }  # fmt: skip
    cases["one of the two "] = {}
    cases["holds no X.509 certificate "] = {"certificate": "not a PEM at all"}
    for expected, principal in cases.items():
        answer = await s.client.post(
            "/api/v1/repositories", json=body(s.ado, client_id=client_id, **principal)
        )
        assert answer.status_code == 422, (expected, answer.text)
        detail = answer.json()["detail"]
        assert expected.strip() in detail, (expected, detail)
        for value in principal.values():
            lines = [ln for ln in value.splitlines() if "-----" not in ln and len(ln) > 8]
            assert not any(ln in answer.text for ln in lines), expected
    assert (await s.client.get("/api/v1/repositories")).json() == []
    assert s.entra.issued == []
