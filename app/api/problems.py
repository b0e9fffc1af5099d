"""Errors as RFC 9457 problem descriptions; never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# How long a client should wait before trying again while the database is unavailable.
RETRY_AFTER_S = 5


def problem(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = (
        [str(p) for p in loc if p != "body"] if loc and loc[0] == "body" else [str(p) for p in loc]
    )
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        return f"malformed JSON: {reason}" if reason else "malformed JSON"
    message = str(error.get("msg", "invalid"))
    # A validator's own sentence, without the prefix pydantic puts before it.
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": "body" if e.get("type") == "json_invalid" else _location(e.get("loc", ())),
            "message": _message(e),
        }
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(
        422, f"The request is not valid: {summary}", instance=request.url.path, errors=errors
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
            # not the web app's catch-all (GET anything), which is no method of an API path
            if getattr(route, "include_in_schema", True)
        )
    ]
    return ", ".join(allowed)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    response = problem(exc.status_code, detail, instance=request.url.path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405 and (allowed := allowed_methods(request)):
        response.headers["Allow"] = allowed
    return response


async def _database(request: Request, exc: sa_exc.DBAPIError) -> JSONResponse:
    """Database errors a client can do something about; anything else is unexpected.

    Messages name the exception class only: with ``hide_parameters`` no statement parameters
    (submitted logs, sealed tokens) reach the log, and the row data of a constraint error's
    DETAIL line is not logged either."""
    name = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) or (
        exc.connection_invalidated
    ):
        logger.warning("database unavailable on %s %s (%s)", request.method, request.url.path,
                       name)  # fmt: skip
        return _unavailable(request)
    if isinstance(exc, sa_exc.IntegrityError):
        logger.info("conflict on %s %s (%s)", request.method, request.url.path, name)
        return problem(
            409,
            "The request conflicts with a concurrent change of the same resource; "
            "reload it and try again.",
            instance=request.url.path,
        )
    if isinstance(exc, sa_exc.DataError):
        logger.warning("value refused by the database on %s %s (%s)", request.method,
                       request.url.path, name)  # fmt: skip
        return problem(
            422, "A value in the request cannot be stored as sent.", instance=request.url.path
        )
    return await _unexpected(request, exc)


def unavailable(path: str) -> JSONResponse:
    """503 with ``Retry-After``: the database is away (also used before routing)."""
    response = problem(
        503,
        "The database is unavailable (restarting or overloaded); "
        f"try again in {RETRY_AFTER_S} seconds.",
        instance=path,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _unavailable(request: Request) -> JSONResponse:
    return unavailable(request.url.path)


async def _driver(request: Request, exc: Exception) -> JSONResponse:
    """Errors of the driver itself (the ingest statement runs on it directly)."""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        logger.warning("database unavailable on %s %s (%s)", request.method, request.url.path,
                       type(exc).__name__)  # fmt: skip
        return _unavailable(request)
    if isinstance(exc, psycopg.IntegrityError):
        return problem(
            409,
            "The request conflicts with a concurrent change of the same resource; "
            "reload it and try again.",
            instance=request.url.path,
        )
    return await _unexpected(request, exc)


async def _pool_timeout(request: Request, exc: sa_exc.TimeoutError) -> JSONResponse:
    logger.warning("no database connection free on %s %s", request.method, request.url.path)
    return _unavailable(request)


async def _gone(request: Request, exc: Exception) -> JSONResponse:
    # The row this request changes was deleted by a concurrent request.
    return problem(
        404, "The resource was deleted while this request ran.", instance=request.url.path
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(
        500, "An internal error occurred; it has been logged.", instance=request.url.path
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem description.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "For invalid input: each field and what is wrong with it.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _problem_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        }
    return response


# Paths under /api/ that authenticate by other means than a caller's credentials, or not at all.
PUBLIC_API_PATHS = frozenset({"/api/v1/auth/config"})


def _problems_of(path: str, method: str) -> dict[str, dict[str, Any]]:
    """The problem answers an API operation can give, whichever route declares it."""
    answers = {
        "422": _problem_response("The request is not valid; `detail` and `errors` say why."),
        "503": _problem_response(
            "The database is unavailable (restarting or overloaded).", retry_after=True
        ),
    }
    if method in ("post", "put", "patch"):
        answers["413"] = _problem_response("The body exceeds LOGDAWG_MAX_BODY_BYTES.")
        answers["409"] = _problem_response("A concurrent change of the same resource.")
    if "{" in path:
        answers["404"] = _problem_response("No such resource in this organisation.")
    if path == "/api/v1/logs/diagnose" or path.startswith("/api/v1/ingest/"):
        answers["429"] = _problem_response(
            "Over the sender's or the organisation's rate of logs.", retry_after=True
        )
    if path not in PUBLIC_API_PATHS:
        answers["401"] = _problem_response(
            "No valid credentials: sign in, or send an API key (a webhook may carry it as ?key=)."
        )
        answers["403"] = _problem_response(
            "Your role in the organisation (or the API key's scope) does not allow this."
        )
    return answers


def document(app: FastAPI) -> None:
    """Make the OpenAPI document say what the API answers: every error as
    ``application/problem+json`` (not FastAPI's default validation shape), with the 4xx/503
    answers each operation can give."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        for path, item in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for status, answer in _problems_of(path, method).items():
                    if status not in responses or status == "422":
                        responses[status] = answer
                    else:
                        responses[status].setdefault("content", answer["content"])
                # Answers a route declares itself (a 409 of its own) are problems too.
                for status, answer in responses.items():
                    if status[:1] in "45" and "content" not in answer:
                        answer["content"] = _problem_response("")["content"]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(sa_exc.DBAPIError, _database)  # type: ignore[arg-type]
    app.add_exception_handler(sa_exc.TimeoutError, _pool_timeout)  # type: ignore[arg-type]
    app.add_exception_handler(psycopg.Error, _driver)
    app.add_exception_handler(orm_exc.StaleDataError, _gone)
    app.add_exception_handler(orm_exc.ObjectDeletedError, _gone)
    app.add_exception_handler(Exception, _unexpected)
    document(app)
