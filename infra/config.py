"""The stack's configuration, typed and validated before any resource is declared.

The environment comes from the stack name: ``dev``, ``prod``, or ``pr-<number>`` for the
ephemeral preview stack of a pull request. Each environment has a profile (SKUs, retention,
redundancy); the YAML files may override what they document in ``Pulumi.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Environment = Literal["dev", "prod", "pr"]
_PR_STACK = re.compile(r"^pr-(\d{1,7})$")


@dataclass(frozen=True)
class Profile:
    """What differs between environments, in one place."""

    postgres_sku: str
    postgres_tier: str
    postgres_storage_gb: int
    postgres_backup_days: int
    postgres_geo_backup: bool
    postgres_zone_redundant_ha: bool
    servicebus_sku: Literal["Standard", "Premium"]
    servicebus_private: bool
    app_plan_sku: str
    app_plan_tier: str
    app_instances: int
    separate_worker_plan: bool
    worker_autoscale: bool
    api_staging_slot: bool
    registry_sku: Literal["Basic", "Standard", "Premium"]
    static_site_sku: Literal["Free", "Standard"]
    keyvault_purge_protection: bool
    log_retention_days: int
    # Monthly cost budget of the environment's resource group, in the billing currency.
    monthly_budget: int
    # Stateful resources (database, vault, bus, registry, logs) refuse deletion by Pulumi.
    protect_stateful: bool


PROFILES: dict[Environment, Profile] = {
    "dev": Profile(
        postgres_sku="Standard_B1ms",
        postgres_tier="Burstable",
        postgres_storage_gb=32,
        postgres_backup_days=7,
        postgres_geo_backup=False,
        postgres_zone_redundant_ha=False,
        servicebus_sku="Standard",
        servicebus_private=False,
        app_plan_sku="B1",
        app_plan_tier="Basic",
        app_instances=1,
        separate_worker_plan=False,
        worker_autoscale=False,
        api_staging_slot=False,
        registry_sku="Basic",
        static_site_sku="Free",
        keyvault_purge_protection=False,
        log_retention_days=30,
        monthly_budget=150,
        protect_stateful=False,
    ),
    "prod": Profile(
        postgres_sku="Standard_D2ds_v5",
        postgres_tier="GeneralPurpose",
        postgres_storage_gb=128,
        postgres_backup_days=35,
        postgres_geo_backup=True,
        postgres_zone_redundant_ha=True,
        servicebus_sku="Premium",
        servicebus_private=True,
        app_plan_sku="P1v3",
        app_plan_tier="PremiumV3",
        app_instances=2,
        separate_worker_plan=True,
        worker_autoscale=True,
        api_staging_slot=True,
        registry_sku="Standard",
        static_site_sku="Standard",
        keyvault_purge_protection=True,
        log_retention_days=90,
        monthly_budget=1500,
        protect_stateful=True,
    ),
}
# A PR stack is dev's profile with a small budget: it lives for days, not months.
PROFILES["pr"] = replace(PROFILES["dev"], monthly_budget=40)
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_NIL_GUID = "00000000-0000-0000-0000-000000000000"


class StackConfig(BaseModel):
    """Validated stack configuration (keys documented in ``Pulumi.yaml``)."""

    model_config = ConfigDict(frozen=True)

    stack: str
    environment: Environment
    pr_number: int | None = None
    location: str = Field(min_length=3, max_length=40, pattern=r"^[a-z0-9]+$")
    static_site_location: str = Field(default="westeurope", pattern=r"^[a-z0-9]+$")
    name_prefix: str = Field(min_length=3, max_length=10, pattern=r"^[a-z][a-z0-9]+$")
    owner: str = Field(min_length=1, max_length=100)
    application: str = "log-dawg-cloud"
    image_tag: str = Field(default="latest", pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    vnet_cidr: str = Field(default="10.40.0.0/16", pattern=r"^\d+\.\d+\.\d+\.\d+/\d+$")
    postgres_admin_object_id: str = Field(pattern=_GUID)
    postgres_admin_name: str = Field(min_length=1, max_length=128)
    postgres_admin_type: Literal["Group", "User", "ServicePrincipal"] = "Group"
    postgres_version: Literal["15", "16", "17"] = "16"
    diagnoser: str = "heuristic"
    pr_ttl_days: int = Field(default=7, ge=1, le=30)
    # Sign-in (issue 8): the API validates Entra ID access tokens issued for its own app
    # registration. Plain identifiers, no secret.
    auth_client_id: str = Field(pattern=_GUID)
    # A tenant id, or ``organizations`` for any work account; unset: the deploying tenant.
    auth_tenant_id: str | None = Field(default=None, pattern=rf"{_GUID[:-1]}|^organizations$")
    # The SPA's own app registration, handed to browsers by GET /api/v1/auth/config.
    auth_spa_client_id: str | None = Field(default=None, pattern=_GUID)
    auth_allowed_tenants: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    monthly_budget: int | None = Field(default=None, ge=1)
    # A custom domain of the SPA (its CNAME to the Static Web App first); the API allows it as
    # an origin besides the site's default hostname.
    spa_custom_domain: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    )

    @model_validator(mode="after")
    def _pr_stacks_have_numbers(self) -> StackConfig:
        if (self.environment == "pr") != (self.pr_number is not None):
            raise ValueError("only pr-<number> stacks carry a PR number")
        return self

    @model_validator(mode="after")
    def _no_placeholder_ids(self) -> StackConfig:
        for key, value in (
            ("postgresAdminObjectId", self.postgres_admin_object_id),
            ("authClientId", self.auth_client_id),
        ):
            if value == _NIL_GUID:
                raise ValueError(
                    f"{key} is the all-zero placeholder; set the real object id with "
                    f"`pulumi config set {key} <id> --stack {self.stack}`"
                )
        for email in self.alert_emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"alertEmails: {email!r} is not an e-mail address")
        return self

    @property
    def budget(self) -> int:
        return self.monthly_budget or self.profile.monthly_budget

    @property
    def profile(self) -> Profile:
        return PROFILES[self.environment]

    @property
    def ephemeral(self) -> bool:
        return self.environment == "pr"

    @property
    def env_label(self) -> str:
        return f"pr{self.pr_number}" if self.pr_number is not None else self.environment

    @property
    def tags(self) -> dict[str, str]:
        tags = {
            "environment": self.env_label,
            "application": self.application,
            "owner": self.owner,
            "managed-by": "pulumi",
        }
        if self.pr_number is not None:
            expires = datetime.now(UTC).date() + timedelta(days=self.pr_ttl_days)
            tags |= {"pull-request": str(self.pr_number), "expires": expires.isoformat()}
        return tags


def environment_of(stack: str) -> tuple[Environment, int | None]:
    if stack in ("dev", "prod"):
        return stack, None  # type: ignore[return-value]
    if m := _PR_STACK.match(stack):
        return "pr", int(m.group(1))
    raise ValueError(
        f"stack {stack!r} is not an environment: use dev, prod, or pr-<number> for a pull request"
    )


def _require(config: pulumi.Config, stack: str, key: str, what: str) -> str:
    value = config.get(key)
    if not value:
        raise ValueError(
            f"missing stack configuration {key} ({what}) for {stack}: "
            f"run `pulumi config set {key} <value> --stack {stack}` (see README, Deploy to Azure)"
        )
    return value


def _list(value: str | None) -> list[str]:
    """A comma-separated config value (``a@x.org,b@x.org``) as a list."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def load(stack: str | None = None) -> StackConfig:
    """Read and validate the stack's configuration; a mistake stops the program with the
    key's name before anything is declared."""
    stack = stack or pulumi.get_stack()
    config = pulumi.Config()
    environment, pr_number = environment_of(stack)
    raw = {
        "stack": stack,
        "environment": environment,
        "pr_number": pr_number,
        "location": config.get("location") or "westeurope",
        "static_site_location": config.get("staticSiteLocation") or "westeurope",
        "name_prefix": config.get("namePrefix") or "logdawg",
        "owner": config.require("owner"),
        "image_tag": config.get("imageTag") or "latest",
        "vnet_cidr": config.get("vnetCidr") or "10.40.0.0/16",
        "postgres_admin_object_id": _require(config, stack, "postgresAdminObjectId",
                                             "object id of the PostgreSQL admin group"),
        "postgres_admin_name": config.require("postgresAdminName"),
        "postgres_admin_type": config.get("postgresAdminType") or "Group",
        "postgres_version": config.get("postgresVersion") or "16",
        "diagnoser": config.get("diagnoser") or "heuristic",
        "pr_ttl_days": config.get_int("prTtlDays") or 7,
        "auth_client_id": _require(config, stack, "authClientId",
                                   "application (client) id of the API's app registration"),
        "auth_tenant_id": config.get("authTenantId"),
        "auth_spa_client_id": config.get("authSpaClientId"),
        "auth_allowed_tenants": tuple(_list(config.get("authAllowedTenants"))),
        "alert_emails": tuple(_list(config.get("alertEmails"))),
        "monthly_budget": config.get_int("monthlyBudget"),
        "spa_custom_domain": config.get("spaCustomDomain"),
    }  # fmt: skip
    try:
        return StackConfig(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid stack configuration for {stack}: {problems}") from None
