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
import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
        # The database layer is imported where it is used: the terminal command's caches
        # (memory, disk) never load SQLAlchemy.
        from sqlalchemy import select

        from app.db.models import GitCacheEntry
        from app.db.session import tenant_session

        async with self._lock, tenant_session(self.sessions, self.org_id) as session:
            row = await session.scalar(select(GitCacheEntry).where(GitCacheEntry.key == key))
        if row is None:
            return None
        return CachedResponse(row.body, row.etag, row.link, row.immutable)

    async def put(self, key: str, value: CachedResponse) -> None:
        from sqlalchemy.dialects.postgresql import insert

        from app.db.models import GitCacheEntry
        from app.db.session import tenant_session

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


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/logdawg`` (``~/.cache/logdawg``): the terminal command's own cache."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "logdawg"


class DiskCache:
    """Provider answers kept on disk between runs of ``logdawg diagnose``: one file per key,
    written to a temporary file and renamed into place (so concurrent runs never read half an
    entry, and the last writer wins), bounded in bytes (the least recently used files go
    first). Answers addressed by a commit SHA are served from here for good; a branch head is
    kept with its ETag for the next run's conditional request. Keys carry the API URL, so
    repositories and servers never share entries."""

    _HEADER = 4  # bytes of the header's length

    def __init__(self, root: Path, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._written = 0

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.root / digest[:2] / digest

    async def get(self, key: str) -> CachedResponse | None:
        return await asyncio.to_thread(self._get, key)

    async def put(self, key: str, value: CachedResponse) -> None:
        await asyncio.to_thread(self._put, key, value)

    def _get(self, key: str) -> CachedResponse | None:
        path = self._path(key)
        try:
            raw = path.read_bytes()
            size = int.from_bytes(raw[: self._HEADER], "big")
            header = json.loads(raw[self._HEADER : self._HEADER + size])
        except (OSError, ValueError):
            return None  # missing, being replaced, or damaged: as if never stored
        if not isinstance(header, dict) or header.get("key") != key:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return CachedResponse(
            body=raw[self._HEADER + size :],
            etag=header.get("etag"),
            link=header.get("link"),
            immutable=bool(header.get("immutable")),
        )

    def _put(self, key: str, value: CachedResponse) -> None:
        if len(value.body) > self.max_bytes // 4:
            return
        header = json.dumps(
            {"key": key, "etag": value.etag, "link": value.link, "immutable": value.immutable}
        ).encode()
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(len(header).to_bytes(self._HEADER, "big") + header + value.body)
            os.replace(temp, path)
        except OSError:
            return  # a full or read-only disk costs requests, never the diagnosis
        self._written += len(value.body)
        if self._written > self.max_bytes // 16:
            self._written = 0
            self._evict()

    def _evict(self) -> None:
        files: list[tuple[float, int, Path]] = []
        for path in self.root.glob("??/*"):
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.name.startswith(".tmp-") and stat.st_mtime < time.time() - 3600:
                path.unlink(missing_ok=True)  # left behind by a run that died mid-write
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
