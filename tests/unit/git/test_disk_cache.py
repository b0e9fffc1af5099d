"""The terminal command's on-disk cache: survives runs, bounded, safe for concurrent runs."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from app.git.cache import CachedResponse, DiskCache


def test_an_answer_survives_into_a_new_cache_object(tmp_path: Path) -> None:
    first = DiskCache(tmp_path)
    stored = CachedResponse(b"\x00body", etag='W/"e1"', link="<x>", immutable=True)
    asyncio.run(first.put("k1", stored))
    assert asyncio.run(DiskCache(tmp_path).get("k1")) == stored
    assert asyncio.run(DiskCache(tmp_path).get("k2")) is None


def test_damaged_or_foreign_files_read_as_missing(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    asyncio.run(cache.put("k1", CachedResponse(b"body", immutable=True)))
    (path,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    path.write_bytes(b"\x00\x00\x00\x05{not json")
    assert asyncio.run(cache.get("k1")) is None
    path.write_bytes(b"")
    assert asyncio.run(cache.get("k1")) is None


def test_the_cache_stays_within_its_bound_dropping_the_least_recently_used(
    tmp_path: Path,
) -> None:
    cache = DiskCache(tmp_path, max_bytes=64 * 1024)
    for n in range(40):
        asyncio.run(cache.put(f"k{n}", CachedResponse(bytes(4096), immutable=True)))
        if n % 5 == 0:
            assert asyncio.run(cache.get("k0")) is not None  # kept warm by use
    stored = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert stored <= 64 * 1024 + 4096 * 5  # the bound, plus what was written since the sweep
    assert asyncio.run(cache.get("k0")) is not None
    assert asyncio.run(cache.get("k1")) is None


def test_concurrent_writers_never_leave_half_an_entry(tmp_path: Path) -> None:
    bodies = [bytes([n]) * 200_000 for n in range(8)]
    seen: list[bytes | None] = []

    def write(body: bytes) -> None:
        asyncio.run(DiskCache(tmp_path).put("same", CachedResponse(body, immutable=True)))

    def read() -> None:
        for _ in range(50):
            found = asyncio.run(DiskCache(tmp_path).get("same"))
            seen.append(found.body if found else None)

    threads = [threading.Thread(target=write, args=(b,)) for b in bodies]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(body is None or body in bodies for body in seen)
    final = asyncio.run(DiskCache(tmp_path).get("same"))
    assert final is not None and final.body in bodies
    assert not [p for p in tmp_path.rglob(".tmp-*")]
