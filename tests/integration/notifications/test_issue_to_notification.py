"""The whole path, as ``bootstrap`` wires it: a log over HTTP → the worker's diagnosis → its
issue → the organisation's rules → a notify job → the worker → Slack. A new issue is told
once; resolving it in a release and seeing it from an older one says nothing; a later release
is a regression, told exactly once; the next occurrence of the reopened issue is quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.bootstrap import Platform, bootstrap
from app.db.embedded import EmbeddedDatabase
from app.main import create_app
from app.settings import Settings
from tests.fakes.receivers import serve_receiver
from worker.main import run_once

pytestmark = pytest.mark.integration


def log(release: str) -> dict[str, Any]:
    return {
        "log_data": {
            "content": {
                "level": "error",
                "message": "checkout failed",
                "stack": 'Traceback (most recent call last):\n  File "/app/shop/cart.py", '
                "line 42, in total\n    return prices[sku]\nKeyError: 'SKU-1'",
            },
            "source": "shop-api",
            "metadata": {"release": release},
        }
    }


@pytest.fixture(params=["grouped", "diagnosed afresh"])
async def platform(
    request: pytest.FixtureRequest, fresh_database: EmbeddedDatabase, tmp_path: Path
) -> AsyncIterator[Platform]:
    """Both places an occurrence is counted: a repeat grouped onto its report (the API) and a
    new report of the same error (the worker, grouping off)."""
    settings = Settings(
        database_url=fresh_database.app_url, migration_database_url=fresh_database.owner_url,
        data_dir=tmp_path, public_url="https://logdawg.example.com",
        grouping_window_s=3600 if request.param == "grouped" else 0,
    )  # fmt: skip
    platform = await bootstrap(settings)
    yield platform
    await platform.aclose()


async def test_a_regression_is_told_once(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=create_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:

        async def send(release: str) -> None:
            answer = await client.post("/api/v1/logs/diagnose", json=log(release))
            assert answer.status_code in (200, 202), answer.text
            while await run_once(platform, "w1"):
                pass

        with serve_receiver("slack") as new, serve_receiver("slack") as regressed:
            for trigger, hook in (("new", new), ("regression", regressed)):
                rule = await client.post(
                    "/api/v1/notification-rules",
                    json={"name": trigger, "trigger": trigger, "channel": "slack",
                          "secret": hook.url},
                )  # fmt: skip
                assert rule.status_code == 201, rule.text

            await send("1.1")
            assert len(new.received) == 1 and regressed.received == []
            [message] = new.bodies()
            assert message["text"].startswith("New issue: KeyError")
            [issue] = (await client.get("/api/v1/issues")).json()["items"]
            assert issue["id"] and issue["state"] == "unresolved"
            assert "https://logdawg.example.com/reports/" in message["text"]

            resolved = await client.patch(
                f"/api/v1/issues/{issue['id']}",
                json={"state_change": {"state": "resolved", "in_release": "1.2"}},
            )
            assert resolved.status_code == 200, resolved.text

            await send("1.2")  # an old deployment: resolved it stays, nobody is told
            assert len(new.received) == 1 and regressed.received == []

            await send("1.3")
            assert len(regressed.received) == 1
            [told] = regressed.bodies()
            assert "KeyError" in told["text"]
            assert "shop/cart.py:42" in str(told)

            await send("1.3")  # an occurrence of an unresolved issue: quiet
            assert len(new.received) == 1 and len(regressed.received) == 1

        state = (await client.get(f"/api/v1/issues/{issue['id']}")).json()
        assert state["state"] == "unresolved" and state["occurrence_count"] == 4
