"""The whole platform for one stack: every resource the app needs, wired by identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as az
import pulumi_random as random

from infra.components.apps import AppIdentity, Apps, AppsArgs, Spa
from infra.components.base import Context, child
from infra.components.data import (
    DATABASE,
    QUEUE,
    DataArgs,
    Database,
    Messaging,
    Observability,
    Principal,
    Registry,
    Vault,
)
from infra.components.migrator import Migrator, MigratorArgs
from infra.components.network import Network, NetworkArgs
from infra.components.operations import Alert, Operations, OperationsArgs
from infra.config import StackConfig


@dataclass(frozen=True)
class Platform:
    api_url: pulumi.Output[str]
    spa_url: pulumi.Output[str]


class Identities(pulumi.ComponentResource):
    """One user-assigned identity per app: the API sends jobs, the worker receives them; the
    migrator administers the database and owns its schema, and runs only the database job."""

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Identities", name, None, opts)
        self.api = AppIdentity(self._identity(f"{name}-api", ctx))
        self.worker = AppIdentity(self._identity(f"{name}-worker", ctx))
        self.migrator = AppIdentity(self._identity(f"{name}-migrator", ctx))
        self.register_outputs(
            {
                "api": self.api.client_id,
                "worker": self.worker.client_id,
                "migrator": self.migrator.client_id,
            }
        )

    def _identity(self, name: str, ctx: Context) -> az.managedidentity.UserAssignedIdentity:
        return az.managedidentity.UserAssignedIdentity(
            name,
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            tags=ctx.tags,
            opts=child(self),
        )


@dataclass(frozen=True)
class Deployer:
    """Where the stack is deployed: read from the credentials ``pulumi up`` runs with."""

    subscription_id: str
    tenant_id: str

    @classmethod
    def current(cls) -> Deployer:
        config = az.authorization.get_client_config()
        return cls(subscription_id=config.subscription_id, tenant_id=config.tenant_id)


def build(cfg: StackConfig, deployer: Deployer | None = None) -> Platform:
    client = deployer or Deployer.current()
    group = az.resources.ResourceGroup(
        "rg", resource_group_name=f"{cfg.name_prefix}-{cfg.env_label}", location=cfg.location,
        tags=cfg.tags,
    )  # fmt: skip
    suffix: pulumi.Input[str] = ""
    if cfg.ephemeral:
        # PR stacks come and go: random suffixes keep a re-created stack from colliding with
        # its predecessor's soft-deleted vault or globally unique names.
        suffix = random.RandomString(
            "suffix", length=5, special=False, upper=False, numeric=True
        ).result
    ctx = Context(
        cfg=cfg,
        resource_group_name=group.name,
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        suffix=suffix,
    )
    profile = cfg.profile
    zones = ("postgres", "vault", *(("servicebus",) if profile.servicebus_private else ()))
    network = Network("net", NetworkArgs(ctx, zones))
    observability = Observability("obs", ctx)
    identities = Identities("id", ctx)
    data = DataArgs(ctx, network)
    database = Database(
        "db",
        data,
        Principal(
            object_id=identities.migrator.principal_id,
            name=identities.migrator.identity.name,
            type="ServicePrincipal",
        ),
    )
    vault = Vault("vault", data)
    messaging = Messaging("bus", data)
    registry = Registry("images", ctx)
    # Before the apps: the API allows the SPA's origin (CORS), which is the site's hostname.
    spa = Spa("spa", ctx)

    insights_secret, insights_reference = vault.secret(
        "appinsights-connection",
        ctx,
        secret_name="appinsights-connection-string",
        value=observability.insights.connection_string,
    )

    def settings(identity: AppIdentity, role: str) -> dict[str, pulumi.Input[str]]:
        common: dict[str, pulumi.Input[str]] = {
            "LOGDAWG_ENVIRONMENT": cfg.env_label,
            "LOGDAWG_MODE": "multi_tenant",
            "LOGDAWG_ROLE": role,
            "LOGDAWG_DATABASE_HOST": database.host,
            "LOGDAWG_DATABASE_NAME": DATABASE,
            # Entra ID token authentication: the database user is the identity's name.
            "LOGDAWG_DATABASE_USER": identity.identity.name,
            "LOGDAWG_DATABASE_AUTH": "entra",
            "LOGDAWG_QUEUE_BACKEND": "servicebus",
            "LOGDAWG_SERVICEBUS_NAMESPACE": messaging.fqdn,
            "LOGDAWG_SERVICEBUS_QUEUE": QUEUE,
            "LOGDAWG_SECRET_BACKEND": "keyvault",
            "LOGDAWG_KEYVAULT_URI": vault.uri,
            "LOGDAWG_KEYVAULT_KEY_NAME": vault.kek.name,
            "LOGDAWG_DIAGNOSER": cfg.diagnoser,
            # The database job migrates, as the migrator; the apps never do.
            "LOGDAWG_MIGRATE_ON_START": "false",
            "AZURE_CLIENT_ID": identity.client_id,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": insights_reference,
            "OTEL_SERVICE_NAME": f"logdawg-{role}",
            "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "false",
        }
        return common | auth if role == "api" else common

    # Sign-in: the API validates Entra ID access tokens for its own app registration.
    auth: dict[str, pulumi.Input[str]] = {
        "LOGDAWG_AUTH_PROVIDER": "entra",
        "LOGDAWG_AUTH_TENANT_ID": cfg.auth_tenant_id or ctx.tenant_id,
        "LOGDAWG_AUTH_CLIENT_ID": cfg.auth_client_id,
        # The SPA calls the API from its own origin in every environment (no linked backend).
        "LOGDAWG_CORS_ORIGINS": spa.origins,
        # App Service ends TLS at its front ends and hands the request on over HTTP with
        # X-Forwarded-Proto; they are the only way in to the container, and their addresses
        # are not fixed. Trusting their headers is how the API knows a request came over
        # HTTPS (Strict-Transport-Security) and who sent it (uvicorn's proxy headers).
        "FORWARDED_ALLOW_IPS": "*",
    }
    if cfg.auth_allowed_tenants:
        auth["LOGDAWG_AUTH_ALLOWED_TENANTS"] = ",".join(cfg.auth_allowed_tenants)
    if cfg.auth_spa_client_id:
        auth["LOGDAWG_AUTH_SPA_CLIENT_ID"] = cfg.auth_spa_client_id
    # The key API keys are hashed with: made here, kept in the vault, read by the API only.
    api_key_secret = random.RandomPassword(
        "api-key-hmac", length=64, special=False, opts=pulumi.ResourceOptions(parent=vault)
    )
    _, auth["LOGDAWG_API_KEY_SECRET"] = vault.secret(
        "api-key-hmac", ctx, secret_name="api-key-hmac", value=api_key_secret.result
    )

    # Least privilege, each role on the one resource it is needed for.
    grants: list[tuple[str, str, AppIdentity, pulumi.Input[str], pulumi.Resource]] = []
    for who, identity in (("api", identities.api), ("worker", identities.worker)):
        grants += [
            (f"{who}-acr-pull", "AcrPull", identity, registry.registry.id, registry),
            (f"{who}-kv-secrets", "Key Vault Secrets User", identity, vault.vault.id, vault),
            (f"{who}-kv-kek", "Key Vault Crypto User", identity, vault.kek.id, vault),
            (f"{who}-metrics", "Monitoring Metrics Publisher", identity,
             observability.insights.id, observability),
        ]  # fmt: skip
    grants += [
        ("api-bus-send", "Azure Service Bus Data Sender", identities.api,
         messaging.queue.id, messaging),
        ("worker-bus-receive", "Azure Service Bus Data Receiver", identities.worker,
         messaging.queue.id, messaging),
    ]  # fmt: skip
    grants.append(
        ("migrator-acr-pull", "AcrPull", identities.migrator, registry.registry.id, registry)
    )
    assignments = [
        ctx.grant(name, role=role, principal_id=identity.principal_id, scope=scope, parent=parent)
        for name, role, identity, scope, parent in grants
    ]

    apps = Apps(
        "apps",
        AppsArgs(
            ctx=ctx,
            subnet_id=network.app_subnet.id,
            registry_server=registry.login_server,
            api_identity=identities.api,
            worker_identity=identities.worker,
            api_settings=settings(identities.api, "api"),
            worker_settings=settings(identities.worker, "worker"),
            queue_metric_resource_id=messaging.namespace.id,
            queue_name=QUEUE,
            # An app starts pulling its image and reading Key Vault references at once: its
            # roles and the secret it references must exist first.
            depends_on=(insights_secret, *assignments),
        ),
    )

    # The runtime principals the database job creates: "<identity name>=<object id>".
    runtime_principals = pulumi.Output.concat(
        identities.api.identity.name, "=", identities.api.principal_id, ",",
        identities.worker.identity.name, "=", identities.worker.principal_id,
    )  # fmt: skip
    migrator = Migrator(
        "migrator",
        MigratorArgs(
            ctx=ctx,
            subnet_id=network.jobs_subnet.id,
            registry_server=registry.login_server,
            identity=identities.migrator.identity,
            settings={
                "LOGDAWG_DATABASE_HOST": database.host,
                "LOGDAWG_DATABASE_NAME": DATABASE,
                "LOGDAWG_DATABASE_USER": identities.migrator.identity.name,
                "LOGDAWG_DATABASE_AUTH": "entra",
                "LOGDAWG_RUNTIME_PRINCIPALS": runtime_principals,
                "AZURE_CLIENT_ID": identities.migrator.client_id,
            },
            depends_on=(database.migrator_admin, database.database, *assignments),
        ),
    )

    web = "Microsoft.Web/sites"
    bus = "Microsoft.ServiceBus/namespaces"
    pg = "Microsoft.DBforPostgreSQL/flexibleServers"
    Operations(
        "ops",
        OperationsArgs(
            ctx=ctx,
            workspace_id=observability.workspace.id,
            resource_group_id=group.id,
            insights_id=observability.insights.id,
            diagnosed=(
                ("postgres", database.server.id, True),
                ("vault", vault.vault.id, True),
                ("servicebus", messaging.namespace.id, True),
                ("registry", registry.registry.id, True),
                ("api", apps.api.id, True),
                ("worker", apps.worker.id, True),
                ("jobs-env", migrator.environment.id, True),
                ("plan", apps.api_plan.id, False),
                *((("worker-plan", apps.worker_plan.id, False),)
                  if apps.worker_plan is not apps.api_plan else ()),
            ),
            alerts=(
                Alert("dead-letters", "Jobs were dead-lettered: they failed every delivery.",
                      messaging.namespace.id, bus, "DeadletteredMessages", "Maximum",
                      "GreaterThan", 0, dimension=("EntityName", QUEUE), severity=1),
                # Service Bus has no "oldest message age" metric: a queue that has not been
                # empty for an hour is the sign that jobs wait too long.
                Alert("queue-age", "The job queue has not been empty for an hour.",
                      messaging.namespace.id, bus, "ActiveMessages", "Minimum",
                      "GreaterThan", 0, window="PT1H", dimension=("EntityName", QUEUE)),
                Alert("api-5xx", "The API answered more than 10 server errors in 5 minutes.",
                      apps.api.id, web, "Http5xx", "Total", "GreaterThan", 10, severity=1),
                Alert("postgres-cpu", "PostgreSQL CPU above 80% for 15 minutes.",
                      database.server.id, pg, "cpu_percent", "Average", "GreaterThan", 80,
                      window="PT15M"),
                Alert("postgres-storage", "PostgreSQL storage above 85%.",
                      database.server.id, pg, "storage_percent", "Maximum", "GreaterThan", 85,
                      window="PT15M", severity=1),
            ),
        ),
    )  # fmt: skip

    pulumi.export("resource_group", group.name)
    pulumi.export("api_url", apps.api_url)
    pulumi.export("spa_url", spa.url)
    pulumi.export("registry_login_server", registry.login_server)
    pulumi.export("servicebus_namespace", messaging.fqdn)
    pulumi.export("keyvault_uri", vault.uri)
    pulumi.export("database_host", database.host)
    pulumi.export("database_name", DATABASE)
    pulumi.export("api_app_name", apps.api.name)
    pulumi.export("worker_app_name", apps.worker.name)
    pulumi.export("api_identity_client_id", identities.api.client_id)
    pulumi.export("worker_identity_client_id", identities.worker.client_id)
    pulumi.export("api_identity_name", identities.api.identity.name)
    pulumi.export("worker_identity_name", identities.worker.identity.name)
    pulumi.export("migrator_identity_name", identities.migrator.identity.name)
    pulumi.export("migrate_job_name", migrator.job.name)
    pulumi.export("api_staging_url", apps.staging_url)
    pulumi.export("spa_name", spa.site.name)
    return Platform(api_url=apps.api_url, spa_url=spa.url)
