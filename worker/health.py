"""A minimal HTTP health endpoint for the worker (App Service's health check pings it).

``GET /healthz`` answers 200 while the loop has turned recently, 503 when it has been stuck for
longer than ``stale_after_s`` (a hung job holds the loop; its lease will hand the job to another
worker, and the platform restarts this one).
"""

from __future__ import annotations

import asyncio
import json
import time


class Heartbeat:
    def __init__(self) -> None:
        self.last = time.monotonic()
        self.jobs = 0

    def beat(self) -> None:
        self.last = time.monotonic()


async def serve_health(
    heartbeat: Heartbeat, host: str, port: int, stale_after_s: float
) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            # Drain the headers; the request has no body.
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        parts = request.decode("latin-1").split()
        age = time.monotonic() - heartbeat.last
        body: dict[str, str | float | int]
        if len(parts) < 2 or parts[0] != "GET" or parts[1] != "/healthz":
            status, body = "404 Not Found", {"detail": "only GET /healthz is served here"}
        elif age > stale_after_s:
            status, body = (
                "503 Service Unavailable",
                {"status": "stuck", "seconds_since_beat": round(age, 1)},
            )
        else:
            status, body = "200 OK", {"status": "ok", "jobs_processed": heartbeat.jobs}
        payload = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        try:
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
