"""The API serves the built SPA at / without shadowing itself, and CORS only when configured."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


async def _get(settings: Settings, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.request(kw.pop("method", "GET"), path, **kw)  # type: ignore[arg-type]


async def test_index_and_client_routes_get_the_app(dist: Path) -> None:
    settings = Settings(spa_dir=dist)
    for path in ("/", "/reports", "/reports/6c0e8e7e-0000-4000-8000-000000000000"):
        page = await _get(settings, path)
        assert page.status_code == 200, path
        assert "<div id=root>" in page.text
        assert page.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in page.headers["content-security-policy"]
    asset = await _get(settings, "/assets/index-abc123.js")
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]


async def test_api_docs_and_probes_are_not_shadowed(dist: Path) -> None:
    settings = Settings(spa_dir=dist)
    assert (await _get(settings, "/docs")).text.lower().count("swagger") > 0
    assert (await _get(settings, "/openapi.json")).json()["info"]["title"] == "Log Dawg Cloud"
    assert (await _get(settings, "/healthz")).json() == {"status": "ok"}
    assert (await _get(settings, "/assets/missing.js")).status_code == 404
    escaped = await _get(settings, "/%2e%2e/%2e%2e/pyproject.toml")
    assert escaped.status_code == 404
    assert "[project]" not in escaped.text


async def test_without_a_build_nothing_is_served_at_root(tmp_path: Path) -> None:
    assert (await _get(Settings(spa_dir=tmp_path), "/")).status_code == 404


async def test_cors_is_off_by_default_and_allows_only_configured_origins() -> None:
    preflight = {
        "method": "OPTIONS",
        "headers": {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    }
    off = await _get(Settings(), "/healthz", **preflight)
    assert "access-control-allow-origin" not in off.headers
    settings = Settings(cors_origins=["https://app.example.com"])
    on = await _get(settings, "/healthz", **preflight)
    assert on.headers["access-control-allow-origin"] == "https://app.example.com"
    other = await _get(settings, "/healthz", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_origins_are_validated() -> None:
    with pytest.raises(ValueError, match="not an origin"):
        Settings(cors_origins=["*"])
    with pytest.raises(ValueError, match="not an origin"):
        Settings(cors_origins=["https://app.example.com/path"])


def test_static_web_apps_config_matches_the_api_headers() -> None:
    """Azure serves the SPA with the same Content-Security-Policy as the API does locally,
    falls back to index.html for client routes, and never for the API."""
    import json

    from app.api.spa import CONTENT_SECURITY_POLICY

    config = json.loads(
        (
            Path(__file__).resolve().parents[2] / "frontend/public/staticwebapp.config.json"
        ).read_text()
    )
    assert config["globalHeaders"]["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert config["navigationFallback"]["rewrite"] == "/index.html"
    assert "/api/*" in config["navigationFallback"]["exclude"]
