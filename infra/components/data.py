"""Stateful services: PostgreSQL, Key Vault, Service Bus, the container registry, and the
observability workspace. Public network access is off wherever the service offers private
endpoints at the stack's SKU; applications authenticate with Entra ID, never keys."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as az

from infra.components.base import Context, child, stateful
from infra.components.network import Network

QUEUE = "diagnosis-jobs"
DATABASE = "logdawg"


@dataclass(frozen=True)
class DataArgs:
    ctx: Context
    network: Network


@dataclass(frozen=True)
class Principal:
    """An Entra ID principal by object id, as the server's administrator list takes it."""

    object_id: pulumi.Input[str]
    name: pulumi.Input[str]
    type: str


class Observability(pulumi.ComponentResource):
    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Observability", name, None, opts)
        self.workspace = az.operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            sku=az.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=ctx.cfg.profile.log_retention_days,
            tags=ctx.tags,
            opts=stateful(self, ctx),
        )
        self.insights = az.applicationinsights.Component(
            f"{name}-insights",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.workspace.id,
            tags=ctx.tags,
            opts=child(self),
        )
        self.register_outputs({"workspace_id": self.workspace.id})


class Database(pulumi.ComponentResource):
    """PostgreSQL Flexible Server: private endpoint only, Entra ID authentication only."""

    def __init__(
        self,
        name: str,
        args: DataArgs,
        migrator: Principal,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("logdawg:infra:Database", name, None, opts)
        ctx, profile = args.ctx, args.ctx.cfg.profile
        self.server = az.dbforpostgresql.Server(
            f"{name}-server",
            server_name=ctx.name("pg", max_length=63),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            version=ctx.cfg.postgres_version,
            sku=az.dbforpostgresql.SkuArgs(name=profile.postgres_sku, tier=profile.postgres_tier),
            storage=az.dbforpostgresql.StorageArgs(
                storage_size_gb=profile.postgres_storage_gb, auto_grow="Enabled"
            ),
            backup=az.dbforpostgresql.BackupArgs(
                backup_retention_days=profile.postgres_backup_days,
                geo_redundant_backup="Enabled" if profile.postgres_geo_backup else "Disabled",
            ),
            high_availability=az.dbforpostgresql.HighAvailabilityArgs(
                mode="ZoneRedundant" if profile.postgres_zone_redundant_ha else "Disabled"
            ),
            network=az.dbforpostgresql.NetworkArgs(public_network_access="Disabled"),
            auth_config=az.dbforpostgresql.AuthConfigArgs(
                active_directory_auth="Enabled",
                password_auth="Disabled",
                tenant_id=ctx.tenant_id,
            ),
            tags=ctx.tags,
            opts=stateful(self, ctx),
        )
        # The server accepts one change at a time ("ServerIsBusy"): its children are created
        # one after another. Two administrators: the people's group (break-glass, from config)
        # and the migrator identity, which runs the database job. The apps' identities are not
        # administrators: they sign in as the principals the job creates.
        self.admin = az.dbforpostgresql.Administrator(
            f"{name}-entra-admin",
            resource_group_name=ctx.resource_group_name,
            server_name=self.server.name,
            object_id=ctx.cfg.postgres_admin_object_id,
            principal_name=ctx.cfg.postgres_admin_name,
            principal_type=ctx.cfg.postgres_admin_type,
            tenant_id=ctx.tenant_id,
            opts=child(self.server),
        )
        self.migrator_admin = az.dbforpostgresql.Administrator(
            f"{name}-migrator-admin",
            resource_group_name=ctx.resource_group_name,
            server_name=self.server.name,
            object_id=migrator.object_id,
            principal_name=migrator.name,
            principal_type=migrator.type,
            tenant_id=ctx.tenant_id,
            opts=child(self.server, depends_on=[self.admin]),
        )
        self.database = az.dbforpostgresql.Database(
            f"{name}-db",
            resource_group_name=ctx.resource_group_name,
            server_name=self.server.name,
            database_name=DATABASE,
            charset="UTF8",
            collation="en_US.utf8",
            opts=stateful(self.server, ctx, depends_on=[self.migrator_admin]),
        )
        self.endpoint = args.network.private_endpoint(
            f"{name}-server", ctx, target_id=self.server.id, group="postgresqlServer",
            zone="postgres", parent=self, depends_on=[self.database],
        )  # fmt: skip
        self.host = self.server.fully_qualified_domain_name
        self.register_outputs({"host": self.host})


class Vault(pulumi.ComponentResource):
    """Key Vault: RBAC, private endpoint only, the key-encryption key for credentials."""

    def __init__(self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Vault", name, None, opts)
        ctx = args.ctx
        self.vault = az.keyvault.Vault(
            f"{name}-kv",
            vault_name=ctx.name("kv", max_length=24),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            properties=az.keyvault.VaultPropertiesArgs(
                tenant_id=ctx.tenant_id,
                sku=az.keyvault.SkuArgs(family="A", name=az.keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=7 if ctx.cfg.ephemeral else 90,
                # Purge protection cannot be turned off once on: prod only, so dev and PR
                # stacks can be destroyed and re-created freely.
                enable_purge_protection=True if ctx.cfg.profile.keyvault_purge_protection else None,
                public_network_access="Disabled",
                network_acls=az.keyvault.NetworkRuleSetArgs(
                    default_action="Deny", bypass="AzureServices"
                ),
                # Nothing but the apps reads this vault: no ARM template, VM or disk access.
                enabled_for_template_deployment=False,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
            ),
            tags=ctx.tags,
            opts=stateful(self, ctx),
        )
        self.kek = az.keyvault.Key(
            f"{name}-kek",
            resource_group_name=ctx.resource_group_name,
            vault_name=self.vault.name,
            key_name="credentials-kek",
            properties=az.keyvault.KeyPropertiesArgs(
                kty="RSA", key_size=3072, key_ops=["wrapKey", "unwrapKey"]
            ),
            tags=ctx.tags,
            opts=stateful(self.vault, ctx),
        )
        self.endpoint = args.network.private_endpoint(
            f"{name}-kv", ctx, target_id=self.vault.id, group="vault", zone="vault", parent=self
        )
        self.uri = self.vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs({"uri": self.uri})

    def secret(
        self, name: str, ctx: Context, *, secret_name: str, value: pulumi.Input[str]
    ) -> tuple[az.keyvault.Secret, pulumi.Output[str]]:
        """A secret and the Key Vault reference an app setting uses for it."""
        secret = az.keyvault.Secret(
            name,
            resource_group_name=ctx.resource_group_name,
            vault_name=self.vault.name,
            secret_name=secret_name,
            properties=az.keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value)),
            tags=ctx.tags,
            opts=child(self.vault),
        )
        reference = pulumi.Output.concat(
            "@Microsoft.KeyVault(VaultName=", self.vault.name, ";SecretName=", secret_name, ")"
        )
        return secret, reference


class Messaging(pulumi.ComponentResource):
    """Service Bus: Entra ID only (SAS keys disabled), TLS 1.2, the diagnosis queue."""

    def __init__(self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Messaging", name, None, opts)
        ctx, profile = args.ctx, args.ctx.cfg.profile
        premium = profile.servicebus_sku == "Premium"
        self.namespace = az.servicebus.Namespace(
            f"{name}-sb",
            namespace_name=ctx.name("sb", max_length=50),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            sku=az.servicebus.SBSkuArgs(
                name=az.servicebus.SkuName(profile.servicebus_sku),
                tier=az.servicebus.SkuTier(profile.servicebus_sku),
                capacity=1 if premium else None,
            ),
            disable_local_auth=True,
            minimum_tls_version="1.2",
            public_network_access="Disabled" if profile.servicebus_private else "Enabled",
            tags=ctx.tags,
            opts=stateful(self, ctx),
        )
        # Peek-lock settings the worker relies on: a lock longer than one diagnosis, a bounded
        # number of deliveries before dead-lettering, duplicate detection on the message id
        # (the report id), expired messages dead-lettered rather than dropped.
        self.queue = az.servicebus.Queue(
            f"{name}-queue",
            resource_group_name=ctx.resource_group_name,
            namespace_name=self.namespace.name,
            queue_name=QUEUE,
            lock_duration="PT5M",
            max_delivery_count=5,
            dead_lettering_on_message_expiration=True,
            requires_duplicate_detection=True,
            duplicate_detection_history_time_window="PT1H",
            default_message_time_to_live="P7D",
            opts=stateful(self.namespace, ctx),
        )
        if profile.servicebus_private:
            args.network.private_endpoint(
                f"{name}-sb", ctx, target_id=self.namespace.id, group="namespace",
                zone="servicebus", parent=self,
            )  # fmt: skip
        self.fqdn = pulumi.Output.concat(self.namespace.name, ".servicebus.windows.net")
        self.register_outputs({"namespace": self.fqdn})


class Registry(pulumi.ComponentResource):
    """Container images, pulled by the apps' managed identity (no admin user, no anonymous)."""

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Registry", name, None, opts)
        self.registry = az.containerregistry.Registry(
            f"{name}-acr",
            registry_name=ctx.name("acr", max_length=50, alphanumeric=True),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            sku=az.containerregistry.SkuArgs(name=ctx.cfg.profile.registry_sku),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            tags=ctx.tags,
            opts=stateful(self, ctx),
        )
        self.login_server = self.registry.login_server
        self.register_outputs({"login_server": self.login_server})
