"""Request and response shapes of notification rules, their delivery log and report issues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["slack", "teams", "email", "webhook", "issue_tracker"]
Trigger = Literal["new", "regression", "threshold"]


class ChannelConfig(BaseModel):
    """What the channel needs that is not secret. Webhook: ``url``. E-mail: the SMTP
    server's ``host``, ``port``, ``starttls``, ``username``, the sender (``from_address``) and
    the recipients (``to``). Slack and Teams: nothing (their URL is the secret)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    host: str | None = Field(default=None, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)
    starttls: bool = True
    username: str | None = Field(default=None, max_length=320)
    from_address: str | None = Field(default=None, max_length=320)
    to: list[str] | None = Field(default=None, max_length=50)
    # issue_tracker: also comment on the pull request that brought in the suspect commit.
    comment_on_pull_request: bool | None = None


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    # trigger=threshold: N occurrences of one issue within M minutes.
    threshold_count: int | None = Field(default=None, ge=1, le=1_000_000)
    threshold_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    channel: Channel
    config: ChannelConfig = Field(default_factory=ChannelConfig)
    # Write-only: the Slack or Teams webhook URL, the SMTP password, or the webhook's signing
    # secret. Sealed at once; the API shows only a hint of it.
    secret: str = Field(default="", max_length=2048)
    # More than storm_limit messages within storm_window_s: one digest instead.
    storm_limit: int = Field(default=10, ge=1, le=10_000)
    storm_window_s: int = Field(default=600, ge=60, le=24 * 3600)
    enabled: bool = True


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    trigger: Trigger
    threshold_count: int | None
    threshold_minutes: int | None
    channel: Channel
    config: ChannelConfig
    secret_hint: str
    storm_limit: int
    storm_window_s: int
    enabled: bool
    created_at: datetime


DeliveryStatus = Literal["queued", "retrying", "delivered", "failed", "digested"]


class DeliveryOut(BaseModel):
    """One message of a rule: what it was about and what became of it."""

    id: uuid.UUID
    kind: Literal["message", "digest"]
    event: str
    title: str | None
    report_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    next_retry_at: datetime | None
    error: str | None
    # A message folded into a digest: the digest's id.
    digest_id: uuid.UUID | None
    created_at: datetime
    delivered_at: datetime | None


class IssueLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Also comment on the pull request that brought in the suspect commit.
    comment_on_pull_request: bool = True


class IssueLinkOut(BaseModel):
    """The GitHub issue or Azure DevOps work item created from a report."""

    provider: Literal["github", "azure_devops"]
    external_id: str
    url: str
    pull_request_comment_url: str | None
    created_at: datetime
    # This call created it (false: it already existed, nothing new was created).
    created: bool = False
    # Why no pull request comment was left, when one was asked for.
    pull_request_note: str | None = None
