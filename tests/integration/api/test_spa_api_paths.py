"""With the SPA built, an unknown API path is still the API's 404, never the SPA's page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.bootstrap import Platform
from app.main import create_app

pytestmark = pytest.mark.integration


async def test_unknown_api_paths_are_problems_not_the_app(
    platform: Platform, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<div id=root></div>")
    served = replace(platform, settings=platform.settings.model_copy(update={"spa_dir": tmp_path}))
    transport = httpx.ASGITransport(app=create_app(platform=served))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        missing = await client.get("/api/v1/no-such-thing")
        page = await client.get("/reports")
        reports = await client.get("/api/v1/reports")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "id=root" in page.text
    assert reports.json()["items"] == []
