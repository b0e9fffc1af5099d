"""Request and response shapes of sign-in, organisations, members, invitations and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.auth.api_keys import Scope
from app.db.models import Role

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class AuthConfig(BaseModel):
    """What a browser needs to sign in (no secret)."""

    mode: Literal["single_tenant", "multi_tenant"]
    provider: Literal["none", "entra", "dev"]
    authority: str | None
    client_id: str | None
    scopes: list[str]
    dev_issuer_url: str | None


class UserOut(BaseModel):
    id: uuid.UUID
    display_name: str
    email: str | None


class OrgOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    role: Role


class Me(BaseModel):
    user: UserOut | None
    organisations: list[OrgOut]


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")


class OrgUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class MemberOut(BaseModel):
    user_id: uuid.UUID
    display_name: str
    email: str | None
    role: Role
    created_at: datetime


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(pattern=EMAIL, max_length=320)
    role: Role = Role.MEMBER


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class InvitationCreated(InvitationOut):
    token: str = Field(description="The one-time token; shown once.")
    accept_path: str


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=200)


class InvitationAccepted(BaseModel):
    org_id: uuid.UUID
    role: Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(default=[Scope.INGEST], min_length=1)
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="The key stops working after this many days."
    )


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[Scope]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key; shown once, never again.")
