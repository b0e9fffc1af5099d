"""Stand-ins for what notifications are sent to, served on 127.0.0.1: a Slack incoming
webhook, a Teams workflow webhook, an outbound-webhook receiver that verifies the signature
the way the README tells customers to, and an SMTP server (``aiosmtpd``).

Each HTTP receiver records what it was sent and answers with the vendor's documented success
(Slack: 200 ``ok``; Teams workflows: 202) unless a test scripted a failure (``fail_next``: a
status with headers, or ``"timeout"``: an answer later than the client waits).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiosmtpd.controller import Controller

from tests.fakes.http import serve_http

Scripted = tuple[int, dict[str, str]] | str


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    kind: str  # slack, teams, webhook
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    fail_next: list[Scripted] = field(default_factory=list)
    # Outbound webhook: signatures that did not verify, or came too late (replays).
    rejected: list[str] = field(default_factory=list)
    stall_s: float = 2.0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.received]


def verify_signature(secret: str, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """The receiver's side, written from the README's recipe (not from our sender): None if
    the request is genuine, else why not."""
    timestamp = headers.get("x-logdawg-timestamp", "")
    signature = headers.get("x-logdawg-signature", "")
    if not timestamp.isdigit():
        return "no timestamp"
    if abs(now - int(timestamp)) > 300:
        return "too old (a replay?)"
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest("sha256=" + expected, signature):
        return "bad signature"
    return None


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        r = self.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with r.lock:
            scripted = r.fail_next.pop(0) if r.fail_next else None
        if scripted == "timeout":
            time.sleep(r.stall_s)
            scripted = None
        if isinstance(scripted, tuple):
            status, extra = scripted
            self._answer(status, b'{"error":"scripted"}', extra)
            return
        if r.kind == "webhook" and r.secret is not None:
            why = verify_signature(r.secret, headers, body, time.time())
            if why is not None:
                with r.lock:
                    r.rejected.append(why)
                self._answer(401, why.encode(), {})
                return
        with r.lock:
            r.received.append(Received(self.path, headers, body))
        if r.kind == "slack":
            self._answer(200, b"ok", {"Content-Type": "text/plain"})
        elif r.kind == "teams":
            self._answer(202, b"", {})
        else:
            self._answer(204, b"", {})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (a timeout test)


@contextmanager
def serve_receiver(kind: str, secret: str | None = None) -> Iterator[Receiver]:
    receiver = Receiver(kind, secret)
    bound = type(f"{kind.title()}Receiver", (_Handler,), {"receiver": receiver})
    with serve_http(bound) as url:
        receiver.url = f"{url}/hook/{kind}"
        yield receiver


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # SMTP replies to give instead of accepting, one per message ("451 ...", "550 ...").
    fail_next: list[str] = field(default_factory=list)


class _MailHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.fail_next:
            return self.box.fail_next.pop(0)
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd's controller checks its port by connecting to it, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_smtp() -> Iterator[Mailbox]:
    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(_MailHandler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
