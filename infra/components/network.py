"""The virtual network: an App Service integration subnet, a private-endpoint subnet, a subnet
for the Container Apps environment that runs the one-off database job, and a private DNS zone
(linked to the VNet) for every kind of private endpoint in use."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as az

from infra.components.base import Context, child

ZONES = {
    "postgres": "privatelink.postgres.database.azure.com",
    "vault": "privatelink.vaultcore.azure.net",
    "servicebus": "privatelink.servicebus.windows.net",
}


@dataclass(frozen=True)
class NetworkArgs:
    ctx: Context
    zones: tuple[str, ...]


class Network(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Network", name, None, opts)
        ctx = args.ctx
        cidr = ipaddress.ip_network(ctx.cfg.vnet_cidr)
        app_cidr, endpoints_cidr, jobs_cidr = (
            str(s) for s in list(cidr.subnets(new_prefix=24))[:3]
        )
        self.vnet = az.network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            address_space=az.network.AddressSpaceArgs(address_prefixes=[str(cidr)]),
            tags=ctx.tags,
            opts=child(self, ignore_changes=["subnets"]),
        )
        self.app_subnet = az.network.Subnet(
            f"{name}-app",
            resource_group_name=ctx.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=app_cidr,
            delegations=[
                az.network.DelegationArgs(
                    name="appservice", service_name="Microsoft.Web/serverFarms"
                )
            ],
            default_outbound_access=False,
            opts=child(self),
        )
        self.endpoint_subnet = az.network.Subnet(
            f"{name}-endpoints",
            resource_group_name=ctx.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=endpoints_cidr,
            private_endpoint_network_policies="Disabled",
            default_outbound_access=False,
            opts=child(self, depends_on=[self.app_subnet]),
        )
        # A workload-profiles Container Apps environment needs a subnet of its own, delegated
        # to Microsoft.App/environments (at least a /27).
        self.jobs_subnet = az.network.Subnet(
            f"{name}-jobs",
            resource_group_name=ctx.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=jobs_cidr,
            delegations=[
                az.network.DelegationArgs(
                    name="containerapps", service_name="Microsoft.App/environments"
                )
            ],
            default_outbound_access=False,
            opts=child(self, depends_on=[self.endpoint_subnet]),
        )
        self.zones: dict[str, az.privatedns.PrivateZone] = {}
        for key in args.zones:
            zone = az.privatedns.PrivateZone(
                f"{name}-zone-{key}",
                resource_group_name=ctx.resource_group_name,
                private_zone_name=ZONES[key],
                location="Global",
                tags=ctx.tags,
                opts=child(self),
            )
            az.privatedns.VirtualNetworkLink(
                f"{name}-zone-{key}-link",
                resource_group_name=ctx.resource_group_name,
                private_zone_name=zone.name,
                virtual_network=az.privatedns.SubResourceArgs(id=self.vnet.id),
                registration_enabled=False,
                location="Global",
                tags=ctx.tags,
                opts=child(zone),
            )
            self.zones[key] = zone
        self.register_outputs({"vnet_id": self.vnet.id, "app_subnet_id": self.app_subnet.id})

    def private_endpoint(
        self,
        name: str,
        ctx: Context,
        *,
        target_id: pulumi.Input[str],
        group: str,
        zone: str,
        parent: pulumi.Resource,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> az.network.PrivateEndpoint:
        """A private endpoint for ``target_id`` in the endpoint subnet, registered in its zone."""
        endpoint = az.network.PrivateEndpoint(
            f"{name}-pe",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            subnet=az.network.SubnetArgs(id=self.endpoint_subnet.id),
            private_link_service_connections=[
                az.network.PrivateLinkServiceConnectionArgs(
                    name=f"{name}-plsc", private_link_service_id=target_id, group_ids=[group]
                )
            ],
            tags=ctx.tags,
            opts=child(parent, depends_on=depends_on or []),
        )
        az.network.PrivateDnsZoneGroup(
            f"{name}-pe-dns",
            resource_group_name=ctx.resource_group_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[
                az.network.PrivateDnsZoneConfigArgs(
                    name=zone, private_dns_zone_id=self.zones[zone].id
                )
            ],
            opts=child(endpoint),
        )
        return endpoint
