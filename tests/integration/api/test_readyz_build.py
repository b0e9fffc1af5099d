"""/readyz names the build it runs, so a deploy waits for the new release, not the old one."""

from __future__ import annotations

import httpx
import pytest


async def test_readyz_reports_the_build_sha_and_the_schema_head(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGDAWG_BUILD_SHA", "0123456789abcdef0123456789abcdef01234567")
    body = (await client.get("/readyz")).json()
    assert body["build_sha"] == "0123456789abcdef0123456789abcdef01234567"
    assert body["status"] == "ok" and body["revision"] == body["head"]
    monkeypatch.delenv("LOGDAWG_BUILD_SHA")
    assert (await client.get("/readyz")).json()["build_sha"] == "unknown"
