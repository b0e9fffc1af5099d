"""Notification rules: creating them with their secret sealed, reading them without it.
The caller owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import NotificationDelivery, NotificationRule
from app.git.safety import check_base_url
from app.git.types import Refused
from app.secrets.base import KeyWrapper
from app.secrets.envelope import Sealed, seal, unseal

CHANNELS = ("slack", "teams", "email", "webhook", "issue_tracker")
TRIGGERS = ("new", "regression", "threshold")


class InvalidRule(ValueError):
    """A rule that cannot work as given; the message says what to change."""


@dataclass(frozen=True)
class RuleInput:
    name: str
    trigger: str
    channel: str
    config: dict[str, Any]
    secret: str
    threshold_count: int | None = None
    threshold_minutes: int | None = None
    storm_limit: int = 10
    storm_window_s: int = 600
    enabled: bool = True


def hint(channel: str, secret: str, config: dict[str, Any]) -> str:
    """Enough to recognise a secret, never enough to use it."""
    if channel == "issue_tracker":
        return "the repository's own credentials"
    if channel in ("slack", "teams"):
        host = (urlsplit(secret).hostname or "?")[:60]
        return f"{host} …{secret[-4:]}" if len(secret) > 12 else host
    if channel == "email":
        who = str(config.get("username") or "no sign-in")
        who = who if len(who) <= 24 else who[:23] + "…"
        host = str(config.get("host"))
        host = host if len(host) <= 40 else host[:39] + "…"
        return f"{who}@{host}" + (" (password set)" if secret else "")
    return f"…{secret[-4:]}" if len(secret) >= 16 else "set"


async def _check_url(url: str, what: str, multi_tenant: bool) -> None:
    try:
        await check_base_url(url, multi_tenant=multi_tenant)
    except Refused as exc:
        raise InvalidRule(f"{what}: {exc}") from None
    except ValueError:  # urlsplit: a bracket or a port that is not one
        raise InvalidRule(f"{what}: {url[:100]!r} is not a valid URL") from None


async def validate(rule: RuleInput, *, multi_tenant: bool) -> dict[str, Any]:
    """The channel's stored (non-secret) configuration, or ``InvalidRule``."""
    if rule.trigger == "threshold" and not (rule.threshold_count and rule.threshold_minutes):
        raise InvalidRule(
            "a threshold rule needs threshold_count (N occurrences) and threshold_minutes (M)"
        )
    config = rule.config
    if rule.channel == "issue_tracker":
        # The report's repository and its stored credentials: nothing else to configure.
        return {"comment_on_pull_request": bool(config.get("comment_on_pull_request", True))}
    if rule.channel in ("slack", "teams"):
        if not rule.secret:
            raise InvalidRule(f"secret: the {rule.channel} webhook URL is required")
        await _check_url(rule.secret, "secret (the webhook URL)", multi_tenant)
        return {}
    if rule.channel == "webhook":
        url = str(config.get("url") or "")
        await _check_url(url, "config.url", multi_tenant)
        if len(rule.secret) < 16:
            raise InvalidRule("secret: the signing secret must be at least 16 characters")
        return {"url": url}
    host = str(config.get("host") or "").strip()
    port = config.get("port", 587)
    sender = str(config.get("from_address") or "").strip()
    recipients = config.get("to")
    if not host:
        raise InvalidRule("config.host: the SMTP server's host name is required")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidRule("config.port: a TCP port (587 for STARTTLS, 25 for plain SMTP)")
    # The same rule as for webhook URLs: no tenant points the worker at an internal address.
    await _check_url(f"https://{host}:{port}", "config.host", multi_tenant)
    if "@" not in sender:
        raise InvalidRule("config.from_address: the sender's e-mail address is required")
    if (
        not isinstance(recipients, list)
        or not recipients
        or len(recipients) > 50
        or not all(isinstance(r, str) and "@" in r for r in recipients)
    ):
        raise InvalidRule("config.to: a list of 1 to 50 e-mail addresses")
    username = str(config.get("username") or "")
    if multi_tenant and not config.get("starttls", True):
        raise InvalidRule("config.starttls: required in multi-tenant mode (passwords travel)")
    return {
        "host": host,
        "port": port,
        "starttls": bool(config.get("starttls", True)),
        "username": username,
        "from_address": sender,
        "to": recipients,
    }


async def create(
    session: AsyncSession,
    kek: KeyWrapper,
    rule: RuleInput,
    *,
    org_id: uuid.UUID,
    created_by: uuid.UUID | None,
    multi_tenant: bool,
) -> NotificationRule:
    config = await validate(rule, multi_tenant=multi_tenant)
    rule_id = uuid.uuid4()
    sealed = await seal(kek, rule.secret, org_id=org_id, credential_id=rule_id)
    row = NotificationRule(
        id=rule_id,
        org_id=org_id,
        name=rule.name,
        trigger=rule.trigger,
        threshold_count=rule.threshold_count if rule.trigger == "threshold" else None,
        threshold_minutes=rule.threshold_minutes if rule.trigger == "threshold" else None,
        channel=rule.channel,
        config=config,
        secret_ciphertext=sealed.ciphertext,
        secret_nonce=sealed.nonce,
        secret_wrapped_key=sealed.wrapped_data_key,
        secret_key_version=sealed.key_version,
        secret_hint=hint(rule.channel, rule.secret, config),
        storm_limit=rule.storm_limit,
        storm_window_s=rule.storm_window_s,
        enabled=rule.enabled,
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    return row


async def secret_of(kek: KeyWrapper, rule: NotificationRule) -> str:
    """The channel's secret in clear, for the worker's delivery only."""
    sealed = Sealed(
        ciphertext=rule.secret_ciphertext,
        nonce=rule.secret_nonce,
        wrapped_data_key=rule.secret_wrapped_key,
        key_version=rule.secret_key_version,
    )
    return await unseal(kek, sealed, org_id=rule.org_id, credential_id=rule.id)


async def list_rules(session: AsyncSession) -> list[NotificationRule]:
    rows = await session.scalars(
        select(NotificationRule).order_by(NotificationRule.created_at, NotificationRule.id)
    )
    return list(rows.all())


async def delete_rule(session: AsyncSession, rule_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(NotificationRule)
        .where(NotificationRule.id == rule_id)
        .returning(NotificationRule.id)
    )
    return result.first() is not None


async def deliveries(
    session: AsyncSession, rule_id: uuid.UUID, *, limit: int
) -> list[NotificationDelivery]:
    rows = await session.scalars(
        select(NotificationDelivery)
        .where(NotificationDelivery.rule_id == rule_id)
        .order_by(NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc())
        .limit(limit)
    )
    return list(rows.all())
