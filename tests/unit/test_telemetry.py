"""Telemetry turns on only in Azure, exports with the app's identity, and logs JSON lines that
carry the trace id of the request (or job) being served."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from app import telemetry
from app.observability import JsonFormatter as ObservabilityJson
from app.observability import configure_logging


def test_nothing_changes_without_the_connection_string() -> None:
    calls: list[dict[str, Any]] = []
    root_handlers = list(logging.getLogger().handlers)
    assert (
        telemetry.configure("logdawg-api", environ={}, exporter=lambda **kw: calls.append(kw))
        is False
    )
    assert calls == [] and logging.getLogger().handlers == root_handlers


def test_with_the_connection_string_it_exports_as_the_apps_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry, "_configured", set())
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, [h.formatter for h in root.handlers])
    calls: list[dict[str, Any]] = []
    environ = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=k;IngestionEndpoint=https://x/",
        "AZURE_CLIENT_ID": "client-id-api",
        "OTEL_SERVICE_NAME": "logdawg-api",
    }
    try:
        assert telemetry.configure(
            "logdawg-api", environ=environ, exporter=lambda **kw: calls.append(kw)
        )
        assert telemetry.configure(
            "logdawg-api", environ=environ, exporter=lambda **kw: calls.append(kw)
        )
        (call,) = calls  # once, however often the factory runs
        assert call["connection_string"] == environ["APPLICATIONINSIGHTS_CONNECTION_STRING"]
        assert type(call["credential"]).__name__ == "ManagedIdentityCredential"
        assert call["resource"].attributes["service.name"] == "logdawg-api"
    finally:
        root.handlers[:] = saved[0]
        for handler, formatter in zip(saved[0], saved[2], strict=True):
            handler.setFormatter(formatter)
        root.setLevel(saved[1])


def test_json_lines_carry_the_trace_id_and_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(telemetry.JsonFormatter())
    logger = logging.getLogger("worker.test-telemetry")
    logger.addHandler(handler)
    logger.propagate = False
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("job") as span:
            logger.warning("job failed", extra={"job_id": "j-1", "attempt": 3})
            trace_id = format(span.get_span_context().trace_id, "032x")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("outside any span")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "job failed" and first["level"] == "WARNING"
    assert first["trace_id"] == trace_id and len(first["span_id"]) == 16
    assert first["job_id"] == "j-1" and first["attempt"] == 3
    assert "trace_id" not in second and "ValueError: boom" in second["exception"]


def test_configure_logging_formats_the_streams_and_leaves_the_exporter_alone() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, [h.formatter for h in root.handlers])
    exporter = logging.NullHandler()  # stands in for OpenTelemetry's LoggingHandler
    stream = io.StringIO()
    console = logging.StreamHandler(stream)
    root.handlers[:] = [exporter, console]
    try:
        configure_logging("json")
        assert isinstance(console.formatter, ObservabilityJson) and exporter.formatter is None
        logging.getLogger("test-configure").info("hello", extra={"job_id": "j-9"})
        line = json.loads(stream.getvalue().splitlines()[-1])
        assert line["message"] == "hello" and line["job_id"] == "j-9"
        configure_logging("text")
        assert not isinstance(console.formatter, telemetry.JsonFormatter)
    finally:
        root.handlers[:] = saved[0]
        for handler, formatter in zip(saved[0], saved[2], strict=True):
            handler.setFormatter(formatter)
        root.setLevel(saved[1])
