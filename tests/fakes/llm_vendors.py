"""A stand-in for the model vendors' HTTP APIs on 127.0.0.1: OpenAI Chat Completions, Azure
OpenAI deployments' chat completions, and Anthropic Messages, answering with their documented
response shapes. Each test scripts the replies (a 429 with Retry-After, a slow answer, a 500,
a 401, invalid JSON, a valid answer) and reads back exactly what the client sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import serve_http

VALID = {
    "title": "KeyError in total at shop/cart.py:42",
    "summary": "The cart total looks up a SKU that has no price.",
    "root_cause": "prices has no entry for the SKU at shop/cart.py:42.",
    "error_analysis": "The KeyError is raised by prices[item.sku].",
    "recommendations": ["Load prices for every SKU in the cart."],
    "confidence": 0.8,
    "category": "key or index error",
}


@dataclass
class Reply:
    status: int = 200
    text: str | None = None  # the model's answer text (wrapped in the vendor's envelope)
    body: Any = None  # a raw body instead (errors)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeVendor:
    vendor: str
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def envelope(self, text: str, request: dict[str, Any]) -> dict[str, Any]:
        if self.vendor == "anthropic":
            # With a tool forced, the model answers with a tool_use block whose input is the
            # object; an answer that is not an object comes back as text (as models do).
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            tools = [t.get("name") for t in request.get("tools") or []]
            if isinstance(answer, dict) and tools:
                content: list[dict[str, Any]] = [
                    {"type": "tool_use", "id": "toolu_01", "name": tools[0], "input": answer}
                ]
                stop = "tool_use"
            else:
                content, stop = [{"type": "text", "text": text}], "end_turn"
            return {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": "claude-3-5-haiku-latest",
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 1200, "output_tokens": 150},
            }
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1764460800,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVendor

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.fake.received.append(Received(self.path, dict(self.headers.items()), body))
        reply = self.fake.replies.pop(0) if self.fake.replies else Reply(text=json.dumps(VALID))
        time.sleep(reply.delay_s)
        payload = (
            reply.body if reply.body is not None else self.fake.envelope(reply.text or "", body)
        )
        data = json.dumps(payload).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout tests)


@contextmanager
def vendor_server(vendor: str) -> Iterator[FakeVendor]:
    fake = FakeVendor(vendor)
    with serve_http(type("BoundHandler", (_Handler,), {"fake": fake})) as url:
        fake.url = url
        yield fake
