"""The API and the worker on App Service (Linux containers), and the SPA on Static Web Apps.

Both apps pull their image from the registry with a user-assigned identity, take every
setting that is a secret as a Key Vault reference resolved by that identity, route all
outbound traffic through the VNet, and refuse FTP and basic publishing credentials. The worker
has no public inbound access; App Service still pings its health path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as az

from infra.components.base import Context, child

# App Service's health check is liveness: an instance that stops answering is replaced. The
# pipeline gates deploys on /readyz (this build's SHA and the schema head) instead, so a
# database blip does not make App Service recycle every instance at once.
API_HEALTH = "/healthz"
WORKER_HEALTH = "/healthz"
WORKER_HEALTH_PORT = "8080"
API_PORT = "8000"


@dataclass(frozen=True)
class AppIdentity:
    identity: az.managedidentity.UserAssignedIdentity

    @property
    def id(self) -> pulumi.Output[str]:
        return self.identity.id

    @property
    def client_id(self) -> pulumi.Output[str]:
        return self.identity.client_id

    @property
    def principal_id(self) -> pulumi.Output[str]:
        return self.identity.principal_id


@dataclass(frozen=True)
class AppsArgs:
    ctx: Context
    subnet_id: pulumi.Input[str]
    registry_server: pulumi.Input[str]
    api_identity: AppIdentity
    worker_identity: AppIdentity
    # Plain settings and Key Vault references, per app.
    api_settings: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    worker_settings: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    queue_metric_resource_id: pulumi.Input[str] | None = None
    queue_name: str = "diagnosis-jobs"
    # What must exist before an app starts: its role assignments (AcrPull to pull its image,
    # Key Vault Secrets User to resolve its references) and the secrets it references.
    depends_on: tuple[pulumi.Resource, ...] = ()


def _site_config(
    args: AppsArgs,
    identity: AppIdentity,
    image: str,
    health_path: str,
    settings: Mapping[str, pulumi.Input[str]],
    instances: int,
) -> az.web.SiteConfigArgs:
    return az.web.SiteConfigArgs(
        linux_fx_version=pulumi.Output.concat(
            "DOCKER|", args.registry_server, f"/{image}:{args.ctx.cfg.image_tag}"
        ),
        acr_use_managed_identity_creds=True,
        acr_user_managed_identity_id=identity.client_id,
        always_on=True,
        http20_enabled=True,
        min_tls_version="1.2",
        scm_min_tls_version="1.2",
        ftps_state="Disabled",
        health_check_path=health_path,
        vnet_route_all_enabled=True,
        number_of_workers=instances,
        app_settings=[az.web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()],
    )


class Apps(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Apps", name, None, opts)
        ctx, profile = args.ctx, args.ctx.cfg.profile
        self.api_plan = self._plan(f"{name}-plan", ctx)
        self.worker_plan = (
            self._plan(f"{name}-worker-plan", ctx)
            if profile.separate_worker_plan
            else self.api_plan
        )
        api_config = _site_config(
            args, args.api_identity, "logdawg-api", API_HEALTH,
            {**args.api_settings, "WEBSITES_PORT": API_PORT}, profile.app_instances,
        )  # fmt: skip
        # Pulumi sets an app's image when it creates the app; from then on the pipeline rolls
        # images out (after the database job, through the staging slot in prod), so an
        # `up` never repoints a running app, and never undoes a swap.
        swapped = ["siteConfig.linuxFxVersion"]
        self.api = self._app(
            f"{name}-api", ctx, args, self.api_plan, args.api_identity, api_config,
            ignore_changes=swapped,
        )  # fmt: skip
        worker_settings = {
            **args.worker_settings,
            "LOGDAWG_WORKER_HEALTH_PORT": WORKER_HEALTH_PORT,
            "WEBSITES_PORT": WORKER_HEALTH_PORT,
        }
        worker_config = _site_config(
            args, args.worker_identity, "logdawg-worker", WORKER_HEALTH, worker_settings, 1
        )
        self.worker = self._app(
            f"{name}-worker", ctx, args, self.worker_plan, args.worker_identity, worker_config,
            public=False, ignore_changes=swapped,
        )  # fmt: skip
        self.staging: az.web.WebAppSlot | None = None
        if profile.api_staging_slot:
            # Deployments go to staging, which migrates and reports ready before the swap.
            self.staging = az.web.WebAppSlot(
                f"{name}-api-staging",
                name=self.api.name,
                slot="staging",
                resource_group_name=ctx.resource_group_name,
                location=ctx.location,
                server_farm_id=self.api_plan.id,
                https_only=True,
                identity=self._identity(args.api_identity),
                key_vault_reference_identity=args.api_identity.id,
                virtual_network_subnet_id=args.subnet_id,
                outbound_vnet_routing=az.web.OutboundVnetRoutingArgs(
                    all_traffic=True, image_pull_traffic=True
                ),
                site_config=api_config,
                tags=ctx.tags,
                opts=child(self.api, ignore_changes=swapped, depends_on=list(args.depends_on)),
            )
        if profile.worker_autoscale and args.queue_metric_resource_id is not None:
            self.autoscale = self._autoscale(f"{name}-worker-autoscale", ctx, args)
        self.api_url = pulumi.Output.concat("https://", self.api.default_host_name)
        self.staging_url: pulumi.Output[str] = (
            pulumi.Output.concat("https://", self.staging.default_host_name)
            if self.staging is not None
            else pulumi.Output.from_input("")
        )
        self.register_outputs({"api_url": self.api_url})

    def _plan(self, name: str, ctx: Context) -> az.web.AppServicePlan:
        profile = ctx.cfg.profile
        return az.web.AppServicePlan(
            name,
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            kind="linux",
            reserved=True,
            sku=az.web.SkuDescriptionArgs(
                name=profile.app_plan_sku,
                tier=profile.app_plan_tier,
                capacity=profile.app_instances,
            ),
            zone_redundant=profile.app_instances > 1 and profile.app_plan_tier == "PremiumV3",
            tags=ctx.tags,
            opts=child(self),
        )

    @staticmethod
    def _identity(identity: AppIdentity) -> az.web.ManagedServiceIdentityArgs:
        return az.web.ManagedServiceIdentityArgs(
            type=az.web.ManagedServiceIdentityType.USER_ASSIGNED,
            user_assigned_identities=[identity.id],
        )

    def _app(
        self,
        name: str,
        ctx: Context,
        args: AppsArgs,
        plan: az.web.AppServicePlan,
        identity: AppIdentity,
        config: az.web.SiteConfigArgs,
        *,
        public: bool = True,
        ignore_changes: list[str] | None = None,
    ) -> az.web.WebApp:
        app = az.web.WebApp(
            name,
            name=ctx.name(name.rsplit("-", 1)[-1], max_length=60),
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            kind="app,linux,container",
            server_farm_id=plan.id,
            https_only=True,
            client_affinity_enabled=False,
            identity=self._identity(identity),
            key_vault_reference_identity=identity.id,
            virtual_network_subnet_id=args.subnet_id,
            outbound_vnet_routing=az.web.OutboundVnetRoutingArgs(
                all_traffic=True, image_pull_traffic=True
            ),
            public_network_access="Enabled" if public else "Disabled",
            site_config=config,
            tags=ctx.tags,
            opts=child(self, ignore_changes=ignore_changes or [], depends_on=list(args.depends_on)),
        )
        # No FTP, no basic-auth publishing: deployments authenticate with Entra ID.
        az.web.WebAppFtpAllowed(
            f"{name}-ftp-off", name=app.name, resource_group_name=ctx.resource_group_name,
            allow=False, opts=child(app),
        )  # fmt: skip
        az.web.WebAppScmAllowed(
            f"{name}-scm-basic-off", name=app.name, resource_group_name=ctx.resource_group_name,
            allow=False, opts=child(app),
        )  # fmt: skip
        return app

    def _autoscale(self, name: str, ctx: Context, args: AppsArgs) -> az.monitor.AutoscaleSetting:
        """Scale the worker plan on the queue's active messages: out by one above 20 waiting,
        in by one below 2, between 1 and 5 instances."""

        def rule(
            operator: az.monitor.ComparisonOperationType,
            threshold: float,
            direction: az.monitor.ScaleDirection,
        ) -> az.monitor.ScaleRuleArgs:
            return az.monitor.ScaleRuleArgs(
                metric_trigger=az.monitor.MetricTriggerArgs(
                    metric_name="ActiveMessages",
                    metric_namespace="Microsoft.ServiceBus/namespaces",
                    metric_resource_uri=args.queue_metric_resource_id,  # type: ignore[arg-type]
                    dimensions=[
                        az.monitor.ScaleRuleMetricDimensionArgs(
                            dimension_name="EntityName",
                            operator="Equals",
                            values=[args.queue_name],
                        )
                    ],
                    operator=operator,
                    statistic=az.monitor.MetricStatisticType.AVERAGE,
                    threshold=threshold,
                    time_aggregation=az.monitor.TimeAggregationType.AVERAGE,
                    time_grain="PT1M",
                    time_window="PT5M",
                ),
                scale_action=az.monitor.ScaleActionArgs(
                    direction=direction,
                    type=az.monitor.ScaleType.CHANGE_COUNT,
                    value="1",
                    cooldown="PT5M",
                ),
            )

        return az.monitor.AutoscaleSetting(
            name,
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            enabled=True,
            target_resource_uri=self.worker_plan.id,
            profiles=[
                az.monitor.AutoscaleProfileArgs(
                    name="queue-depth",
                    capacity=az.monitor.ScaleCapacityArgs(minimum="1", maximum="5", default="1"),
                    rules=[
                        rule(
                            az.monitor.ComparisonOperationType.GREATER_THAN,
                            20,
                            az.monitor.ScaleDirection.INCREASE,
                        ),
                        rule(
                            az.monitor.ComparisonOperationType.LESS_THAN,
                            2,
                            az.monitor.ScaleDirection.DECREASE,
                        ),
                    ],
                )
            ],
            tags=ctx.tags,
            opts=child(self),
        )


class Spa(pulumi.ComponentResource):
    """Static Web Apps: Free in dev and PR stacks, Standard (SLA) in prod. Declared before the
    API, whose CORS setting names the site's origin.

    The API is not linked as the site's backend: a linked App Service accepts only the
    requests proxied through the site, which would shut out log sources, webhooks and the
    pipeline's own checks on the API's URL. The SPA calls the API by its URL in every
    environment instead, read at run time from ``/config.json`` (written at deploy time), so
    one build serves every stack."""

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Spa", name, None, opts)
        sku = ctx.cfg.profile.static_site_sku
        self.site = az.web.StaticSite(
            f"{name}-swa",
            name=ctx.name("spa", max_length=40),
            resource_group_name=ctx.resource_group_name,
            location=ctx.cfg.static_site_location,
            sku=az.web.SkuDescriptionArgs(name=sku, tier=sku),
            tags=ctx.tags,
            opts=child(self),
        )
        self.url = pulumi.Output.concat("https://", self.site.default_hostname)
        origins: list[pulumi.Input[str]] = [self.url]
        domain = ctx.cfg.spa_custom_domain
        if domain:
            # Its CNAME to the site's default hostname must exist first (README, one-time
            # setup): Azure validates the domain by it.
            az.web.StaticSiteCustomDomain(
                f"{name}-domain",
                name=self.site.name,
                resource_group_name=ctx.resource_group_name,
                domain_name=domain,
                validation_method="cname-delegation",
                opts=child(self.site),
            )
            origins.append(f"https://{domain}")
        # The browser origins the SPA is served from, as LOGDAWG_CORS_ORIGINS wants them:
        # scheme and host, comma-separated, no path, no trailing slash.
        self.origins: pulumi.Output[str] = pulumi.Output.all(*origins).apply(",".join)
        self.register_outputs({"url": self.url, "origins": self.origins})
