"""Request and response shapes of notification rules, their delivery log and report issues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

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


# What the API accepts is described exactly, so a request the schema allows is a rule that
# can work (the service checks again, and in multi-tenant mode also refuses internal addresses).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# Explicit character ranges (no ``\s``): Python's and JSON Schema's (ECMA) regexes must agree.
_VISIBLE = r"[^\x00-\x20\x7f-\x9f]"
_VISIBLE_NOT_AT = r"[^@\x00-\x20\x7f-\x9f]"
URL_PATTERN = rf"^https?://{_HOST}(?::{_PORT})?(?:/{_VISIBLE}*)?$"
EMAIL_PATTERN = rf"^{_VISIBLE_NOT_AT}+@{_VISIBLE_NOT_AT}+$"

WebhookUrl = Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=320)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: Trigger
    # trigger=threshold: N occurrences of one issue within M minutes (default 10 in 5).
    threshold_count: int | None = Field(default=None, ge=1, le=1_000_000)
    threshold_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    # More than storm_limit messages within storm_window_s: one digest instead.
    storm_limit: int = Field(default=10, ge=1, le=10_000)
    storm_window_s: int = Field(default=600, ge=60, le=24 * 3600)
    enabled: StrictBool = True


class SlackRule(_Rule):
    channel: Literal["slack"]
    # Write-only: the incoming webhook's URL. Sealed at once; only a hint is ever shown.
    secret: WebhookUrl


class TeamsRule(_Rule):
    channel: Literal["teams"]
    # Write-only: the Teams workflow's HTTP POST URL.
    secret: WebhookUrl


class EmailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(pattern=rf"^{_HOST}$", max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: StrictBool = True
    # Unset: no sign-in.
    username: str | None = Field(default=None, max_length=320)
    from_address: Email
    to: list[Email] = Field(min_length=1, max_length=50)


class EmailRule(_Rule):
    channel: Literal["email"]
    config: EmailConfig
    # Write-only: the SMTP password (empty without a username).
    secret: str = Field(default="", max_length=1024)


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl


class WebhookRule(_Rule):
    channel: Literal["webhook"]
    config: WebhookConfig
    # Write-only: the HMAC-SHA256 signing secret.
    secret: str = Field(min_length=16, max_length=256)


class IssueTrackerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment_on_pull_request: StrictBool = True


class IssueTrackerRule(_Rule):
    """Create the report's GitHub issue / Azure DevOps work item with the repository's own
    credentials (nothing secret to give)."""

    channel: Literal["issue_tracker"]
    config: IssueTrackerConfig = Field(default_factory=IssueTrackerConfig)


RuleCreate = Annotated[
    SlackRule | TeamsRule | EmailRule | WebhookRule | IssueTrackerRule,
    Field(discriminator="channel"),
]


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
    comment_on_pull_request: StrictBool = True


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
