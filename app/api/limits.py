"""Request limits, enforced before a route sees the request.

- ``BodySizeLimit``: the body size, on the declared length and on the bytes actually read.
- ``JsonGuard``: a JSON body must be one PostgreSQL can store and Python can handle: UTF-8,
  nested at most ``MAX_JSON_DEPTH`` deep, finite numbers of sane length, and no NUL
  character or lone surrogate in any string or key. Anything else is a 422 problem naming
  the reason, before anything is written. (PostgreSQL's ``jsonb`` and ``text`` cannot hold
  ``\\u0000``, and a lone surrogate cannot be encoded as UTF-8: rather than change what a
  sender submitted, such a body is refused, so what is stored is always what was sent.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem

MAX_JSON_DEPTH = 64
# Python refuses to convert longer integers anyway (sys.int_info.default_max_str_digits).
MAX_NUMBER_DIGITS = 4300


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"The request body exceeds the limit of {self.max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    response = problem(413, self._too_large(), instance=scope.get("path"))
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading as they are.
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, limited_receive, send)


class UnstorableJson(ValueError):
    """Valid JSON that the platform cannot store or process as sent."""


def _reject_constant(name: str) -> Any:
    raise UnstorableJson(f"{name} is not a JSON number; send a finite number or a string")


def _finite_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise UnstorableJson(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    value = float(text)
    if not math.isfinite(value):
        raise UnstorableJson(f"the number {text[:40]} is too large to represent")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise UnstorableJson(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored; remove or escape it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (such as \\ud800), which is not valid Unicode text"
    return None


def _where(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "body"


def check_json(value: Any) -> None:
    """Depth and string checks over a parsed document, without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise UnstorableJson(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, str):
            if reason := _string_problem(item):
                raise UnstorableJson(f"{_where(path)} {reason}")
        elif isinstance(item, dict):
            for key, child in item.items():
                if reason := _string_problem(key):
                    raise UnstorableJson(f"a key in {_where(path)} {reason}")
                stack.append((child, [*path, key]))
        elif isinstance(item, list):
            stack.extend((child, [*path, i]) for i, child in enumerate(item))


def strict_loads(body: bytes) -> Any:
    """Parse a request body, or raise ``UnstorableJson``/``json.JSONDecodeError`` with a
    reason a sender can act on."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnstorableJson(
            f"the body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
        ) from None
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise UnstorableJson(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    check_json(value)
    return value


# Where ``JsonGuard`` leaves the body it parsed, for the route (an ASGI scope extension key).
PARSED_JSON = "logdawg.parsed_json"


class GuardedJsonRequest(Request):
    """A request whose JSON body is the one ``JsonGuard`` already parsed (and checked), when
    it did: the body is parsed once per request, not once in the guard and again in the
    route."""

    async def json(self) -> Any:
        if PARSED_JSON in self.scope:
            return self.scope[PARSED_JSON]
        return await super().json()


class GuardedJsonRoute(APIRoute):
    """Routes (``APIRouter(route_class=GuardedJsonRoute)``) whose body FastAPI reads through
    ``GuardedJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            return await handler(GuardedJsonRequest(request.scope, request.receive))

        return guarded


def parsed_json(request: Request) -> Any:
    """The body ``JsonGuard`` parsed, or ``NOT_PARSED``."""
    return request.scope.get(PARSED_JSON, NOT_PARSED)


NOT_PARSED = object()


# Takes any body; without a content type it is read as text, not JSON.
_TEXT_BY_DEFAULT = ("/api/v1/ingest/generic",)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    # FastAPI parses a body without a content type as JSON.
    return not str(scope.get("path", "")).startswith(_TEXT_BY_DEFAULT)


class JsonGuard:
    """Refuse, with a 422 problem, a JSON body the platform could not store as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            try:
                message = await receive()
            except HTTPException as exc:  # the size limit, outside FastAPI's handlers here
                response = problem(exc.status_code, str(exc.detail), instance=scope.get("path"))
                await response(scope, receive, send)
                return
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body.strip():
            reason = None
            try:
                # Parsed once: the route reads this value (``GuardedJsonRoute``).
                scope[PARSED_JSON] = strict_loads(body)
            except UnstorableJson as exc:
                reason = str(exc)
            except json.JSONDecodeError as exc:
                reason = f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            if reason is not None:
                response = problem(
                    422,
                    f"The request is not valid: {reason}.",
                    instance=scope.get("path"),
                    errors=[{"field": "body", "message": reason}],
                )
                await response(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
