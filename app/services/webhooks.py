"""Turning the payloads log platforms send into logs to diagnose.

Azure Monitor's common alert schema (``schemaId: azureMonitorCommonAlertSchema``): a log search
alert may carry its query's result tables (``alertContext.SearchResults.tables[]`` with
``columns`` and ``rows``); rows of Application Insights' ``exceptions`` table hold the stack
(``details``: a JSON string with ``parsedStack``/``rawStack``, ``outerMessage``, ``problemId``).
Each distinct exception becomes one log. Metric and activity-log alerts carry no log at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.analysis.logs import result_rows

COMMON_SCHEMA = "azureMonitorCommonAlertSchema"
# Most distinct exceptions made into logs from one alert; the answer says how many more.
MAX_LOGS_PER_ALERT = 20


class NotDiagnosable(ValueError):
    """The payload holds nothing to diagnose; the message says what is accepted."""


@dataclass(frozen=True)
class AlertLog:
    content: dict[str, Any]
    source: str
    metadata: dict[str, Any]


def _object(value: Any) -> dict[str, Any]:
    """A JSON object where one is expected; anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _exception_key(row: dict[str, Any]) -> str:
    for name in ("problemId", "itemId"):
        if row.get(name):
            return f"{name}:{row[name]}"
    parts = (row.get(k) for k in ("type", "outerType", "outerMessage", "message", "method"))
    return json.dumps([p for p in parts if p], sort_keys=True, default=str)


def azure_monitor_logs(payload: Any) -> tuple[list[AlertLog], int]:
    """The logs of an alert, and how many distinct exceptions it held."""
    if not isinstance(payload, dict) or payload.get("schemaId") != COMMON_SCHEMA:
        raise NotDiagnosable(
            "This is not an Azure Monitor alert in the common alert schema (schemaId "
            f"{COMMON_SCHEMA!r}): turn on 'Enable the common alert schema' on the action group's "
            "webhook, or send other payloads to /api/v1/ingest/generic."
        )
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("essentials"), dict):
        raise NotDiagnosable("The alert has no 'data.essentials' object.")
    if not isinstance(data.get("alertContext", {}), dict):
        raise NotDiagnosable("The alert's 'data.alertContext' must be an object.")
    essentials = data["essentials"]
    context = _object(data.get("alertContext"))
    signal = str(essentials.get("signalType") or "")
    rule = str(essentials.get("alertRule") or "alert")
    if signal != "Log":
        raise NotDiagnosable(
            f"Azure Monitor sent a {signal or 'non-log'} alert ({rule!r}); it carries no log to "
            "diagnose. Accepted: log search alerts (signalType 'Log'), best with Application "
            "Insights exceptions in their results."
        )
    source = f"azure-monitor:{rule}"[:200]
    alert = {
        k: essentials.get(k)
        for k in ("alertRule", "severity", "monitorCondition", "firedDateTime", "alertTargetIDs")
        if essentials.get(k) is not None
    }
    tables = _list(_object(context.get("SearchResults")).get("tables"))
    distinct: dict[str, tuple[dict[str, Any], int]] = {}
    for table in tables:
        for row in result_rows(table):
            key = _exception_key(row)
            first, count = distinct.get(key, (row, 0))
            distinct[key] = (first, count + 1)
    if not distinct:
        # A log alert without results in the payload (too large, or the newer form that links
        # to them): one log with the alert and its query, so it is recorded and visible.
        only = AlertLog(
            content={"alert": alert, "alertContext": context},
            source=source,
            metadata={"alert": alert, "rows": 0},
        )
        return [only], 1
    logs = [
        AlertLog(content=row, source=source, metadata={"alert": alert, "rows": count})
        for row, count in list(distinct.values())[:MAX_LOGS_PER_ALERT]
    ]
    return logs, len(distinct)
