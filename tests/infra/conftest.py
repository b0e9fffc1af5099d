"""Runs the Pulumi program under Pulumi's unit-test mocks, once per stack (dev, prod, and a PR
stack with dev's configuration), and records every resource it declares and every output."""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_azure_native as az
import pytest
import yaml

from infra.config import load
from infra.program import Deployer, build

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "logdawg-cloud"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"


@dataclass(frozen=True)
class Declared:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str

    @property
    def taggable(self) -> bool:
        if not self.type.startswith("azure-native:"):
            return False
        _, module, cls = self.type.split(":")
        resource_class = getattr(getattr(az, module), cls)
        return "tags" in inspect.signature(resource_class._internal_init).parameters


@dataclass
class Stack:
    name: str
    resources: list[Declared] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Names of the resources declared with ``protect=True``.
    protected: set[str] = field(default_factory=set)
    # Resource name -> names of the resources it explicitly depends on.
    depends_on: dict[str, set[str]] = field(default_factory=dict)

    def of(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Declared:
        found = [r for r in self.of(type_) if name is None or r.name == name]
        assert len(found) == 1, (type_, name, [r.name for r in self.of(type_)])
        return found[0]

    def by_id(self, resource_id: str) -> Declared:
        return next(r for r in self.resources if r.id == resource_id)

    @property
    def types(self) -> set[str]:
        return {r.type for r in self.resources}


def _computed(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs Azure would compute, in the shapes the SDK reads."""
    short = name.replace("_", "-")
    return {
        "azure-native:managedidentity:UserAssignedIdentity": {
            "clientId": f"client-{short}",
            "principalId": f"principal-{short}",
        },
        "azure-native:web:WebApp": {
            "defaultHostName": f"{inputs.get('name', short)}.azurewebsites.net"
        },
        "azure-native:containerregistry:Registry": {
            "loginServer": f"{inputs.get('registryName', short)}.azurecr.io"
        },
        "azure-native:keyvault:Vault": {
            "properties": {
                **inputs.get("properties", {}),
                "vaultUri": f"https://{inputs.get('vaultName', short)}.vault.azure.net/",
            }
        },
        "azure-native:dbforpostgresql:Server": {
            "fullyQualifiedDomainName": (
                f"{inputs.get('serverName', short)}.postgres.database.azure.com"
            )
        },
        "azure-native:applicationinsights:Component": {
            "connectionString": "InstrumentationKey=00000000-aaaa-bbbb-cccc-000000000000;"
            "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
        },
        "azure-native:web:StaticSite": {"defaultHostname": f"{short}.azurestaticapps.net"},
        "azure-native:web:WebAppSlot": {
            "defaultHostName": f"{inputs.get('name', short)}-staging.azurewebsites.net"
        },
        "random:index/randomString:RandomString": {"result": "q7x2k"},
    }.get(type_, {})


def computed_outputs(resource: Declared) -> dict[str, Any]:
    """What Azure computes for a declared resource (its hostname, ids, ...), as the mocks
    answer it."""
    return _computed(resource.type, resource.name, resource.inputs)


class Recorder(pulumi.runtime.Mocks):
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        resource_id = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/{args.typ}/{args.name}"
        )
        self.stack.resources.append(Declared(args.typ, args.name, inputs, resource_id))
        explicit = ("name", "namespaceName", "vaultName", "serverName", "registryName", "keyName",
                    "queueName", "databaseName", "privateZoneName", "jobName")  # fmt: skip
        if args.typ.endswith(":ResourceGroup"):
            explicit = ("resourceGroupName",)
        name = next((inputs[k] for k in explicit if inputs.get(k)), args.name)
        state = {**inputs, "name": name, **_computed(args.typ, args.name, inputs)}
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Inputs list the identities' ids; Azure answers with a map keyed by id.
            identity = {
                **identity,
                "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]},
            }
            state["identity"] = identity
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "subscriptionId": SUBSCRIPTION,
                "tenantId": TENANT,
                "objectId": "deployer",
                "clientId": "deployer",
            }
        return {}


# What the one-time setup adds to each environment's YAML (README, "Deploy to Azure").
SETUP = {
    "logdawg-cloud:postgresAdminObjectId": "0b3c8a52-5d1e-4c55-9f3e-6a8c2f1d7e90",
    "logdawg-cloud:authClientId": "6e1f4a2b-9c3d-4e5f-8a7b-1c2d3e4f5a6b",
    "logdawg-cloud:alertEmails": "oncall@example.org,platform@example.org",
}


def stack_config(stack: str, *, setup: bool = True) -> dict[str, str]:
    """The stack's YAML (pr-N stacks start from dev's, as the PR workflow copies it), plus
    the per-environment ids the one-time setup sets."""
    source = "dev" if stack.startswith("pr-") else stack
    data = yaml.safe_load((ROOT / f"Pulumi.{source}.yaml").read_text())
    config = {k: str(v) for k, v in data["config"].items()}
    return (SETUP | config) if setup else config


_ACTIVE: dict[str, Stack] = {}


def run_stack(stack: str, config: dict[str, str] | None = None) -> Stack:
    result = Stack(stack)
    _ACTIVE["stack"] = result
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Pulumi's mock monitor answers on the loop's executor threads and makes an event loop in
    # each; give every thread one we own, so all are closed when the stack is done.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def own_loop() -> None:
        thread_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(thread_loop)
        thread_loops.append(thread_loop)

    executor = ThreadPoolExecutor(max_workers=4, initializer=own_loop)
    loop.set_default_executor(executor)
    pulumi.runtime.set_mocks(Recorder(result), project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(config if config is not None else stack_config(stack))
    exported: dict[str, Any] = {}
    original = pulumi.export
    pulumi.export = lambda name, value: exported.__setitem__(name, value)  # type: ignore[assignment]
    try:

        def record_protection(
            args: pulumi.ResourceTransformationArgs,
        ) -> pulumi.ResourceTransformationResult | None:
            # Pulumi keeps stack transformations of earlier runs in this process: record only
            # while this run is the active one.
            if _ACTIVE.get("stack") is not result or not args.opts:
                return None
            if args.opts.protect:
                result.protected.add(args.name)
            depends = args.opts.depends_on
            if isinstance(depends, list) and depends:
                result.depends_on[args.name] = {
                    d.pulumi_resource_name for d in depends if isinstance(d, pulumi.Resource)
                }
            return None

        @pulumi.runtime.test  # type: ignore[misc]
        def program() -> pulumi.Output[Any]:
            pulumi.runtime.register_stack_transformation(record_protection)
            build(load(stack), Deployer(SUBSCRIPTION, TENANT))
            return pulumi.Output.all(**exported).apply(result.outputs.update)

        program()
    finally:
        pulumi.export = original
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()
        asyncio.set_event_loop(None)
        loop.close()
    return result


@pytest.fixture(scope="session")
def stacks() -> dict[str, Stack]:
    return {name: run_stack(name) for name in ("dev", "prod", "pr-123")}
