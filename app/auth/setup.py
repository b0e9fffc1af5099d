"""Builds the API's access layer from settings: the token verifier (Entra ID, or the local
development issuer), the API-key hasher and the ingest rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from app.api.deps import IngestLimits
from app.auth.api_keys import KeyHasher
from app.auth.authenticate import Authenticator
from app.auth.dev_issuer import DEV_AUDIENCE, DevIssuer
from app.auth.ratelimit import RateLimiter
from app.auth.tokens import EntraVerifier, Verifier
from app.bootstrap import Platform
from app.secrets.local import load_or_create_secret
from app.settings import Settings


def api_key_secret(settings: Settings) -> bytes:
    if settings.api_key_secret is not None:
        return settings.api_key_secret.get_secret_value().encode()
    return load_or_create_secret(settings.api_key_secret_path)


@dataclass
class Access:
    authenticator: Authenticator
    entra: EntraVerifier | None

    async def aclose(self) -> None:
        if self.entra is not None:
            await self.entra.aclose()


def install_access(app: FastAPI, platform: Platform) -> Access:
    settings = platform.settings
    verifier: Verifier | None = None
    entra: EntraVerifier | None = None
    if settings.auth_provider == "dev":
        issuer = DevIssuer(
            audience=settings.auth_client_id or DEV_AUDIENCE, scope=settings.auth_scope
        )
        app.state.dev_issuer = issuer
        verifier = issuer.verifier(leeway_s=settings.auth_leeway_s)
    elif settings.auth_provider == "entra":
        assert settings.auth_tenant_id and settings.auth_client_id  # checked by Settings
        entra = verifier = EntraVerifier(
            authority=settings.auth_authority,
            tenant=settings.auth_tenant_id,
            audiences=(settings.auth_client_id,),
            allowed_tenants=settings.allowed_tenants,
            scope=settings.auth_scope,
            leeway_s=settings.auth_leeway_s,
        )
    authenticator = Authenticator(
        sessions=platform.sessions,
        hasher=KeyHasher(api_key_secret(settings)),
        verifier=verifier,
        local_org_id=platform.local_org_id,
        local_user_id=platform.local_user_id,
        ingest_role=settings.auth_ingest_role,
    )
    app.state.authenticator = authenticator
    app.state.ingest_limits = IngestLimits(
        per_sender=RateLimiter(settings.ingest_rate_per_key, settings.ingest_burst_per_key),
        per_org=RateLimiter(settings.ingest_rate_per_org, settings.ingest_burst_per_org),
    )
    return Access(authenticator=authenticator, entra=entra)
