"""What every component needs: the stack's settings, where to put resources, how to name
and tag them, and the built-in roles they grant."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as az

from infra.config import StackConfig

# Built-in role definition ids (the same in every Azure tenant).
ROLES = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}


@dataclass(frozen=True)
class Context:
    cfg: StackConfig
    resource_group_name: pulumi.Input[str]
    subscription_id: str
    tenant_id: str
    # Appended to globally unique names: random in PR stacks, empty in dev and prod.
    suffix: pulumi.Input[str]

    @property
    def location(self) -> str:
        return self.cfg.location

    @property
    def tags(self) -> dict[str, str]:
        return self.cfg.tags

    def name(
        self, kind: str, *, max_length: int = 60, alphanumeric: bool = False
    ) -> pulumi.Output[str]:
        """A globally unique name: ``<prefix>-<env>-<kind><suffix>``, shortened to fit."""
        sep = "" if alphanumeric else "-"
        base = sep.join([self.cfg.name_prefix, self.cfg.env_label, kind])
        return pulumi.Output.from_input(self.suffix).apply(
            lambda suffix: (
                (base[: max_length - len(suffix)] + suffix)
                if alphanumeric
                else (base[: max_length - len(suffix) - 1] + (f"-{suffix}" if suffix else ""))
            )
        )

    def role(self, name: str) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/providers/"
            f"Microsoft.Authorization/roleDefinitions/{ROLES[name]}"
        )

    def grant(
        self,
        resource_name: str,
        *,
        role: str,
        principal_id: pulumi.Input[str],
        scope: pulumi.Input[str],
        parent: pulumi.Resource,
    ) -> az.authorization.RoleAssignment:
        """Least privilege: one built-in role, one service principal, one resource."""
        return az.authorization.RoleAssignment(
            resource_name,
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=self.role(role),
            scope=scope,
            opts=pulumi.ResourceOptions(parent=parent),
        )


def child(parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **extra)  # type: ignore[arg-type]


def stateful(parent: pulumi.Resource, ctx: Context, **extra: object) -> pulumi.ResourceOptions:
    """Options of a resource that holds data: Pulumi refuses to delete it in prod."""
    return child(parent, protect=ctx.cfg.profile.protect_stateful, **extra)
