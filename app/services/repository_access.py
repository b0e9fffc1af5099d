"""What a provider client reads a repository with, by the repository's ``auth_kind``:

- ``token``: the pasted token, unsealed;
- ``github_app``: an installation token of the platform's GitHub App, narrowed to the
  repository (an uninstalled app fails at once with ``InstallationGone``);
- ``azure_identity``: an Entra ID token of the platform's own identity (the worker's managed
  identity in Azure, ``DefaultAzureCredential`` elsewhere); nothing is stored;
- ``azure_service_principal``: an Entra ID token of the customer's service principal, whose
  tenant id, client id and secret or certificate (a PEM: private key and certificate) are
  sealed like any token.

``RepositoryAccess`` lives once per process (on the ``Platform``), so token caches are shared
by every job of the process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuthKind, GitHubInstallation, Repository
from app.git.tokens import (
    EntraTokenSource,
    GitHubApp,
    InstallationGone,
    InstallationTokenSource,
    TokenSource,
)
from app.git.types import BadCredentials, GitProviderError
from app.secrets.base import KeyWrapper
from app.services.repositories import token_for

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


def _default_credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential

    credential: TokenCredential = DefaultAzureCredential()
    return credential


class BadCertificate(ValueError):
    """A service principal's certificate PEM that cannot sign; the message never quotes it."""


@dataclass(frozen=True)
class ServicePrincipalFields:
    """What is sealed for a customer's service principal: a client secret or a certificate
    (PEM with the private key and the certificate, and the key's password if encrypted)."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: str | None = field(default=None, repr=False)
    certificate_password: str | None = field(default=None, repr=False)

    def sealed(self) -> str:
        values = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "certificate": self.certificate,
            "certificate_password": self.certificate_password,
        }
        return json.dumps({k: v for k, v in values.items() if v is not None})

    @classmethod
    def unsealed(cls, text: str) -> ServicePrincipalFields:
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise TypeError("not an object")
        found = cls(
            tenant_id=str(fields["tenant_id"]),
            client_id=str(fields["client_id"]),
            client_secret=fields.get("client_secret"),
            certificate=fields.get("certificate"),
            certificate_password=fields.get("certificate_password"),
        )
        if (found.client_secret is None) == (found.certificate is None):
            raise KeyError("client_secret or certificate")
        return found


def service_principal_credential(fields: ServicePrincipalFields, **options: Any) -> TokenCredential:
    """azure-identity's credential for the service principal: ``CertificateCredential`` for a
    certificate, ``ClientSecretCredential`` for a secret. ``options`` go to azure-identity
    (its ``transport`` is how tests answer for Entra ID)."""
    from azure.identity import CertificateCredential, ClientSecretCredential

    credential: TokenCredential
    if fields.certificate is not None:
        password = fields.certificate_password
        credential = CertificateCredential(
            fields.tenant_id,
            fields.client_id,
            certificate_data=fields.certificate.encode(),
            password=password.encode() if password is not None else None,
            **options,
        )
    else:
        credential = ClientSecretCredential(
            fields.tenant_id, fields.client_id, fields.client_secret or "", **options
        )
    return credential


def check_certificate(pem: str, password: str | None) -> bool:
    """Refuse, with a reason a person can act on, a PEM that is not a private key and the
    certificate it belongs to, or whose key cannot be opened. The PEM is never quoted.
    Returns whether the key needs the password (a password given for an unencrypted key is
    not needed, and not kept)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = pem.encode()
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise BadCertificate(
            "holds no X.509 certificate: give one PEM with the private key and the certificate "
            "(for example `cat key.pem cert.pem`)"
        )
    if b"PRIVATE KEY-----" not in data:
        raise BadCertificate(
            "holds no private key: give one PEM with the private key and the certificate"
        )
    needs_password = password is not None
    try:
        try:
            key = serialization.load_pem_private_key(
                data, password.encode() if password is not None else None
            )
        except TypeError:
            if password is None:
                raise BadCertificate(
                    "the private key is encrypted: give its password in `certificate_password`"
                ) from None
            needs_password = False  # an unencrypted key: the password is not needed
            key = serialization.load_pem_private_key(data, None)
    except BadCertificate:
        raise
    except ValueError:
        if password is not None:
            raise BadCertificate(
                "the private key cannot be opened: is `certificate_password` right?"
            ) from None
        raise BadCertificate("the private key cannot be read (not a PEM private key)") from None
    except Exception:  # cryptography's UnsupportedAlgorithm and the like
        raise BadCertificate("the private key is of a kind that cannot sign") from None
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    matching = [
        c
        for c in certificates
        if c.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public
    ]
    if not matching:
        raise BadCertificate("the private key does not belong to the certificate")
    if matching[0].not_valid_after_utc <= datetime.now(UTC):
        raise BadCertificate(
            f"the certificate expired on {matching[0].not_valid_after_utc:%Y-%m-%d}: upload "
            "the new one"
        )
    return needs_password


@dataclass
class RepositoryAccess:
    github_app: GitHubApp | None = None
    # The azure-identity seams; tests hand in fake credentials.
    platform_credential: Callable[[], TokenCredential] = _default_credential
    service_principal: Callable[[ServicePrincipalFields], TokenCredential] = (
        service_principal_credential
    )
    # Multi-tenant: the (Azure DevOps organisation, Log Dawg organisation) pairs the operator
    # approved for the platform's own identity; None (single-tenant): no restriction.
    identity_grants: frozenset[tuple[str, uuid.UUID]] | None = None
    _entra: dict[str, EntraTokenSource] = field(default_factory=dict)

    def identity_allowed(self, org_id: uuid.UUID, ado_org: str) -> bool:
        return self.identity_grants is None or (ado_org.lower(), org_id) in self.identity_grants

    def platform_source(self) -> EntraTokenSource:
        key = "azure-devops:platform-identity"
        if key not in self._entra:
            self._entra[key] = EntraTokenSource(self.platform_credential(), key=key)
        return self._entra[key]

    def service_principal_source(self, credential_id: uuid.UUID, sealed: str) -> EntraTokenSource:
        # Keyed by the sealed credential's id: a replaced secret is a new credential.
        key = f"azure-devops:service-principal:{credential_id}"
        if key not in self._entra:
            try:
                fields = ServicePrincipalFields.unsealed(sealed)
            except (ValueError, KeyError, TypeError):
                raise BadCredentials(
                    "the stored service principal is incomplete: register it again"
                ) from None
            try:
                credential = self.service_principal(fields)
            except (ValueError, TypeError):
                # azure-identity refuses a certificate it cannot load; never quote it.
                raise BadCredentials(
                    "the stored service principal's certificate cannot be loaded: register it again"
                ) from None
            self._entra[key] = EntraTokenSource(credential, key=key)
        return self._entra[key]

    async def credential_for(
        self, session: AsyncSession, kek: KeyWrapper, repository: Repository
    ) -> str | TokenSource | None:
        """A token (``str``), a token source, or None (anonymous); raises a
        ``GitProviderError`` a person must act on when the set-up cannot work."""
        kind = repository.auth_kind
        if kind == AuthKind.GITHUB_APP:
            return await self._installation_source(session, repository)
        if kind == AuthKind.AZURE_IDENTITY:
            if not self.identity_allowed(repository.org_id, repository.owner):
                raise BadCredentials(
                    f"the platform's identity is not approved for the Azure DevOps organisation "
                    f"{repository.owner!r} of this organisation: ask the operator"
                )
            return self.platform_source()
        if kind == AuthKind.AZURE_SERVICE_PRINCIPAL:
            sealed = await token_for(session, kek, repository)
            if sealed is None or repository.credential_id is None:
                raise BadCredentials("the repository's service principal is missing")
            return self.service_principal_source(repository.credential_id, sealed)
        return await token_for(session, kek, repository)

    async def _installation_source(
        self, session: AsyncSession, repository: Repository
    ) -> InstallationTokenSource:
        if self.github_app is None:
            raise BadCredentials(
                "the repository is read through the GitHub App, which this platform does not "
                "have configured (LOGDAWG_GITHUB_APP_ID)"
            )
        installation = (
            await session.get(GitHubInstallation, repository.github_installation_id)
            if repository.github_installation_id is not None
            else None
        )
        if installation is None or installation.removed_at is not None:
            raise InstallationGone(
                "the GitHub App was uninstalled: install it again and register the repository "
                "with it"
            )
        return self.github_app.source(installation.installation_id, repository.name)


async def mark_unreachable(
    session: AsyncSession, repository_id: uuid.UUID, error: GitProviderError
) -> None:
    """Note on the repository that access is gone (shown by the API and the SPA)."""
    await session.execute(
        update(Repository)
        .where(Repository.id == repository_id)
        .values(unreachable_reason=str(error)[:500], unreachable_at=datetime.now(UTC))
    )
