"""`logdawg up` as a person runs it: a subprocess on a free port, read until it says it is
running, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    url: str
    printed: str
    exit_code: int | None = None


@contextmanager
def logdawg_up(data_dir: Path, **settings: str) -> Iterator[Running]:
    """Start the platform with only ``settings`` (LOGDAWG_* names) in its environment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGDAWG_")} | settings
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    running = Running(url=f"http://127.0.0.1:{port}", printed="")
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
        running.printed = "".join(output)
        assert "Log Dawg Cloud is running" in running.printed, running.printed
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            running.exit_code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
