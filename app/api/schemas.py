"""The HTTP API's request and response shapes."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    model_validator,
)

from app.db.models import Provider, ReportStatus
from app.services.repository_access import BadCertificate, check_certificate


def _text_or_object(value: Any) -> str | dict[str, Any]:
    if not isinstance(value, str | dict):
        raise ValueError(f"must be the log as text or a JSON object, not {type(value).__name__}")
    if (isinstance(value, str) and not value.strip()) or (isinstance(value, dict) and not value):
        raise ValueError("the log is empty")
    return value


def _none_is_default(default: Any) -> BeforeValidator:
    """The original Log Dawg accepted ``null`` for its optional fields: null means the default."""

    def replace_none(value: Any) -> Any:
        if value is not None:
            return value
        return default() if callable(default) else default

    return BeforeValidator(replace_none)


def _nullable(schema: dict[str, Any]) -> None:
    """The schema of a field that also takes ``null`` (meaning its default)."""
    own = {
        key: schema.pop(key) for key in ("type", "items", "additionalProperties") if key in schema
    }
    schema["anyOf"] = [own, {"type": "null"}]


def _timestamp(value: Any) -> Any:
    """Stored as sent: text (ISO 8601 or whatever the sender's clock prints) or epoch seconds."""
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        if isinstance(value, str) and len(value) > 64:
            raise ValueError("must be at most 64 characters")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    raise ValueError(
        "must be a date-time string (ISO 8601, e.g. 2025-06-30T01:24:27Z) or seconds since "
        f"the epoch, not {type(value).__name__}"
    )


Timestamp = Annotated[str | int | float | None, BeforeValidator(_timestamp)]


class LogData(BaseModel):
    """The ``log_data`` of the original Log Dawg API. As there, fields it does not know are
    ignored and optional fields may be ``null``."""

    model_config = ConfigDict(extra="ignore")

    content: Annotated[str | dict[str, Any], BeforeValidator(_text_or_object)] = Field(
        description="The log: raw text, or a JSON object such as a CloudWatch event.",
        json_schema_extra={
            "anyOf": [
                {"type": "string", "minLength": 1, "pattern": r"\S"},
                {"type": "object", "minProperties": 1, "additionalProperties": True},
            ]
        },
    )
    source: str | None = Field(default=None, max_length=200, description="Where it came from.")
    timestamp: Timestamp = Field(
        default=None,
        description="When it happened, stored as sent: an ISO 8601 date-time "
        "(2025-06-30T01:24:27Z) or, as older senders send it, seconds since the epoch.",
    )
    metadata: Annotated[dict[str, Any], _none_is_default(dict)] = Field(
        default_factory=dict, json_schema_extra=_nullable
    )


class DiagnoseRequest(BaseModel):
    """The original Log Dawg request. Unknown fields are ignored, as they were there."""

    model_config = ConfigDict(extra="ignore")

    log_data: LogData
    # Accepted for compatibility with the original API. There is no clone to pull any more:
    # code is read from the provider at the right commit on every diagnosis.
    force_git_pull: Annotated[StrictBool, _none_is_default(False)] = Field(
        default=False, json_schema_extra=_nullable
    )
    include_git_context: Annotated[StrictBool, _none_is_default(True)] = Field(
        default=True, json_schema_extra=_nullable
    )
    repository_id: uuid.UUID | None = Field(
        default=None,
        description="The registered repository the log comes from. Optional when the "
        "organisation has exactly one repository.",
    )


class DiagnoseAccepted(BaseModel):
    diagnosis_id: uuid.UUID
    status: ReportStatus
    status_url: str
    report_url: str
    # True when the log repeated an error already diagnosed within the grouping window: the
    # existing report counted an occurrence and ``diagnosis_id`` is that report's id.
    repeat: bool = False
    occurrence_count: int = 1


class DiagnosisStatus(BaseModel):
    diagnosis_id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    error: str | None
    report_url: str
    # As the original Log Dawg's status answer named it: the diagnosis, once complete.
    diagnosis_result: dict[str, Any] | None = None


class ReportSummary(BaseModel):
    id: uuid.UUID
    status: ReportStatus
    created_at: datetime
    completed_at: datetime | None
    repo_id: uuid.UUID | None
    commit_hash: str | None
    fingerprint: str | None
    title: str | None
    error_type: str | None
    source: str | None
    occurrence_count: int
    category: str | None = None
    # The culprit frame as ``file:line``, when the diagnosis found one.
    culprit: str | None = None
    confidence: float | None = None
    last_seen_at: datetime | None = None
    # The issue this report is an occurrence of (set when its diagnosis completes).
    issue_id: uuid.UUID | None = None


class ReportPage(BaseModel):
    items: list[ReportSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next, older page; null on the last page."
    )


class ReportDetail(ReportSummary):
    started_at: datetime | None
    attempts: int
    error: str | None
    log_data: dict[str, Any]
    report_data: dict[str, Any] | None
    # The CODEOWNERS owners of the culprit file (``@user``, ``@org/team``, e-mail addresses).
    code_owners: list[str] = Field(default_factory=list)


class Occurrence(BaseModel):
    id: uuid.UUID
    received_at: datetime
    source: str | None
    log_data: dict[str, Any]


_HTTP_URL = r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[^?#@\s]*)?$"
# What ``_fits_provider`` checks, said in the schema (OpenAPI 3.1 if/then), so a client can
# know a body is acceptable without trying it.
_PROVIDER_RULES: list[Any] = [
    # Without a pasted token: Azure DevOps only, and a service principal exactly when asked for.
    {
        "if": {
            "required": ["auth"],
            "properties": {"auth": {"enum": ["azure_identity", "azure_service_principal"]}},
        },
        "then": {"properties": {"provider": {"const": "azure_devops"}, "token": {"type": "null"}}},
    },
    {
        "if": {"required": ["auth"], "properties": {"auth": {"const": "azure_service_principal"}}},
        "then": {
            "required": ["service_principal"],
            "properties": {"service_principal": {"type": "object"}},
        },
        "else": {"properties": {"service_principal": {"type": "null"}}},
    },
    {
        "if": {"properties": {"provider": {"const": "local"}}},
        "then": {
            "required": ["base_url"],
            "properties": {"base_url": {"type": "string", "pattern": "^/"}},
        },
    },
    {
        "if": {"properties": {"provider": {"const": "github"}}},
        "then": {
            "required": ["owner"],
            "properties": {
                "owner": {"minLength": 1},
                "project": {"type": "null"},
                "base_url": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": _HTTP_URL}]},
            },
        },
    },
    {
        "if": {"properties": {"provider": {"const": "azure_devops"}}},
        "then": {
            "required": ["owner", "project"],
            "properties": {
                "owner": {"minLength": 1},
                "project": {"type": "string", "minLength": 1},
                "base_url": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": _HTTP_URL}]},
            },
        },
    },
]


# A PEM with a private key and the X.509 certificate it belongs to (checked at registration).
PEM_FORMAT = "pem-private-key-and-certificate"


class ServicePrincipal(BaseModel):
    """A customer's Entra ID service principal with Reader access to the Azure DevOps project,
    authenticating with a client secret or a certificate (one of them). Both are write-only
    and sealed at rest."""

    # Exactly one of the two; a password given for an unencrypted key is not needed, not kept.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # "not a string" rather than "null": the same here (both fields are nullable
            # strings), and the SPA's typed client keeps one shape for both branches.
            "oneOf": [
                {
                    "required": ["client_secret"],
                    "properties": {
                        "client_secret": {"type": "string"},
                        "certificate": {"not": {"type": "string"}},
                        "certificate_password": {"not": {"type": "string"}},
                    },
                },
                {
                    "required": ["certificate"],
                    "properties": {
                        "certificate": {"type": "string"},
                        "client_secret": {"not": {"type": "string"}},
                    },
                },
            ]
        },
    )

    tenant_id: uuid.UUID
    client_id: uuid.UUID
    client_secret: SecretStr | None = Field(default=None, min_length=1, max_length=1024)
    certificate: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=65_536,
        description="One PEM holding the private key and its certificate (the certificate "
        "uploaded to the app registration).",
        json_schema_extra={
            "anyOf": [
                {"type": "null"},
                {
                    "type": "string",
                    "format": PEM_FORMAT,
                    "minLength": 1,
                    "maxLength": 65_536,
                    "writeOnly": True,
                },
            ]
        },
    )
    certificate_password: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="The private key's password, when the key in `certificate` is encrypted "
        "(ignored, and not kept, for an unencrypted key).",
    )

    @model_validator(mode="after")
    def _secret_or_certificate(self) -> ServicePrincipal:
        if (self.client_secret is None) == (self.certificate is None):
            raise ValueError("give `client_secret` or `certificate` (a PEM), one of the two")
        if self.certificate is None:
            if self.certificate_password is not None:
                raise ValueError("`certificate_password` goes with `certificate` only")
            return self
        password = self.certificate_password
        try:
            needed = check_certificate(
                self.certificate.get_secret_value(),
                password.get_secret_value() if password is not None else None,
            )
        except BadCertificate as exc:
            raise ValueError(f"`certificate` {exc}") from None
        if not needed:
            self.certificate_password = None
        return self


class RepositoryCreate(BaseModel):
    """Register a repository. ``token`` is write-only: no response ever contains it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": _PROVIDER_RULES})

    provider: Provider
    owner: str = Field(
        default="",
        max_length=200,
        pattern=r"^[A-Za-z0-9_.\- ]*$",
        description="GitHub owner (user or organisation) or Azure DevOps organisation.",
    )
    project: str | None = Field(
        default=None, max_length=200, description="Azure DevOps project (Azure DevOps only)."
    )
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")
    default_branch: str = Field(default="main", min_length=1, max_length=255)
    base_url: str | None = Field(
        default=None,
        max_length=2048,
        description="GitHub Enterprise Server API root (https://HOST/api/v3) or Azure DevOps "
        "Server collection URL; for `local`, the absolute path of a checkout.",
    )
    token: SecretStr | None = Field(
        default=None,
        description="Read-only access token.",
        json_schema_extra={"anyOf": [{"type": "null"}, {"type": "string", "pattern": r"\S"}]},
    )
    auth: Literal["token", "azure_identity", "azure_service_principal"] = Field(
        default="token",
        description="How the repository is read: `token` (the pasted `token`, or none); for "
        "Azure DevOps without a PAT, `azure_identity` (the platform's own Entra ID identity, "
        "nothing stored) or `azure_service_principal` (your service principal, sealed). GitHub "
        "repositories are read through the GitHub App by registering them from an installation.",
    )
    service_principal: ServicePrincipal | None = None

    @model_validator(mode="after")
    def _fits_provider(self) -> RepositoryCreate:
        if self.auth != "token":
            if self.provider is not Provider.AZURE_DEVOPS:
                raise ValueError(f"`auth: {self.auth}` is for azure_devops repositories only")
            if self.token is not None:
                raise ValueError(f"`auth: {self.auth}` takes no `token`")
        if (self.auth == "azure_service_principal") != (self.service_principal is not None):
            raise ValueError(
                "`service_principal` (tenant_id, client_id, client_secret) goes with "
                "`auth: azure_service_principal`, and only with it"
            )
        if self.provider is Provider.AZURE_DEVOPS and not (self.owner and self.project):
            raise ValueError("azure_devops repositories need `owner` (organisation) and `project`")
        if self.provider is Provider.GITHUB and (not self.owner or self.project is not None):
            raise ValueError("github repositories need `owner` and take no `project`")
        if self.provider is Provider.LOCAL and not (self.base_url or "").startswith("/"):
            raise ValueError("local repositories need `base_url`: the checkout's absolute path")
        if self.provider is not Provider.LOCAL and self.base_url is not None:
            url = urlsplit(self.base_url)
            if url.scheme not in ("https", "http") or not url.hostname:
                raise ValueError("`base_url` must be an http(s) URL")
            if url.username or url.password or url.query or url.fragment:
                raise ValueError("`base_url` may not carry credentials, a query or a fragment")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("`token` is empty")
        return self


class RepositoryOut(BaseModel):
    id: uuid.UUID
    provider: Provider
    owner: str
    project: str | None
    name: str
    default_branch: str
    base_url: str | None
    has_credential: bool
    created_at: datetime
    auth_kind: Literal["token", "github_app", "azure_identity", "azure_service_principal"] = "token"
    # Why the provider refuses access now (the app uninstalled, the repository removed from
    # the installation); null while it is reachable.
    unreachable_reason: str | None = None
    unreachable_at: datetime | None = None


class TokenUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: SecretStr = Field(min_length=1, max_length=4096)
