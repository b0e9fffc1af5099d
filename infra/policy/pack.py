"""The guardrails of ``rules.py`` as mandatory ``pulumi_policy`` resource policies."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from infra.policy.rules import RULES, Rule

PACK_NAME = "logdawg-guardrails"


def _policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if rule.types and args.resource_type not in rule.types:
            return
        for problem in rule.check(args.resource_type, args.props):
            report_violation(problem, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[ResourceValidationPolicy]:
    return [_policy(rule) for rule in RULES]
