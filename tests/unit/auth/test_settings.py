"""Sign-in settings: nonsense stops start-up with the setting's name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings

TENANT = "8b1f6a52-4e1c-4d2a-9c3e-1f0a2b3c4d5e"
APP = "6e2c5a11-9b7d-4f3e-8a21-7c6b5d4e3f20"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (
            {"mode": "multi_tenant", "auth_provider": "entra", "auth_client_id": APP},
            "LOGDAWG_AUTH_TENANT_ID",
        ),
        (
            {
                "mode": "multi_tenant",
                "auth_provider": "entra",
                "auth_tenant_id": "contoso",
                "auth_client_id": APP,
            },
            "LOGDAWG_AUTH_TENANT_ID",
        ),
        (
            {"mode": "multi_tenant", "auth_provider": "entra", "auth_tenant_id": TENANT},
            "LOGDAWG_AUTH_CLIENT_ID",
        ),
        (
            {
                "mode": "multi_tenant",
                "auth_provider": "entra",
                "auth_tenant_id": TENANT,
                "auth_client_id": "api://x",
            },
            "LOGDAWG_AUTH_CLIENT_ID",
        ),
        (
            {
                "mode": "multi_tenant",
                "auth_provider": "entra",
                "auth_tenant_id": "organizations",
                "auth_client_id": APP,
                "auth_allowed_tenants": f"{TENANT},nope",
            },
            "LOGDAWG_AUTH_ALLOWED_TENANTS",
        ),
        (
            {"mode": "multi_tenant", "auth_provider": "dev", "environment": "prod"},
            "LOGDAWG_AUTH_PROVIDER=dev",
        ),
        (
            {
                "mode": "single_tenant",
                "auth_provider": "entra",
                "auth_tenant_id": TENANT,
                "auth_client_id": APP,
            },
            "LOGDAWG_MODE=multi_tenant",
        ),
        ({"api_key_secret": "short"}, "LOGDAWG_API_KEY_SECRET"),
    ],
)
def test_bad_sign_in_settings_name_the_setting(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(**settings)  # type: ignore[arg-type]


def test_the_api_refuses_multi_tenant_mode_without_sign_in() -> None:
    settings = Settings(mode="multi_tenant")  # the worker's settings: no sign-in needed
    with pytest.raises(ValueError, match="LOGDAWG_AUTH_PROVIDER"):
        settings.check_api()
    keyvault = Settings(
        mode="multi_tenant", auth_provider="dev", secret_backend="keyvault",
        keyvault_uri="https://kv.vault.azure.net/",
    )  # fmt: skip
    with pytest.raises(ValueError, match="LOGDAWG_API_KEY_SECRET"):
        keyvault.check_api()


def test_good_sign_in_settings() -> None:
    settings = Settings(
        mode="multi_tenant", auth_provider="entra", auth_tenant_id="organizations",
        auth_client_id=APP, auth_allowed_tenants=f"{TENANT}, {TENANT.upper()}",
    )  # fmt: skip
    settings.check_api()
    assert settings.allowed_tenants == (TENANT, TENANT)
