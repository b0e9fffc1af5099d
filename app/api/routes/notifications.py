"""Notification rules and their delivery log: admins manage them, members read them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.api.deps import Admin, Member, PlatformDep, SessionDep
from app.api.notification_schemas import (
    ChannelConfig,
    DeliveryOut,
    EmailRule,
    IssueTrackerRule,
    RuleCreate,
    RuleOut,
    WebhookRule,
)
from app.db.models import NotificationDelivery, NotificationRule
from app.notifications import rules

router = APIRouter(prefix="/api/v1/notification-rules", tags=["notifications"])


def _out(rule: NotificationRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        trigger=rule.trigger,
        threshold_count=rule.threshold_count,
        threshold_minutes=rule.threshold_minutes,
        channel=rule.channel,
        config=ChannelConfig.model_validate(rule.config),
        secret_hint=rule.secret_hint,
        storm_limit=rule.storm_limit,
        storm_window_s=rule.storm_window_s,
        enabled=rule.enabled,
        created_at=rule.created_at,
    )


def _delivery(row: NotificationDelivery) -> DeliveryOut:
    title = row.payload.get("title") if isinstance(row.payload, dict) else None
    return DeliveryOut(
        id=row.id,
        kind=row.kind,
        event=row.event,
        title=title if isinstance(title, str) else None,
        report_id=row.report_id,
        status=row.status,
        attempts=row.attempts,
        response_code=row.response_code,
        next_retry_at=row.next_retry_at,
        error=row.error,
        digest_id=row.digest_id,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


async def _rule(session: SessionDep, rule_id: uuid.UUID) -> NotificationRule:
    rule = await session.get(NotificationRule, rule_id)
    if rule is None:
        raise HTTPException(404, f"No notification rule {rule_id}.")
    return rule


@router.get("")
async def list_rules(session: SessionDep, actor: Member) -> list[RuleOut]:
    """The organisation's rules, oldest first. Secrets are never shown, only a hint."""
    return [_out(r) for r in await rules.list_rules(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_rule(
    body: RuleCreate, session: SessionDep, platform: PlatformDep, actor: Admin
) -> RuleOut:
    """Add a rule. ``secret`` is sealed at once and never returned."""
    config = (
        body.config.model_dump(exclude_none=True)
        if isinstance(body, EmailRule | WebhookRule | IssueTrackerRule)
        else {}
    )
    secret = "" if isinstance(body, IssueTrackerRule) else body.secret
    threshold = body.trigger == "threshold"
    try:
        rule = await rules.create(
            session,
            platform.kek,
            rules.RuleInput(
                name=body.name,
                trigger=body.trigger,
                channel=body.channel,
                config=config,
                secret=secret,
                threshold_count=(body.threshold_count or 10) if threshold else None,
                threshold_minutes=(body.threshold_minutes or 5) if threshold else None,
                storm_limit=body.storm_limit,
                storm_window_s=body.storm_window_s,
                enabled=body.enabled,
            ),
            org_id=actor.org_id,
            created_by=actor.user_id,
            multi_tenant=platform.settings.mode == "multi_tenant",
        )
    except rules.InvalidRule as exc:
        raise HTTPException(422, str(exc)) from None
    await session.commit()
    return _out(rule)


@router.get("/{rule_id}")
async def get_rule(rule_id: uuid.UUID, session: SessionDep, actor: Member) -> RuleOut:
    return _out(await _rule(session, rule_id))


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: uuid.UUID, session: SessionDep, actor: Admin) -> None:
    """Delete the rule with its delivery log; queued deliveries are dropped."""
    if not await rules.delete_rule(session, rule_id):
        raise HTTPException(404, f"No notification rule {rule_id}.")
    await session.commit()


@router.get("/{rule_id}/deliveries")
async def list_deliveries(
    rule_id: uuid.UUID,
    session: SessionDep,
    actor: Member,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The rule's delivery log, newest first: status, response code, attempts, next retry,
    error; messages folded into a digest during a storm name the digest."""
    await _rule(session, rule_id)
    return [_delivery(d) for d in await rules.deliveries(session, rule_id, limit=limit)]
