"""What a provider client reads a repository with, by the repository's ``auth_kind``:

- ``token``: the pasted token, unsealed;
- ``github_app``: an installation token of the platform's GitHub App, narrowed to the
  repository (an uninstalled app fails at once with ``InstallationGone``);
- ``azure_identity``: an Entra ID token of the platform's own identity (the worker's managed
  identity in Azure, ``DefaultAzureCredential`` elsewhere); nothing is stored;
- ``azure_service_principal``: an Entra ID token of the customer's service principal, whose
  tenant id, client id and secret are sealed like any token.

``RepositoryAccess`` lives once per process (on the ``Platform``), so token caches are shared
by every job of the process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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


def _service_principal(tenant_id: str, client_id: str, secret: str) -> TokenCredential:
    from azure.identity import ClientSecretCredential

    credential: TokenCredential = ClientSecretCredential(tenant_id, client_id, secret)
    return credential


def service_principal_secret(tenant_id: str, client_id: str, client_secret: str) -> str:
    """What is sealed for a customer's service principal."""
    return json.dumps(
        {"tenant_id": tenant_id, "client_id": client_id, "client_secret": client_secret}
    )


@dataclass
class RepositoryAccess:
    github_app: GitHubApp | None = None
    # The azure-identity seams; tests hand in fake credentials.
    platform_credential: Callable[[], TokenCredential] = _default_credential
    service_principal: Callable[[str, str, str], TokenCredential] = _service_principal
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
                fields = json.loads(sealed)
                credential = self.service_principal(
                    str(fields["tenant_id"]), str(fields["client_id"]), str(fields["client_secret"])
                )
            except (ValueError, KeyError, TypeError):
                raise BadCredentials(
                    "the stored service principal is incomplete: register it again"
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
