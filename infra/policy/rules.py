"""The guardrails, as plain functions of a resource's type and input properties (the names
Pulumi gives them, camelCase). The policy pack enforces them on ``pulumi preview/up``; the unit
tests run them over every resource the program declares, and over resources made wrong on
purpose, so a guardrail that cannot fail would be noticed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Props = Mapping[str, Any]
REQUIRED_TAGS = ("environment", "application", "owner")
_SECRETISH = re.compile(
    r"(InstrumentationKey=|AccountKey=|SharedAccessKey=|Password=|password=|-----BEGIN|"
    r"sk-[A-Za-z0-9]{16,}|ghp_[A-Za-z0-9]{20,}|github_pat_)"
)

# An https origin as a browser sends it (scheme, host, optional port); and the value Pulumi
# gives an input it cannot know yet during a preview (a new site's hostname).
_HTTPS_ORIGIN = re.compile(r"https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    types: tuple[str, ...]  # resource type tokens; empty: every resource
    check: Callable[[str, Props], list[str]]


def _get(props: Props, *path: str) -> Any:
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _tags(type_: str, props: Props) -> list[str]:
    if "tags" not in props:
        return []
    tags = props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
    return [f"missing tags: {', '.join(missing)}"] if missing else []


def _postgres(type_: str, props: Props) -> list[str]:
    problems = []
    if _get(props, "network", "publicNetworkAccess") != "Disabled":
        problems.append("PostgreSQL must not be reachable from the public network")
    if _get(props, "authConfig", "activeDirectoryAuth") != "Enabled":
        problems.append("PostgreSQL must use Entra ID authentication")
    if _get(props, "authConfig", "passwordAuth") != "Disabled":
        problems.append("PostgreSQL password authentication must be disabled")
    return problems


def _vault(type_: str, props: Props) -> list[str]:
    problems = []
    p = props.get("properties") or {}
    if p.get("enableRbacAuthorization") is not True:
        problems.append("Key Vault must use RBAC authorization")
    if p.get("publicNetworkAccess") != "Disabled":
        problems.append("Key Vault must not be reachable from the public network")
    if p.get("enableSoftDelete") is False:
        problems.append("Key Vault soft delete must stay on")
    for key, what in (
        ("enabledForTemplateDeployment", "ARM template deployments"),
        ("enabledForDeployment", "virtual machines"),
        ("enabledForDiskEncryption", "disk encryption"),
    ):
        if p.get(key) is True:
            problems.append(f"Key Vault must not release secrets to {what}")
    return problems


# Azure's documented private DNS zones for the private-link sub-resources this platform uses.
PRIVATE_DNS_ZONES = frozenset(
    {
        "privatelink.postgres.database.azure.com",
        "privatelink.vaultcore.azure.net",
        "privatelink.servicebus.windows.net",
    }
)


def _private_zone(type_: str, props: Props) -> list[str]:
    name = props.get("privateZoneName")
    if name not in PRIVATE_DNS_ZONES:
        return [f"private DNS zone {name!r} is not one Azure's private endpoints register in"]
    return []


def _servicebus(type_: str, props: Props) -> list[str]:
    problems = []
    if props.get("disableLocalAuth") is not True:
        problems.append("Service Bus local (SAS) authentication must be disabled")
    if props.get("minimumTlsVersion") != "1.2":
        problems.append("Service Bus must require TLS 1.2")
    if _get(props, "sku", "name") == "Premium" and props.get("publicNetworkAccess") != "Disabled":
        problems.append("a Premium Service Bus namespace must use its private endpoint only")
    return problems


def _registry(type_: str, props: Props) -> list[str]:
    problems = []
    if props.get("adminUserEnabled") is not False:
        problems.append("the registry admin user must be disabled")
    if props.get("anonymousPullEnabled") is True:
        problems.append("anonymous pull must be disabled")
    return problems


def _web_app(type_: str, props: Props) -> list[str]:
    problems = []
    config = props.get("siteConfig") or {}
    if props.get("httpsOnly") is not True:
        problems.append("web apps must be HTTPS only")
    if config.get("minTlsVersion") != "1.2":
        problems.append("web apps must require TLS 1.2")
    if config.get("ftpsState") != "Disabled":
        problems.append("FTP must be disabled")
    if config.get("acrUseManagedIdentityCreds") is not True:
        problems.append("images must be pulled with the managed identity")
    if not props.get("virtualNetworkSubnetId") or config.get("vnetRouteAllEnabled") is not True:
        problems.append("all outbound traffic must go through the VNet")
    for setting in config.get("appSettings") or []:
        value = str(setting.get("value", ""))
        if _SECRETISH.search(value):
            problems.append(f"app setting {setting.get('name')} holds a secret in clear text")
        if setting.get("name") == "LOGDAWG_CORS_ORIGINS" and value != _UNKNOWN:
            bad = [o for o in value.split(",") if not _HTTPS_ORIGIN.fullmatch(o)]
            if bad:
                problems.append(
                    f"CORS origins must be https origins (no wildcard, path or slash): {bad}"
                )
    return problems


def _publishing(type_: str, props: Props) -> list[str]:
    return [] if props.get("allow") is False else ["basic publishing credentials must be off"]


def _role_assignment(type_: str, props: Props) -> list[str]:
    problems = []
    if props.get("principalType") != "ServicePrincipal":
        problems.append("role assignments must set principalType ServicePrincipal")
    scope = str(props.get("scope", ""))
    if scope.count("/providers/") < 1:
        problems.append("role assignments must be scoped to a resource, not a group")
    return problems


RULES: tuple[Rule, ...] = (
    Rule("required-tags", "Every taggable resource carries environment, application, owner.",
         (), _tags),
    Rule("postgres-private-entra", "PostgreSQL: no public access, Entra ID only.",
         ("azure-native:dbforpostgresql:Server",), _postgres),
    Rule("keyvault-rbac-private", "Key Vault: RBAC, no public access, soft delete.",
         ("azure-native:keyvault:Vault",), _vault),
    Rule("servicebus-entra-tls", "Service Bus: no SAS keys, TLS 1.2, private in Premium.",
         ("azure-native:servicebus:Namespace",), _servicebus),
    Rule("registry-no-admin", "Container registry: no admin user, no anonymous pull.",
         ("azure-native:containerregistry:Registry",), _registry),
    Rule("webapp-hardened", "Web apps: HTTPS, TLS 1.2, no FTP, MI pulls, VNet egress, "
         "no secrets in settings, CORS only for https origins.",
         ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"), _web_app),
    Rule("no-basic-publishing", "FTP and SCM basic publishing credentials are off.",
         ("azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed"),
         _publishing),
    Rule("least-privilege-rbac", "Role assignments: service principals, resource scope.",
         ("azure-native:authorization:RoleAssignment",), _role_assignment),
    Rule("private-dns-zone-names", "Private DNS zones carry the names Azure documents.",
         ("azure-native:privatedns:PrivateZone",), _private_zone),
)  # fmt: skip


def violations(type_: str, props: Props) -> list[str]:
    """Every guardrail's complaint about one resource."""
    found: list[str] = []
    for rule in RULES:
        if not rule.types or type_ in rule.types:
            found += [f"{rule.name}: {problem}" for problem in rule.check(type_, props)]
    return found
