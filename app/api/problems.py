"""Errors as RFC 9457 problem descriptions; never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    return str(error.get("msg", "invalid"))


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


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    response = problem(exc.status_code, detail, instance=request.url.path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
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


def _unavailable(request: Request) -> JSONResponse:
    response = problem(
        503,
        "The database is unavailable (restarting or overloaded); "
        f"try again in {RETRY_AFTER_S} seconds.",
        instance=request.url.path,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


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


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(sa_exc.DBAPIError, _database)  # type: ignore[arg-type]
    app.add_exception_handler(sa_exc.TimeoutError, _pool_timeout)  # type: ignore[arg-type]
    app.add_exception_handler(orm_exc.StaleDataError, _gone)
    app.add_exception_handler(orm_exc.ObjectDeletedError, _gone)
    app.add_exception_handler(Exception, _unexpected)
