"""Telemetry of the API and the worker in Azure: OpenTelemetry traces, metrics and logs to
Azure Monitor (Application Insights), and logs as one JSON object per line.

Enabled only when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set (the stack sets it, as a
Key Vault reference); locally and in tests nothing changes. Ingestion is authenticated with
the app's managed identity (``AZURE_CLIENT_ID``), which holds Monitoring Metrics Publisher on
the Application Insights resource. The Azure SDK instrumentation carries the trace context
through Service Bus messages, so a request's trace id (its request id in every JSON log line)
continues in the worker's logs for the job it queued.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the current trace and span
    ids, the exception if any, and whatever ``extra=`` fields the call passed."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        return json.dumps(entry, ensure_ascii=False)


def _azure_monitor(**kwargs: Any) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(**kwargs)


_configured: set[str] = set()


def configure(
    service: str,
    *,
    environ: Mapping[str, str] = os.environ,
    exporter: Callable[..., None] = _azure_monitor,
) -> bool:
    """Turn telemetry on for ``service`` if the connection string is set; True if it is on.
    Safe to call more than once (the app factory runs per app)."""
    connection_string = environ.get(CONNECTION_STRING)
    if not connection_string:
        return False
    if service in _configured:
        return True
    from azure.identity import ManagedIdentityCredential
    from opentelemetry.sdk.resources import Resource

    client_id = environ.get("AZURE_CLIENT_ID")
    exporter(
        connection_string=connection_string,
        credential=ManagedIdentityCredential(client_id=client_id) if client_id else None,
        resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service)}),
        enable_live_metrics=False,
    )
    # The Azure SDKs log every HTTP call at INFO: keep their warnings only.
    # The process's own handlers and format are ``observability.configure_logging``'s.
    logging.getLogger("azure").setLevel(logging.WARNING)
    _configured.add(service)
    return True
