"""Service principals an organisation trusts to send alerts with an Entra ID token instead of
an API key: Azure Monitor's secure webhook (the action group's principal in your tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.api.deps import Admin, SessionDep
from app.db.models import WebhookPrincipal

router = APIRouter(prefix="/api/v1/webhook-principals", tags=["ingest webhooks"])

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class PrincipalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tenant_id: str = Field(pattern=GUID, description="Your Entra tenant id.")
    object_id: str = Field(
        pattern=GUID,
        description="The object id of the service principal that signs the webhook calls "
        "(for Azure Monitor: the 'AzNS AAD Webhook' enterprise application in your tenant).",
    )


class PrincipalOut(BaseModel):
    id: uuid.UUID
    name: str
    tenant_id: str
    object_id: str
    created_at: datetime


def _out(p: WebhookPrincipal) -> PrincipalOut:
    return PrincipalOut(
        id=p.id, name=p.name, tenant_id=p.tenant_id, object_id=p.object_id, created_at=p.created_at
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def register(body: PrincipalCreate, actor: Admin, session: SessionDep) -> PrincipalOut:
    """Trust this service principal to send alerts for the organisation (ingest only)."""
    created = await session.scalar(
        insert(WebhookPrincipal)
        .values(
            id=uuid.uuid4(),
            org_id=actor.org_id,
            name=body.name,
            tenant_id=body.tenant_id.lower(),
            object_id=body.object_id.lower(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "object_id"])
        .returning(WebhookPrincipal)
    )
    if created is None:
        # Registered already, here or (never said which) in another organisation.
        raise HTTPException(409, "This service principal is already registered.")
    await session.commit()
    return _out(created)


@router.get("")
async def list_principals(actor: Admin, session: SessionDep) -> list[PrincipalOut]:
    rows = await session.scalars(
        select(WebhookPrincipal)
        .where(WebhookPrincipal.org_id == actor.org_id)
        .order_by(WebhookPrincipal.created_at.desc())
    )
    return [_out(p) for p in rows]


@router.delete("/{principal_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(principal_id: uuid.UUID, actor: Admin, session: SessionDep) -> None:
    """Stop trusting it: its next call is 401."""
    result = await session.execute(
        delete(WebhookPrincipal).where(
            WebhookPrincipal.org_id == actor.org_id, WebhookPrincipal.id == principal_id
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise HTTPException(404, f"No webhook principal {principal_id}.")
    await session.commit()
