"""How long an organisation keeps its reports, and the sweep that enforces it."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.db.models import Organisation

logger = logging.getLogger(__name__)


async def get_retention(session: AsyncSession, org_id: uuid.UUID) -> int | None:
    return await session.scalar(
        select(Organisation.retention_days).where(Organisation.id == org_id)
    )


async def set_retention(session: AsyncSession, org_id: uuid.UUID, days: int | None) -> None:
    await session.execute(
        update(Organisation).where(Organisation.id == org_id).values(retention_days=days)
    )


async def sweep(conn: AsyncConnection) -> int:
    """Delete every organisation's finished reports last seen before its retention; how many.

    A database function (SECURITY DEFINER) does it: the sweep serves all organisations, which
    the application role cannot see at once. Running it on several instances at once is safe.
    The caller owns the transaction.
    """
    deleted = await conn.scalar(select(func.logdawg_retention_sweep()))
    return int(deleted or 0)


async def sweep_forever(engine: AsyncEngine, interval_s: float) -> None:
    """The periodic sweep each worker runs beside its jobs; a failed round is logged and the
    next one comes as planned."""
    while True:
        try:
            async with engine.begin() as conn:
                deleted = await sweep(conn)
            if deleted:
                logger.info("retention sweep deleted %d reports", deleted)
        except Exception:
            logger.warning("retention sweep failed", exc_info=True)
        await asyncio.sleep(interval_s)
