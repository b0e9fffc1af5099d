"""The database job: a Container Apps job inside the VNet that runs as the migrator identity
(an Entra ID administrator of the server). It creates the API's and the worker's database
principals by object id, grants them the application role only, and applies the migrations
as the owner. The pipeline starts it (``az containerapp job start``) after ``pulumi up`` and
before any app rolls out; the apps' identities never own a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as az

from infra.components.base import Context, child

IMAGE = "logdawg-migrator"


@dataclass(frozen=True)
class MigratorArgs:
    ctx: Context
    subnet_id: pulumi.Input[str]
    registry_server: pulumi.Input[str]
    identity: az.managedidentity.UserAssignedIdentity
    settings: Mapping[str, pulumi.Input[str]]
    # The job pulls its image with the migrator identity and signs in to the database as it.
    depends_on: tuple[pulumi.Resource, ...] = ()


class Migrator(pulumi.ComponentResource):
    def __init__(self, name: str, args: MigratorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Migrator", name, None, opts)
        ctx = args.ctx
        # Workload-profiles environment with only the Consumption profile: nothing is billed
        # while no job runs. Internal: no public endpoint at all.
        self.environment = az.app.ManagedEnvironment(
            f"{name}-env",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            vnet_configuration=az.app.VnetConfigurationArgs(
                infrastructure_subnet_id=args.subnet_id, internal=True
            ),
            workload_profiles=[
                az.app.WorkloadProfileArgs(name="Consumption", workload_profile_type="Consumption")
            ],
            app_logs_configuration=az.app.AppLogsConfigurationArgs(destination="azure-monitor"),
            public_network_access="Disabled",
            tags=ctx.tags,
            opts=child(self),
        )
        self.job = az.app.Job(
            f"{name}-job",
            job_name=ctx.name("dbjob", max_length=32),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            environment_id=self.environment.id,
            workload_profile_name="Consumption",
            identity=az.app.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[args.identity.id]
            ),
            configuration=az.app.JobConfigurationArgs(
                trigger_type="Manual",
                # One attempt, no retry: a failed migration stops the pipeline for a person.
                replica_timeout=1800,
                replica_retry_limit=0,
                manual_trigger_config=az.app.JobConfigurationManualTriggerConfigArgs(
                    parallelism=1, replica_completion_count=1
                ),
                registries=[
                    az.app.RegistryCredentialsArgs(
                        server=args.registry_server, identity=args.identity.id
                    )
                ],
            ),
            template=az.app.JobTemplateArgs(
                containers=[
                    az.app.ContainerArgs(
                        name="migrate",
                        image=pulumi.Output.concat(
                            args.registry_server, f"/{IMAGE}:{ctx.cfg.image_tag}"
                        ),
                        env=[
                            az.app.EnvironmentVarArgs(name=k, value=v)
                            for k, v in args.settings.items()
                        ],
                        resources=az.app.ContainerResourcesArgs(cpu=0.5, memory="1Gi"),
                    )
                ]
            ),
            tags=ctx.tags,
            opts=child(self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"job_name": self.job.name})
