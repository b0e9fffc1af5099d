"""Log lines as JSON objects (``LOGDAWG_LOG_FORMAT=json``, the default): time, level, logger,
message and the request id of the work they belong to (an API request, or the job that
request queued). Never a request body: log calls name ids, not content."""

from __future__ import annotations

import contextvars
import logging

from app import telemetry

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class JsonFormatter(telemetry.JsonFormatter):
    """``app.telemetry``'s JSON lines (trace ids in Azure), with the request id of the work
    the line belongs to."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None and (request_id := request_id_var.get()):
            record.request_id = request_id  # the parent writes extra attributes as fields
        return super().format(record)


def configure_logging(log_format: str = "json", level: int = logging.INFO) -> None:
    """Root logging for the API and the worker (uvicorn's own loggers propagate here too).
    Handlers other than plain streams (OpenTelemetry's export in Azure) stay as they are."""
    formatter = (
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    streams = [h for h in root.handlers if type(h) is logging.StreamHandler]
    if not streams:
        streams = [logging.StreamHandler()]
        root.addHandler(streams[0])
    for handler in streams:
        handler.setFormatter(formatter)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.handlers and not logger.propagate:
            continue  # ``--no-access-log``: uvicorn turned the access log off; keep it off
        logger.handlers[:] = []
        logger.propagate = True
