"""The GitHub App's settings fail fast, naming the setting; the key is never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.bootstrap import github_app
from app.settings import Settings

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
FULL = {
    "github_app_id": 12,
    "github_app_private_key": SecretStr(PEM),
    "github_app_webhook_secret": SecretStr("w" * 20),
    "github_app_slug": "log-dawg",
}


def test_unset_means_no_app() -> None:
    settings = Settings()
    assert not settings.github_app_configured
    assert github_app(settings) is None


def test_a_complete_app_is_built_once_per_process() -> None:
    app = github_app(Settings(**FULL))  # type: ignore[arg-type]
    assert app is not None and app.app_id == 12


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("github_app_private_key", "LOGDAWG_GITHUB_APP_PRIVATE_KEY"),
        ("github_app_webhook_secret", "LOGDAWG_GITHUB_APP_WEBHOOK_SECRET"),
        ("github_app_slug", "LOGDAWG_GITHUB_APP_SLUG"),
        ("github_app_id", "LOGDAWG_GITHUB_APP_ID"),
    ],
)
def test_a_partial_app_names_what_is_missing(missing: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(**{k: v for k, v in FULL.items() if k != missing})  # type: ignore[arg-type]


def test_nonsense_is_refused_without_echoing_the_key() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{**FULL, "github_app_private_key": SecretStr("hunter2-not-a-key")})  # type: ignore[arg-type]
    assert "LOGDAWG_GITHUB_APP_PRIVATE_KEY" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(**{**FULL, "github_app_webhook_secret": SecretStr("short")})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="LOGDAWG_GITHUB_API_URL"):
        Settings(**{**FULL, "github_api_url": "http://github.example"})  # type: ignore[arg-type]


def test_the_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(PEM)
    settings = Settings(
        **{k: v for k, v in FULL.items() if k != "github_app_private_key"},  # type: ignore[arg-type]
        github_app_private_key_file=key_file,
    )
    assert settings.github_app_key_pem() == PEM
    key_file.write_text("not a key")
    with pytest.raises(ValueError, match="LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE"):
        settings.github_app_key_pem()


def test_identity_approvals_are_pairs_of_an_azure_devops_org_and_an_organisation_id() -> None:
    org = "6f1c2b8e-0000-4000-8000-000000000001"
    settings = Settings(azure_devops_identity_orgs=f" Contoso={org} ,fabrikam={org}")
    assert {name for name, _ in settings.azure_devops_identity_grants} == {"contoso", "fabrikam"}
    with pytest.raises(ValidationError, match="LOGDAWG_AZURE_DEVOPS_IDENTITY_ORGS"):
        Settings(azure_devops_identity_orgs="contoso=not-a-uuid")


def test_multi_tenant_needs_the_app_to_verify_who_installs() -> None:
    multi = {"mode": "multi_tenant", "auth_provider": "dev", "environment": "local"}
    with pytest.raises(ValidationError, match="LOGDAWG_GITHUB_APP_CLIENT_SECRET"):
        Settings(**multi, **FULL)  # type: ignore[arg-type]
    settings = Settings(
        **multi,  # type: ignore[arg-type]
        **FULL,  # type: ignore[arg-type]
        github_app_client_id="Iv1.abc",
        github_app_client_secret=SecretStr("s" * 20),
    )
    app = github_app(settings)
    assert app is not None and app.verifies_users
