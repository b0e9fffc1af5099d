"""Operations: every resource's logs and metrics into Log Analytics, the alerts a person must
hear about (to one action group whose receivers come from stack config), and a monthly budget
on the environment's resource group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pulumi
import pulumi_azure_native as az

from infra.components.base import Context, child


@dataclass(frozen=True)
class Alert:
    """One metric alert: a documented metric of a resource type, and when it fires."""

    name: str
    description: str
    scope: pulumi.Input[str]
    namespace: str
    metric: str
    aggregation: str
    operator: str
    threshold: float
    window: str = "PT5M"
    dimension: tuple[str, str] | None = None  # (name, value)
    severity: int = 2


@dataclass(frozen=True)
class OperationsArgs:
    ctx: Context
    workspace_id: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    # (resource name, resource id, send logs too): metrics always, logs where the type has them.
    diagnosed: tuple[tuple[str, pulumi.Input[str], bool], ...]
    alerts: tuple[Alert, ...]
    insights_id: pulumi.Input[str]


class Operations(pulumi.ComponentResource):
    def __init__(self, name: str, args: OperationsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("logdawg:infra:Operations", name, None, opts)
        ctx = args.ctx
        for resource_name, resource_id, with_logs in args.diagnosed:
            az.monitor.DiagnosticSetting(
                f"{name}-diag-{resource_name}",
                name="to-log-analytics",
                resource_uri=resource_id,
                workspace_id=args.workspace_id,
                log_analytics_destination_type="Dedicated" if with_logs else None,
                logs=[az.monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
                if with_logs
                else None,
                metrics=[
                    az.monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)
                ],
                opts=child(self),
            )  # fmt: skip
        emails = ctx.cfg.alert_emails
        self.action_group = az.monitor.ActionGroup(
            f"{name}-oncall",
            resource_group_name=ctx.resource_group_name,
            location="Global",
            group_short_name=f"ld-{ctx.cfg.env_label}"[:12],
            enabled=True,
            email_receivers=[
                az.monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=email, use_common_alert_schema=True
                )
                for i, email in enumerate(emails)
            ],
            tags=ctx.tags,
            opts=child(self),
        )
        for alert in args.alerts:
            self._metric_alert(name, ctx, alert)
        # Failed jobs: the worker logs each failure at ERROR with its job id; any in 15 minutes
        # pages. (Jobs that exhausted their deliveries are also caught by the dead-letter alert.)
        az.monitor.ScheduledQueryRule(
            f"{name}-alert-failed-jobs",
            resource_group_name=ctx.resource_group_name,
            location=ctx.location,
            description="The worker reported failed jobs in the last 15 minutes.",
            severity=2,
            enabled=True,
            scopes=[args.insights_id],
            evaluation_frequency="PT5M",
            window_size="PT15M",
            criteria=az.monitor.ScheduledQueryRuleCriteriaArgs(
                all_of=[
                    az.monitor.ConditionArgs(
                        query=(
                            "traces | where cloud_RoleName == 'logdawg-worker' "
                            "and severityLevel >= 3"
                        ),
                        time_aggregation="Count",
                        operator="GreaterThan",
                        threshold=0,
                    )
                ]
            ),
            actions=az.monitor.ActionsArgs(action_groups=[self.action_group.id]),
            tags=ctx.tags,
            opts=child(self),
        )
        # The budget's period starts on the first of the month it was created in; Azure
        # rejects a start date in the past on update, so it is not changed afterwards.
        first_of_month = datetime.now(UTC).date().replace(day=1).isoformat()
        self.budget = az.consumption.Budget(
            f"{name}-budget",
            budget_name=f"logdawg-{ctx.cfg.env_label}-monthly",
            scope=args.resource_group_id,
            amount=ctx.cfg.budget,
            category="Cost",
            time_grain="Monthly",
            time_period=az.consumption.BudgetTimePeriodArgs(start_date=f"{first_of_month}T00:00:00Z"),
            notifications={
                f"actual-{pct}": az.consumption.NotificationArgs(
                    enabled=True, operator="GreaterThanOrEqualTo", threshold=pct,
                    contact_emails=list(emails), contact_groups=[self.action_group.id],
                )
                for pct in (80, 100)
            },
            opts=child(self, ignore_changes=["timePeriod"]),
        )  # fmt: skip
        self.register_outputs({"action_group_id": self.action_group.id})

    def _metric_alert(self, name: str, ctx: Context, alert: Alert) -> az.monitor.MetricAlert:
        dimensions = (
            [
                az.monitor.MetricDimensionArgs(
                    name=alert.dimension[0], operator="Include", values=[alert.dimension[1]]
                )
            ]
            if alert.dimension
            else None
        )
        return az.monitor.MetricAlert(
            f"{name}-alert-{alert.name}",
            resource_group_name=ctx.resource_group_name,
            location="global",
            description=alert.description,
            severity=alert.severity,
            enabled=True,
            scopes=[alert.scope],
            evaluation_frequency="PT1M" if alert.window == "PT5M" else "PT5M",
            window_size=alert.window,
            target_resource_type=alert.namespace,
            criteria=az.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[
                    az.monitor.MetricCriteriaArgs(
                        criterion_type="StaticThresholdCriterion",
                        name=alert.name,
                        metric_name=alert.metric,
                        metric_namespace=alert.namespace,
                        time_aggregation=alert.aggregation,
                        operator=alert.operator,
                        threshold=alert.threshold,
                        dimensions=dimensions,
                    )
                ],
            ),
            actions=[az.monitor.MetricAlertActionArgs(action_group_id=self.action_group.id)],
            auto_mitigate=True,
            tags=ctx.tags,
            opts=child(self),
        )
