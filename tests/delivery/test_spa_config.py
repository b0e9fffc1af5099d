"""A deploy makes the one SPA build its stack's: /config.json names the API, and the CSP lets
the browser call it (scripts/spa_config.py, run by scripts/deploy.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/spa_config.py"
API = "https://logdawg-dev-api.azurewebsites.net"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    shutil.copy(ROOT / "frontend/public/staticwebapp.config.json", tmp_path)
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def csp(site: Path) -> dict[str, list[str]]:
    config = json.loads((site / "staticwebapp.config.json").read_text())
    policy: str = config["globalHeaders"]["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_the_api_origin_goes_into_config_json_and_connect_src_only(site: Path) -> None:
    before = csp(site)
    bundle = (site / "assets" / "index-abc123.js").read_bytes()
    assert run(str(site), f"{API}/").returncode == 0
    assert json.loads((site / "config.json").read_text()) == {"apiBaseUrl": API}
    after = csp(site)
    assert after["connect-src"] == ["'self'", API, "https://login.microsoftonline.com"]
    assert {k: v for k, v in after.items() if k != "connect-src"} == {
        k: v for k, v in before.items() if k != "connect-src"
    }
    assert (site / "assets" / "index-abc123.js").read_bytes() == bundle
    # Deploying the same directory again does not repeat the origin.
    assert run(str(site), API).returncode == 0
    assert csp(site)["connect-src"].count(API) == 1


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://logdawg-dev-api.azurewebsites.net", "plain http"),
        ("logdawg-dev-api.azurewebsites.net", "not an http(s) URL"),
        ("", "not an http(s) URL"),
    ],
)
def test_an_api_url_a_browser_cannot_use_is_refused(site: Path, url: str, why: str) -> None:
    result = run(str(site), url)
    assert result.returncode == 2 and why in result.stderr
    assert not (site / "config.json").exists()


def test_a_directory_that_is_not_a_built_spa_is_refused(tmp_path: Path) -> None:
    result = run(str(tmp_path), API)
    assert result.returncode == 2 and "is not a built SPA" in result.stderr
