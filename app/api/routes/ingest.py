"""Webhooks in the shapes log sources already send. An API key with the ``ingest`` scope may
come in the query string (``?key=ldk_…``): Azure Monitor action groups cannot set headers."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from pydantic import BaseModel

from app.api.deps import Ingest, PlatformDep
from app.api.ingest_pipeline import accept_log, accept_logs
from app.api.limits import NOT_PARSED, GuardedJsonRoute, parsed_json
from app.api.schemas import DiagnoseAccepted
from app.services.webhooks import NotDiagnosable, azure_monitor_logs

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest webhooks"], route_class=GuardedJsonRoute)

RepositoryParam = Annotated[
    uuid.UUID | None,
    Query(description="The registered repository the logs come from (optional with one)."),
]


class IngestAccepted(BaseModel):
    diagnoses: list[DiagnoseAccepted]
    # Distinct exceptions in the payload beyond those made into diagnoses.
    skipped: int = 0


async def _body(request: Request) -> bytes:
    body = await request.body()
    if not body.strip():
        raise HTTPException(422, "The body is empty: send the log as JSON or text.")
    return body


def _json(request: Request, body: bytes) -> Any:
    # JsonGuard parsed (and checked) a JSON body already; parse here only what it did not.
    if (parsed := parsed_json(request)) is not NOT_PARSED:
        return parsed
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HTTPException(422, f"The body is not valid JSON: {exc}") from exc


# The routes read their bodies themselves (any JSON object or text); these say so in the
# OpenAPI document.
GENERIC_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "minProperties": 1}},
            "text/plain": {"schema": {"type": "string", "pattern": r"\S"}},
        },
    }
}
ALERT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["schemaId", "data"],
                    "properties": {
                        "schemaId": {"const": "azureMonitorCommonAlertSchema"},
                        "data": {
                            "type": "object",
                            "required": ["essentials"],
                            "properties": {
                                "essentials": {
                                    "type": "object",
                                    "required": ["signalType"],
                                    "properties": {"signalType": {"const": "Log"}},
                                },
                                "alertContext": {"type": "object"},
                            },
                        },
                    },
                }
            }
        },
    }
}


NO_REPOSITORY: dict[int | str, dict[str, Any]] = {
    404: {"description": "No repository `repository_id` in this organisation."}
}


@router.post(
    "/generic",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=GENERIC_BODY,
    responses=NO_REPOSITORY,
)
async def ingest_generic(
    request: Request,
    actor: Ingest,
    platform: PlatformDep,
    repository_id: RepositoryParam = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    x_logdawg_source: Annotated[str | None, Header(max_length=200)] = None,
) -> IngestAccepted:
    """Any log as the body: a JSON object (kept as sent), or text (any other content type).
    For a `curl` in a CI step, or a log forwarder."""
    body = await _body(request)
    content: str | dict[str, Any]
    if "json" in request.headers.get("content-type", ""):
        parsed = _json(request, body)
        if not isinstance(parsed, dict) or not parsed:
            raise HTTPException(
                422,
                "A JSON body must be a non-empty object; send other logs as text "
                "(Content-Type: text/plain).",
            )
        content = parsed
    else:
        try:
            content = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(422, f"The body is not UTF-8 text: {exc}") from exc
        if "\x00" in content:
            # PostgreSQL cannot store U+0000 in text or JSON; refused like a JSON body's NUL.
            raise HTTPException(
                422, "The body holds a NUL character (U+0000), which cannot be stored."
            )
    log_data = {
        "content": content,
        "source": source or x_logdawg_source or "generic webhook",
        "timestamp": None,
        "metadata": {},
    }
    accepted = await accept_log(
        platform,
        org_id=actor.org_id,
        log_data=log_data,
        repository_id=repository_id,
    )
    return IngestAccepted(diagnoses=[accepted])


@router.post(
    "/azure-monitor",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=ALERT_BODY,
    responses=NO_REPOSITORY,
)
async def ingest_azure_monitor(
    request: Request,
    actor: Ingest,
    platform: PlatformDep,
    repository_id: RepositoryParam = None,
) -> IngestAccepted:
    """An Azure Monitor alert in the common alert schema, as its action group sends it. Log
    search alerts become one diagnosis per distinct exception in their results; metric and
    activity-log alerts are refused with 422 (they carry no log)."""
    try:
        logs, total = azure_monitor_logs(_json(request, await _body(request)))
    except NotDiagnosable as exc:
        raise HTTPException(422, str(exc)) from exc
    diagnoses = await accept_logs(
        platform,
        org_id=actor.org_id,
        logs=[
            {
                "content": log.content,
                "source": log.source,
                "timestamp": None,
                "metadata": log.metadata,
            }
            for log in logs
        ],
        repository_id=repository_id,
    )
    return IngestAccepted(diagnoses=diagnoses, skipped=total - len(logs))
