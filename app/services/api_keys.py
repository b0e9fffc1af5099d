"""Per-organisation API keys: created (the key returned once), listed, revoked."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.api_keys import KeyHasher, Scope, generate
from app.db.models import ApiKey


async def create(
    session: AsyncSession,
    hasher: KeyHasher,
    *,
    org_id: uuid.UUID,
    name: str,
    scopes: list[Scope],
    expires_at: datetime | None,
    created_by: uuid.UUID | None,
) -> tuple[ApiKey, str]:
    new = generate()
    api_key = ApiKey(
        org_id=org_id,
        name=name,
        prefix=new.prefix,
        key_hash=hasher.hash(new.key),
        scopes=sorted({s.value for s in scopes}),
        expires_at=expires_at,
        created_by=created_by,
    )
    session.add(api_key)
    await session.flush()
    await session.refresh(api_key)
    return api_key, new.key


async def list_keys(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKey]:
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.created_at.desc())
    )
    return list(rows)


async def revoke(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """True when the key exists (revoking twice is fine)."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.org_id == org_id, ApiKey.id == key_id)
        .values(revoked_at=func.coalesce(ApiKey.revoked_at, func.now()))
        .returning(ApiKey.id)
    )
    return result.first() is not None
