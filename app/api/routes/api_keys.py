"""Per-organisation API keys for machines that send logs or read reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Response, status

from app.api.access_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from app.api.deps import Admin, AuthenticatorDep, SessionDep
from app.auth.api_keys import Scope
from app.db.models import ApiKey
from app.services import api_keys

router = APIRouter(prefix="/api/v1/api-keys", tags=["API keys"])


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=[Scope(s) for s in key.scopes],
        expires_at=key.expires_at,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyCreate,
    actor: Admin,
    session: SessionDep,
    authenticator: AuthenticatorDep,
    response: Response,
) -> ApiKeyCreated:
    """Create a key. The full key is in this answer only: it is stored as a keyed hash."""
    expires_at = (
        datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    key, secret = await api_keys.create(
        session,
        authenticator.hasher,
        org_id=actor.org_id,
        name=body.name,
        scopes=body.scopes,
        expires_at=expires_at,
        created_by=actor.user_id,
    )
    await session.commit()
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**_out(key).model_dump(), key=secret)


@router.get("")
async def list_keys(actor: Admin, session: SessionDep) -> list[ApiKeyOut]:
    """The organisation's keys (their prefixes, never the keys), newest first."""
    return [_out(k) for k in await api_keys.list_keys(session, actor.org_id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(
    key_id: uuid.UUID, actor: Admin, session: SessionDep, authenticator: AuthenticatorDep
) -> None:
    """Revoke a key: refused from the next request on."""
    if not await api_keys.revoke(session, actor.org_id, key_id):
        raise HTTPException(404, f"No API key {key_id}.")
    await session.commit()
    authenticator.forget_key(key_id)
