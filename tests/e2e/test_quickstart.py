"""The README's first command, for real: `logdawg up` starts embedded PostgreSQL, migrates, runs
the API and a worker as separate processes; the sample log goes in over HTTP and comes back as a
complete report; Ctrl-C stops everything, the database included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(180)
def test_up_diagnoses_the_sample_end_to_end(tmp_path: Path, sample_request: bytes) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGDAWG_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        printed = "".join(output)
        assert "Log Dawg Cloud is running" in printed, printed
        assert f"curl -s -X POST http://127.0.0.1:{port}/api/v1/logs/diagnose" in printed

        base = f"http://127.0.0.1:{port}"
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
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists(), "database left running"
