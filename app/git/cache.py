"""Response caches shared by the git clients.

Anything addressed by a commit SHA is immutable: once fetched it is served from the cache and
never requested again. What moves (a branch head) is stored with its ETag and revalidated with
``If-None-Match``; GitHub does not count a 304 against the rate limit.

Two layers: an in-process LRU (bounded in bytes) and PostgreSQL (``git_cache``), shared by
every worker. Entries are scoped: the memory key carries the organisation, and PostgreSQL rows
are tenant rows under row-level security, so one tenant's private code is never served to
another.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import GitCacheEntry
from app.db.session import tenant_session

# Bodies larger than this are not kept in PostgreSQL (the memory layer still holds them).
MAX_STORED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str | None = None
    link: str | None = None
    immutable: bool = False


class ResponseCache(Protocol):
    async def get(self, key: str) -> CachedResponse | None: ...

    async def put(self, key: str, value: CachedResponse) -> None: ...


class MemoryCache:
    """An LRU bounded by the bytes it holds; keys must already carry their scope."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0

    async def get(self, key: str) -> CachedResponse | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    async def put(self, key: str, value: CachedResponse) -> None:
        if len(value.body) > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._items[key] = value
        self._bytes += len(value.body)
        while self._bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= len(evicted.body)


class PostgresCache:
    """The shared layer: one organisation's rows, through row-level security."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], org_id: uuid.UUID) -> None:
        self.sessions = sessions
        self.org_id = org_id
        # One diagnosis reads several files at once; its cache look-ups take one database
        # connection at a time rather than one each.
        self._lock = asyncio.Lock()

    async def get(self, key: str) -> CachedResponse | None:
        async with self._lock, tenant_session(self.sessions, self.org_id) as session:
            row = await session.scalar(select(GitCacheEntry).where(GitCacheEntry.key == key))
        if row is None:
            return None
        return CachedResponse(row.body, row.etag, row.link, row.immutable)

    async def put(self, key: str, value: CachedResponse) -> None:
        if len(value.body) > MAX_STORED_BYTES:
            return
        values = {
            "org_id": self.org_id,
            "key": key,
            "etag": value.etag,
            "link": value.link,
            "body": value.body,
            "immutable": value.immutable,
        }
        statement = insert(GitCacheEntry).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["org_id", "key"],
            set_={k: statement.excluded[k] for k in ("etag", "link", "body", "immutable")}
            | {"stored_at": statement.excluded.stored_at},
        )
        async with (
            self._lock,
            tenant_session(self.sessions, self.org_id) as session,
            session.begin(),
        ):
            await session.execute(statement)


class LayeredCache:
    """Memory first, then PostgreSQL; what PostgreSQL answers is kept in memory too."""

    def __init__(self, memory: MemoryCache, shared: ResponseCache, scope: str) -> None:
        self.memory = memory
        self.shared = shared
        self.scope = scope

    async def get(self, key: str) -> CachedResponse | None:
        scoped = f"{self.scope}:{key}"
        found = await self.memory.get(scoped)
        if found is None:
            found = await self.shared.get(key)
            if found is not None:
                await self.memory.put(scoped, found)
        return found

    async def put(self, key: str, value: CachedResponse) -> None:
        await self.memory.put(f"{self.scope}:{key}", value)
        await self.shared.put(key, value)


class ScopedMemoryCache:
    """The memory layer alone (no database): the ``logdawg diagnose`` command, benchmarks."""

    def __init__(self, memory: MemoryCache, scope: str) -> None:
        self.memory = memory
        self.scope = scope

    async def get(self, key: str) -> CachedResponse | None:
        return await self.memory.get(f"{self.scope}:{key}")

    async def put(self, key: str, value: CachedResponse) -> None:
        await self.memory.put(f"{self.scope}:{key}", value)
