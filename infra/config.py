"""The stack's configuration, typed and validated before any resource is declared.

The environment comes from the stack name: ``dev``, ``prod``, or ``pr-<number>`` for the
ephemeral preview stack of a pull request. Each environment has a profile (SKUs, retention,
redundancy); the YAML files may override what they document in ``Pulumi.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    ),
}
PROFILES["pr"] = PROFILES["dev"]


_GUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


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
    postgres_admin_object_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    postgres_admin_name: str = Field(min_length=1, max_length=128)
    postgres_admin_type: Literal["Group", "User", "ServicePrincipal"] = "Group"
    postgres_version: Literal["15", "16", "17"] = "16"
    diagnoser: str = "heuristic"
    pr_ttl_days: int = Field(default=7, ge=1, le=30)
    # Sign-in: the Entra tenant (or ``organizations``) and the app registrations' ids. Plain
    # configuration: an application id is not a secret.
    auth_tenant_id: str = Field(
        pattern=r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|organizations)$"
    )
    auth_api_client_id: str = Field(pattern=_GUID)
    auth_spa_client_id: str | None = Field(default=None, pattern=_GUID)
    auth_allowed_tenants: str | None = Field(
        default=None, pattern=rf"^{_GUID[1:-1]}(,{_GUID[1:-1]})*$"
    )

    @model_validator(mode="after")
    def _pr_stacks_have_numbers(self) -> StackConfig:
        if (self.environment == "pr") != (self.pr_number is not None):
            raise ValueError("only pr-<number> stacks carry a PR number")
        return self

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
        "postgres_admin_object_id": config.require("postgresAdminObjectId"),
        "postgres_admin_name": config.require("postgresAdminName"),
        "postgres_admin_type": config.get("postgresAdminType") or "Group",
        "postgres_version": config.get("postgresVersion") or "16",
        "diagnoser": config.get("diagnoser") or "heuristic",
        "pr_ttl_days": config.get_int("prTtlDays") or 7,
        "auth_tenant_id": config.require("authTenantId"),
        "auth_api_client_id": config.require("authApiClientId"),
        "auth_spa_client_id": config.get("authSpaClientId"),
        "auth_allowed_tenants": config.get("authAllowedTenants"),
    }
    try:
        return StackConfig(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid stack configuration for {stack}: {problems}") from None
