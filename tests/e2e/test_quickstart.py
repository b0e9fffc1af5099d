"""The README's first command, for real: `logdawg up` starts embedded PostgreSQL, migrates, runs
the API and a worker as separate processes; the sample log goes in over HTTP and comes back as a
complete report; Ctrl-C stops everything, the database included."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.platform import logdawg_up


@pytest.mark.timeout(180)
def test_up_diagnoses_the_sample_end_to_end(tmp_path: Path, sample_request: bytes) -> None:
    with logdawg_up(tmp_path / "data") as running:
        printed = running.printed
        port = running.url.rsplit(":", 1)[1]
        assert f"curl -s -X POST http://127.0.0.1:{port}/api/v1/logs/diagnose" in printed

        base = f"http://127.0.0.1:{port}"
        # Behind a proxy that ended TLS (App Service's front ends; here the client's own
        # address, which the server trusts by default): the answer says to keep to HTTPS.
        plain = httpx.get(f"{base}/healthz")
        assert "strict-transport-security" not in plain.headers
        assert "server" not in plain.headers, "the answers do not name the server software"
        proxied = httpx.get(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers["strict-transport-security"].startswith("max-age=")
        accepted = httpx.post(
            f"{base}/api/v1/logs/diagnose",
            content=sample_request,
            headers={"Content-Type": "application/json"},
        )
        assert accepted.status_code == 202, accepted.text
        diagnosis_id = accepted.json()["diagnosis_id"]

        status = ""
        for _ in range(200):
            status = httpx.get(f"{base}/api/v1/logs/diagnose/status/{diagnosis_id}").json()[
                "status"
            ]
            if status in ("complete", "failed"):
                break
            time.sleep(0.1)
        assert status == "complete"

        report = httpx.get(f"{base}/api/v1/reports/{diagnosis_id}").json()
        frames = [(f["file"], f["line"]) for f in report["report_data"]["frames"]]
        assert ("src/shader.c", 45) in frames
        assert report["log_data"] == json.loads(sample_request)["log_data"]
        listed = httpx.get(f"{base}/api/v1/reports").json()["items"]
        assert [item["id"] for item in listed] == [diagnosis_id]
    assert running.exit_code == 0
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists(), "database left running"
