"""The mutation harness: single-property misconfigurations of the declared resources, each of
which must be caught by a documented-fact check (``checks.py``) or by the policy pack.

Run by ``tests/infra/test_mutations.py`` and, for the figure, ``python -m
tests.infra.mutations`` (prints ``caught N/M`` and exits non-zero unless N == M)."""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.policy.rules import violations
from tests.infra.checks import CHECKS
from tests.infra.conftest import Stack, run_stack

Props = dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    description: str
    stack: str
    type: str  # resource type token, or "protect" for the protect option
    name: str  # the resource's Pulumi name
    change: Callable[[Props], None]


def _set(*path: str | int, value: Any) -> Callable[[Props], None]:
    def change(props: Props) -> None:
        target: Any = props
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _setting(name: str, value: str) -> Callable[[Props], None]:
    def change(props: Props) -> None:
        for setting in props["siteConfig"]["appSettings"]:
            if setting["name"] == name:
                setting["value"] = value
                return
        raise KeyError(name)

    return change


def _replace_in(*path: str | int, old: str, new: str) -> Callable[[Props], None]:
    def change(props: Props) -> None:
        target: Any = props
        for key in path[:-1]:
            target = target[key]
        assert old in target[path[-1]], (target[path[-1]], old)
        target[path[-1]] = target[path[-1]].replace(old, new)

    return change


ROLE = "azure-native:authorization:RoleAssignment"
WEB = "azure-native:web:WebApp"
ALERT = "azure-native:monitor:MetricAlert"
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
TRIGGER = ("profiles", 0, "rules", 0, "metricTrigger")

MUTATIONS: tuple[Mutation, ...] = (
    # The six of issue 10.
    Mutation("wrong private DNS zone name for PostgreSQL", "dev",
             "azure-native:privatedns:PrivateZone", "net-zone-postgres",
             _set("privateZoneName", value="privatelink.postgres.database.windows.net")),
    Mutation("autoscale on the wrong dimension", "prod",
             "azure-native:monitor:AutoscaleSetting", "apps-worker-autoscale",
             _set(*TRIGGER, "dimensions", 0, "dimensionName", value="EntityPath")),
    Mutation("the worker runs the API image", "dev", WEB, "apps-worker",
             _replace_in("siteConfig", "linuxFxVersion", old="logdawg-worker",
                         new="logdawg-api")),
    Mutation("Static Web App in a region that does not host them", "dev",
             "azure-native:web:StaticSite", "spa-swa", _set("location", value="northeurope")),
    Mutation("a broader role in place of Key Vault Secrets User", "dev", ROLE, "api-kv-secrets",
             _replace_in("roleDefinitionId", old=SECRETS_USER, new=KEY_VAULT_ADMINISTRATOR)),
    Mutation("template deployment enabled on the vault", "dev", "azure-native:keyvault:Vault",
             "vault-kv", _set("properties", "enabledForTemplateDeployment", value=True)),
    # More of the same kinds.
    Mutation("a mistyped AcrPull role id", "prod", ROLE, "worker-acr-pull",
             _replace_in("roleDefinitionId", old=ACR_PULL,
                         new="7f951dff-4ed1-4c7d-9d8b-2f2d2c5a8b8c")),
    Mutation("PostgreSQL reachable from the internet", "prod",
             "azure-native:dbforpostgresql:Server", "db-server",
             _set("network", "publicNetworkAccess", value="Enabled")),
    Mutation("App Service recycles instances on readiness", "prod", WEB, "apps-api",
             _set("siteConfig", "healthCheckPath", value="/readyz")),
    Mutation("autoscale on a metric Service Bus does not publish", "prod",
             "azure-native:monitor:AutoscaleSetting", "apps-worker-autoscale",
             _set(*TRIGGER, "metricName", value="ActiveMessageCount")),
    Mutation("dead-letter alert on a misspelt metric", "dev", ALERT, "ops-alert-dead-letters",
             _set("criteria", "allOf", 0, "metricName", value="DeadLetterMessages")),
    Mutation("PostgreSQL CPU alert on a misspelt metric", "prod", ALERT, "ops-alert-postgres-cpu",
             _set("criteria", "allOf", 0, "metricName", value="cpu_percentage")),
    Mutation("dead-letter alert that tolerates five dead jobs", "prod", ALERT,
             "ops-alert-dead-letters", _set("criteria", "allOf", 0, "threshold", value=5)),
    Mutation("the vault's diagnostics sent to another workspace", "dev",
             "azure-native:monitor:DiagnosticSetting", "ops-diag-vault",
             _set("workspaceId", value="/subscriptions/x/resourceGroups/y/providers/"
                  "Microsoft.OperationalInsights/workspaces/elsewhere")),
    Mutation("the API identity made database administrator", "dev",
             "azure-native:dbforpostgresql:Administrator", "db-migrator-admin",
             _set("objectId", value="principal-id-api")),
    Mutation("a role granted on the whole resource group", "dev", ROLE, "worker-bus-receive",
             _set("scope", value="/subscriptions/s/resourceGroups/rg")),
    Mutation("Service Bus SAS keys enabled", "pr-123", "azure-native:servicebus:Namespace",
             "bus-sb", _set("disableLocalAuth", value=False)),
    Mutation("the worker reachable from the internet", "prod", WEB, "apps-worker",
             _set("publicNetworkAccess", value="Enabled")),
    Mutation("the vault's private endpoint on the wrong sub-resource", "prod",
             "azure-native:network:PrivateEndpoint", "vault-kv-pe",
             _set("privateLinkServiceConnections", 0, "groupIds", value=["vaultcore"])),
    Mutation("sign-in switched off in the API", "prod", WEB, "apps-api",
             _setting("LOGDAWG_AUTH_PROVIDER", "none")),
    Mutation("the database job runs the API image", "dev", "azure-native:app:Job", "migrator-job",
             _replace_in("template", "containers", 0, "image", old="logdawg-migrator",
                         new="logdawg-api")),
    Mutation("the jobs subnet delegated to App Service", "dev", "azure-native:network:Subnet",
             "net-jobs", _set("delegations", 0, "serviceName", value="Microsoft.Web/serverFarms")),
    Mutation("prod's database server not protected", "prod", "protect", "db-server",
             lambda props: None),
    Mutation("the staging slot runs the worker image", "prod", "azure-native:web:WebAppSlot",
             "apps-api-staging",
             _replace_in("siteConfig", "linuxFxVersion", old="logdawg-api",
                         new="logdawg-worker")),
    Mutation("the API migrates on start as its runtime identity", "dev", WEB, "apps-api",
             _setting("LOGDAWG_MIGRATE_ON_START", "true")),
    Mutation("the worker created before it may pull its image", "dev", "depends_on",
             "apps-worker:worker-acr-pull", lambda props: None),
    Mutation("the staging slot created before it may read its secrets", "prod", "depends_on",
             "apps-api-staging:api-kv-secrets", lambda props: None),
    Mutation("the database job declared before the migrator administers the server", "prod",
             "depends_on", "migrator-job:db-migrator-admin", lambda props: None),
    Mutation("the API allows every origin (CORS *)", "dev", WEB, "apps-api",
             _setting("LOGDAWG_CORS_ORIGINS", "*")),
    Mutation("the staging slot allows the SPA origin with a trailing slash", "prod",
             "azure-native:web:WebAppSlot", "apps-api-staging",
             _setting("LOGDAWG_CORS_ORIGINS", "https://spa-swa.azurestaticapps.net/")),
    Mutation("the PR stack's API allows the SPA over plain http", "pr-123", WEB, "apps-api",
             _setting("LOGDAWG_CORS_ORIGINS", "http://spa-swa.azurestaticapps.net")),
    Mutation("prod's API allows another site's origin", "prod", WEB, "apps-api",
             _setting("LOGDAWG_CORS_ORIGINS", "https://logdawg-dev-spa.azurestaticapps.net")),
    Mutation("the API trusts X-Forwarded-Proto only from itself", "dev", WEB, "apps-api",
             _setting("FORWARDED_ALLOW_IPS", "127.0.0.1")),
    Mutation("the staging slot ignores the front ends' X-Forwarded-Proto", "prod",
             "azure-native:web:WebAppSlot", "apps-api-staging",
             _setting("FORWARDED_ALLOW_IPS", "")),
    Mutation("5xx alert on an aggregation App Service does not offer", "prod", ALERT,
             "ops-alert-api-5xx", _set("criteria", "allOf", 0, "timeAggregation",
                                       value="Average")),
)  # fmt: skip


def mutate(stack: Stack, mutation: Mutation) -> Stack:
    """A copy of ``stack`` with the one change applied (the original is left as it was)."""
    mutated = copy.deepcopy(stack)
    if mutation.type == "protect":
        assert mutation.name in mutated.protected, mutation.name
        mutated.protected.discard(mutation.name)
        return mutated
    if mutation.type == "depends_on":
        # name is "<resource>:<dependency>": the resource no longer waits for it.
        resource, dependency = mutation.name.split(":")
        assert dependency in mutated.depends_on[resource], mutation.name
        mutated.depends_on[resource].discard(dependency)
        return mutated
    matches = [
        i
        for i, r in enumerate(mutated.resources)
        if r.type == mutation.type and r.name == mutation.name
    ]
    assert len(matches) == 1, (mutation.description, mutation.type, mutation.name)
    index = matches[0]
    resource = mutated.resources[index]
    inputs = copy.deepcopy(resource.inputs)
    before = copy.deepcopy(inputs)
    mutation.change(inputs)
    assert inputs != before, f"mutation changed nothing: {mutation.description}"
    mutated.resources[index] = dataclasses.replace(resource, inputs=inputs)
    return mutated


def caught_by(stack: Stack) -> list[str]:
    """The names of the checks and policies that reject ``stack`` (empty: it passes)."""
    found: list[str] = []
    for check in CHECKS:
        try:
            check(stack)
        except AssertionError:
            found.append(check.__name__)
    for resource in stack.resources:
        found += [
            f"policy {v.split(':', 1)[0]}" for v in violations(resource.type, resource.inputs)
        ]
    return found


def run(stacks: dict[str, Stack]) -> list[tuple[Mutation, list[str]]]:
    return [(m, caught_by(mutate(stacks[m.stack], m))) for m in MUTATIONS]


def report(results: list[tuple[Mutation, list[str]]]) -> str:
    lines = [
        f"{'caught' if by else 'MISSED'}  [{m.stack}] {m.description}"
        + (f"  <- {', '.join(sorted(set(by)))}" if by else "")
        for m, by in results
    ]
    caught = sum(1 for _, by in results if by)
    lines.append(f"caught {caught}/{len(results)}")
    return "\n".join(lines)


def main() -> int:
    stacks = {name: run_stack(name) for name in ("dev", "prod", "pr-123")}
    for name, stack in stacks.items():
        assert caught_by(stack) == [], (name, caught_by(stack))
    results = run(stacks)
    print(report(results))
    return 0 if all(by for _, by in results) else 1


if __name__ == "__main__":
    sys.exit(main())
