"""The policy pack's guardrails fail on resources made wrong on purpose (and pass on what the
program declares: see test_stacks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationArgs

from infra.policy.pack import policies
from infra.policy.rules import violations
from tests.infra.conftest import Stack


def _broken(stack: Stack, type_: str, change: Any, name_part: str = "") -> dict[str, Any]:
    resource = next(r for r in stack.of(type_) if name_part in r.name)
    props = copy.deepcopy(resource.inputs)
    change(props)
    return props


CASES = [
    ("azure-native:dbforpostgresql:Server",
     lambda p: p["network"].update(publicNetworkAccess="Enabled"), "public network"),
    ("azure-native:dbforpostgresql:Server",
     lambda p: p["authConfig"].update(passwordAuth="Enabled"), "password authentication"),
    ("azure-native:keyvault:Vault",
     lambda p: p["properties"].update(enableRbacAuthorization=False), "RBAC"),
    ("azure-native:keyvault:Vault",
     lambda p: p["properties"].update(publicNetworkAccess="Enabled"), "public network"),
    ("azure-native:servicebus:Namespace", lambda p: p.update(disableLocalAuth=False), "SAS"),
    ("azure-native:servicebus:Namespace", lambda p: p.update(minimumTlsVersion="1.0"), "TLS"),
    ("azure-native:containerregistry:Registry", lambda p: p.update(adminUserEnabled=True),
     "admin user"),
    ("azure-native:web:WebApp", lambda p: p.update(httpsOnly=False), "HTTPS"),
    ("azure-native:web:WebApp", lambda p: p["siteConfig"].update(ftpsState="AllAllowed"), "FTP"),
    ("azure-native:web:WebApp",
     lambda p: p["siteConfig"]["appSettings"].append(
         {"name": "DB", "value": "Host=x;Password=hunter2"}), "secret in clear text"),
    ("azure-native:web:WebApp",
     lambda p: p["siteConfig"]["appSettings"].append(
         {"name": "LOGDAWG_CORS_ORIGINS", "value": "*"}), "CORS origins"),
    ("azure-native:web:WebApp",
     lambda p: p["siteConfig"]["appSettings"].append(
         {"name": "LOGDAWG_CORS_ORIGINS", "value": "https://spa.example.org/"}), "CORS origins"),
    ("azure-native:web:WebAppFtpAllowed", lambda p: p.update(allow=True), "publishing"),
    ("azure-native:authorization:RoleAssignment", lambda p: p.update(principalType="User"),
     "ServicePrincipal"),
    ("azure-native:authorization:RoleAssignment",
     lambda p: p.update(scope="/subscriptions/s/resourceGroups/rg"), "scoped to a resource"),
    ("azure-native:network:VirtualNetwork", lambda p: p["tags"].pop("owner"), "missing tags"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "change", "expected"), CASES)
def test_each_guardrail_catches_its_mistake(
    stacks: dict[str, Stack], type_: str, change: Any, expected: str
) -> None:
    props = _broken(stacks["dev"], type_, change)
    assert any(expected in problem for problem in violations(type_, props)), violations(
        type_, props
    )


def test_a_premium_namespace_must_be_private(stacks: dict[str, Stack]) -> None:
    props = _broken(
        stacks["prod"],
        "azure-native:servicebus:Namespace",
        lambda p: p.update(publicNetworkAccess="Enabled"),
    )
    assert violations("azure-native:servicebus:Namespace", props)


def test_the_pack_reports_through_pulumi_policy_as_mandatory(stacks: dict[str, Stack]) -> None:
    props = _broken(stacks["dev"], "azure-native:web:WebApp", lambda p: p.update(httpsOnly=False))
    reported: list[str] = []
    args = ResourceValidationArgs(
        "azure-native:web:WebApp",
        props,
        "urn:pulumi:dev::x::y::api",
        "api",
        None,
        None,  # type: ignore[arg-type]
    )
    for policy in policies():
        assert policy.enforcement_level == EnforcementLevel.MANDATORY
        policy.validate(args, lambda message, urn: reported.append(message))  # type: ignore[misc, operator]
    assert reported == ["web apps must be HTTPS only"]
