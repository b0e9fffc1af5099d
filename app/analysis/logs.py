"""Reading a submitted log: structure first, text second.

A log arrives as a JSON object or as text. JSON is searched by field meaning, whatever the
spelling (``error_message``, ``errorMessage``, ``error.message``), at any depth; text is read
line by line. Known envelopes are opened first: CloudWatch Logs subscription payloads (base64
gzip), Lambda ``START/END/REPORT`` output, ALB access logs, the Azure Monitor common alert
schema, Application Insights exception records, Kubernetes/container JSON lines and syslog.

Everything is bounded (input size, depth, lines, fields), and nothing raises on odd input: a
log the parser cannot make sense of is still a log, with its lines as the evidence.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.analysis.models import ExceptionInfo, ParsedLog, StackFrame
from app.analysis.stacktrace import extract_trace, is_in_app, language_of

MAX_INPUT_CHARS = 5 * 1024 * 1024
MAX_DECOMPRESSED = 10 * 1024 * 1024
MAX_TEXT_CHARS = 512 * 1024
MAX_DEPTH = 12
MAX_NODES = 5_000
MAX_ERROR_LINES = 50
MAX_FIELDS = 40
MAX_FIELD_CHARS = 300

# --- field meanings ---------------------------------------------------------------------------


_NOT_KEY_CHARS = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """``errorMessage``, ``error_message``, ``error-message``, ``@message`` → ``errormessage``.
    (Cached: a parse asks this of every key twice, and senders reuse a few hundred names.)"""
    return _NOT_KEY_CHARS.sub("", name.lower())


_MESSAGE_KEYS = {"message", "msg", "logmessage", "text", "body", "description", "summary"}
_LEVEL_KEYS = {"level", "severity", "levelname", "loglevel", "severitytext", "l", "lvl"}
_SERVICE_KEYS = {
    "service",
    "servicename",
    "app",
    "appname",
    "application",
    "applicationname",
    "component",
    "cloudrolename",
    "approlename",
    "functionname",
}
_SOURCE_KEYS = {"source", "logger", "loggername", "logstream", "loggroup"}
_TIME_KEYS = {"timestamp", "time", "ts", "datetime", "date", "timegenerated", "firedatetime"}
_ERROR_TYPE_KEYS = {
    "errortype",
    "exceptiontype",
    "errorclass",
    "exceptionclass",
    "errorname",
    "errorkind",
    "exctype",
}
_ERROR_MESSAGE_KEYS = {
    "errormessage",
    "exceptionmessage",
    "errormsg",
    "outermessage",
    "innermostmessage",
    "outerexceptionmessage",
    "reason",
}
_TRACE_KEYS = {
    "rawstack",
    "stacktrace",
    "stack",
    "traceback",
    "backtrace",
    "excinfo",
    "exception",
    "fulllog",
    "log",
    "details",
    "trace",
    "callstack",
    "errorstack",
    "stacktracestring",
}
_ERROR_CONTAINERS = {"error", "err", "exception", "errordetails", "exc", "fault", "failure"}
_RELEASE_KEYS = {"release", "sentryrelease", "releaseversion", "deploymentid", "buildid"}
_VERSION_KEYS = {
    "version",
    "appversion",
    "applicationversion",
    "serviceversion",
    "buildversion",
    "imageversion",
}
_COMMIT_KEYS = {
    "commit",
    "commitsha",
    "commithash",
    "commitid",
    "gitcommit",
    "gitsha",
    "githash",
    "sha",
    "revision",
    "gitrevision",
    "sourceversion",
    "vcsrevision",
    "buildcommit",
}
_COMMIT_VALUE = re.compile(r"^[0-9a-fA-F]{7,40}$")

_LEVEL_WORDS = {
    "fatal": "fatal",
    "critical": "critical",
    "crit": "critical",
    "emergency": "critical",
    "emerg": "critical",
    "alert": "critical",
    "panic": "fatal",
    "error": "error",
    "err": "error",
    "severe": "error",
    "exception": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "debug": "debug",
    "trace": "debug",
    "verbose": "debug",
}
_LEVEL_RANK = {"debug": 0, "info": 1, "warning": 2, "error": 3, "critical": 4, "fatal": 5}
_ERROR_LEVELS = {"error", "critical", "fatal"}
_TEXT_LEVEL = re.compile(
    r"(?:^|[\s\[|(<:\"'])(FATAL|CRITICAL|CRIT|PANIC|ERROR|ERR|SEVERE|EXCEPTION|"
    r"WARNING|WARN|INFO|NOTICE|DEBUG|TRACE)(?=$|[\s\]|):>\"',])",
    re.IGNORECASE,
)
_ERRORISH = re.compile(
    r"Traceback \(most recent call last\)|^panic:|panicked at|Exception|Error\b|"
    r"\bfailed\b|\bfailure\b|\bfatal\b|segmentation fault|core dumped|Uncaught|"
    r"Task timed out after|timed out|\brefused\b|\bdenied\b|\bunreachable\b|\bunable to\b",
    re.IGNORECASE,
)
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_TEXT_COMMIT = re.compile(r"\b(?:commit|sha|revision|git[_-]?sha)[=: ]+([0-9a-f]{7,40})\b", re.I)
_TEXT_VERSION = re.compile(r"\b(?:version|release)[=: ]+v?(\d+\.\d+(?:\.\d+)?[\w.+-]*)", re.I)


# The characters Python's ``re`` matches to an ASCII letter under IGNORECASE besides A-Z: the
# capital I with a dot and the Kelvin sign (their simple lower case is i and k), the dotless i
# and the long s (its equivalents of i and s). Mapped first: ``lower`` alone turns the dotted
# capital I into two characters.
_ASCII_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _fold(line: str) -> str:
    """The line as the gates below compare it: every character that ``re`` would match to an
    ASCII letter under IGNORECASE is that letter, in lower case (character by character, so
    the folding of a line's start is the start of its folding)."""
    return line.lower() if line.isascii() else line.translate(_ASCII_FOLDS).lower()


@dataclass(frozen=True)
class _Gated:
    """A case-insensitive pattern and words (case-folded) that every match of it contains.
    Python's ``re`` tries each alternative of such a pattern at every position of a line
    (7 µs for a traceback's ``File …`` line with ``_ERRORISH``); most lines contain none of
    the words, and a substring test over the folded line (``_fold``) rules them out for a
    tenth of that. A line with one of the words is searched as before, so what matches is
    unchanged."""

    pattern: re.Pattern[str]
    words: tuple[str, ...]

    def search(self, line: str, folded: str) -> re.Match[str] | None:
        """``pattern.search(line)``; ``folded`` is ``_fold(line)``, or the folding of a line
        that ``line`` is the start of."""
        for word in self.words:
            if word in folded:
                return self.pattern.search(line)
        return None


_GATED_LEVEL = _Gated(
    _TEXT_LEVEL,
    ("err", "warn", "info", "debug", "trace", "fatal", "crit", "panic", "severe", "exception",
     "notice"),
)  # fmt: skip
_GATED_ERRORISH = _Gated(
    _ERRORISH,
    ("error", "exception", "fail", "traceback", "fatal", "panic", "timed out", "refused",
     "denied", "unreachable", "unable to", "uncaught", "segmentation fault", "core dumped"),
)  # fmt: skip
_GATED_COMMIT = _Gated(_TEXT_COMMIT, ("commit", "sha", "revision"))
_GATED_VERSION = _Gated(_TEXT_VERSION, ("version", "release"))

# --- envelopes --------------------------------------------------------------------------------

_LAMBDA_MARK = re.compile(r"^(?:START|END|REPORT|INIT_START) RequestId: ", re.M)
_LAMBDA_LINE = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2}T[\d:.]+Z)\t(?P<request>[\w-]+)\t(?P<level>[A-Z]+)\t(?P<msg>.*)$"
)
_LAMBDA_PY_LINE = re.compile(
    r"^\[(?P<level>[A-Z]+)\]\t(?P<time>\S+)\t(?P<request>\S+)\t(?P<msg>.*)$"
)
_ALB_LINE = re.compile(
    r"^(?P<type>https?|h2|grpcs|wss?) (?P<time>\S+) (?P<elb>\S+) (?P<client>\S+) (?P<target>\S+) "
    r"(?P<req_t>\S+) (?P<target_t>\S+) (?P<resp_t>\S+) (?P<elb_status>\d{3}|-) "
    r'(?P<target_status>\d{3}|-) \d+ \d+ "(?P<request>[^"]*)"'
)
_SYSLOG_5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) "
    r"(?:-|(?:\[[^\]]*\])+)\s?(?P<msg>.*)$"
)
_SYSLOG_3164 = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<time>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>\S+) "
    r"(?P<app>[\w./-]+)(?:\[(?P<proc>\d+)\])?: (?P<msg>.*)$"
)
# journalctl -o short-iso / short-precise and rsyslog's RFC 3339 file format.
_SYSLOG_ISO = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) "
    r"(?P<host>\S+) (?P<app>[\w./-]+)(?:\[(?P<proc>\d+)\])?: (?P<msg>.*)$"
)
# The CRI log format (containerd, CRI-O: /var/log/pods/...): time, stream, F(ull) or P(artial).
_CRI_LINE = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) "
    r"(?P<stream>stdout|stderr) (?P<tag>[FP])(?: (?P<msg>.*))?$"
)
# ``docker logs --timestamps`` / ``kubectl logs --timestamps``: an RFC 3339 time and a space.
_DOCKER_TIME = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6,9}(?:Z|[+-]\d{2}:\d{2})) (?P<msg>.*)$"
)
_SYSLOG_SEVERITY = ["fatal", "critical", "critical", "error", "warning", "info", "info", "debug"]


@dataclass
class _Reading:
    """What the parse collects before it becomes a ``ParsedLog``."""

    format: str
    level: str | None = None
    service: str | None = None
    source: str | None = None
    timestamp: str | None = None
    message: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    release: str | None = None
    commit: str | None = None
    version: str | None = None
    lines: list[str] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    frames: list[StackFrame] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)

    def raise_level(self, level: str | None) -> None:
        if level and _LEVEL_RANK.get(level, -1) > _LEVEL_RANK.get(self.level or "", -1):
            self.level = level


def _level(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        # bunyan/pino numbers (10..60) and syslog-style 0..7 are both common.
        if value >= 10:
            return {10: "debug", 20: "debug", 30: "info", 40: "warning", 50: "error"}.get(
                value, "fatal" if value >= 60 else "info"
            )
        return _SYSLOG_SEVERITY[value] if 0 <= value <= 7 else None
    if isinstance(value, str):
        return _LEVEL_WORDS.get(value.strip().lower())
    return None


def _text(value: Any, key: str = "") -> str | None:
    if isinstance(value, str):
        value = value.replace("\x00", "").strip()
        return value or None
    if key in _TRACE_KEYS and isinstance(value, list) and value and _all_str(value):
        return "\n".join(value)  # e.g. Lambda's ``stack: ["TypeError: x", "    at ..."]``
    return None


def _all_str(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _scalar(value: Any) -> str | int | float | bool | None:
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS]
    if isinstance(value, int | float | bool):
        return value
    return None


def _walk(
    value: Any, path: tuple[str, ...] = (), budget: list[int] | None = None
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Depth-first (path, value) pairs of a JSON value, bounded in depth and node count."""
    budget = budget if budget is not None else [MAX_NODES]
    if budget[0] <= 0 or len(path) > MAX_DEPTH:
        return
    budget[0] -= 1
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, str(k)), budget)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, f"[{i}]"), budget)


def _first_key(path: tuple[str, ...]) -> str:
    return _key(path[-1]) if path else ""


def _parent_key(path: tuple[str, ...]) -> str:
    for part in reversed(path[:-1]):
        if not part.startswith("["):
            return _key(part)
    return ""


def _read_object(obj: Any, reading: _Reading) -> None:
    """Pick fields by meaning from any JSON value."""
    for path, value in _walk(obj):
        key = _first_key(path)
        parent = _parent_key(path)
        if not key or key.startswith("["):
            continue
        text = _text(value, key)
        if key in _LEVEL_KEYS and (level := _level(value)):
            reading.raise_level(level)
        elif key in _COMMIT_KEYS and isinstance(value, str) and _COMMIT_VALUE.match(value.strip()):
            reading.commit = reading.commit or value.strip().lower()
        elif text is None:
            if (scalar := _scalar(value)) is not None and len(reading.fields) < MAX_FIELDS:
                reading.fields.setdefault(".".join(path[-2:]), scalar)
            continue
        elif key in _ERROR_TYPE_KEYS or (
            parent in _ERROR_CONTAINERS and key in {"type", "name", "class", "kind", "code"}
        ):
            reading.error_type = reading.error_type or text
        elif key in _ERROR_MESSAGE_KEYS or (parent in _ERROR_CONTAINERS and key in _MESSAGE_KEYS):
            reading.error_message = reading.error_message or text
        elif key in _TRACE_KEYS or (parent in _ERROR_CONTAINERS and "\n" in text):
            reading.traces.append(text)
        elif key in _MESSAGE_KEYS:
            reading.message = reading.message or text
            if "\n" in text:
                reading.traces.append(text)
        elif (key in _SERVICE_KEYS or (key == "name" and parent in _SERVICE_KEYS)) and len(
            text
        ) <= 200:
            reading.service = reading.service or text
        elif key in _SOURCE_KEYS and len(text) <= 200:
            reading.source = reading.source or text
        elif key in _TIME_KEYS:
            reading.timestamp = reading.timestamp or text
        elif key in _VERSION_KEYS and len(text) <= 100:
            reading.version = reading.version or text
        elif key in _RELEASE_KEYS and len(text) <= 200:
            reading.release = reading.release or text
        elif key in _ERROR_CONTAINERS:
            # ``"error": "connect ECONNREFUSED"`` or ``"exception": "Traceback ..."``.
            if "\n" in text:
                reading.traces.append(text)
            else:
                reading.error_message = reading.error_message or text
        elif "\n" in text and len(reading.traces) < 20:
            reading.traces.append(text)
        elif len(reading.fields) < MAX_FIELDS:
            reading.fields.setdefault(".".join(path[-2:]), text[:MAX_FIELD_CHARS])


def _app_insights_frames(obj: Any) -> list[StackFrame]:
    """``parsedStack`` arrays of Application Insights exception telemetry, one per exception of
    the chain (outer first), each frame list innermost first (``level`` 0)."""
    frames: list[StackFrame] = []
    stacks = [
        v for p, v in _walk(obj) if p and _key(p[-1]) == "parsedstack" and isinstance(v, list)
    ]
    for index, stack in enumerate(stacks):
        for item in stack[:200]:
            if not isinstance(item, dict):
                continue
            file = item.get("fileName") if isinstance(item.get("fileName"), str) else None
            method = item.get("method") if isinstance(item.get("method"), str) else None
            line = item.get("line")
            assembly = item.get("assembly")
            language = language_of(file) or "csharp"
            if file and method and "/" not in file and "\\" not in file and "." in method:
                # The Java SDK sends the bare file name; the class's package is its path.
                package = method.split("$", 1)[0].rsplit(".", 2)[0]
                if language in ("java", "kotlin", "scala", "groovy") and "." in package:
                    file = f"{package.replace('.', '/')}/{file}"
            frames.append(
                StackFrame(
                    file=file,
                    line=line if isinstance(line, int) and line > 0 else None,
                    function=method,
                    module=assembly if isinstance(assembly, str) else None,
                    language=language,
                    in_app=is_in_app(language, file, method),
                    exception_index=index,
                    raw=json.dumps(item)[:2000],
                )
            )
    return frames


def _cloudwatch_events(obj: Any) -> tuple[dict[str, Any], list[Any]] | None:
    """A CloudWatch Logs subscription payload, decoded: its envelope and its events."""
    if isinstance(obj, dict) and isinstance(obj.get("awslogs"), dict):
        decoded = _gunzip_b64(obj["awslogs"].get("data"))
        obj = _json(decoded) if decoded else None
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("logEvents"), list)
        and ("logGroup" in obj or "messageType" in obj)
    ):
        return obj, obj["logEvents"]
    return None


def _gunzip_b64(data: Any) -> str | None:
    if not isinstance(data, str) or len(data) > MAX_INPUT_CHARS:
        return None
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if raw[:2] != b"\x1f\x8b":
        return None
    try:
        stream = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        out = stream.decompress(raw, MAX_DECOMPRESSED)
    except (zlib.error, gzip.BadGzipFile, EOFError):
        return None
    return out.decode("utf-8", errors="replace")


def _json(text: str | None) -> Any:
    if not text:
        return None
    text = text.strip()
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _json_lines(text: str) -> list[dict[str, Any]] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    objects = []
    for line in lines[:20_000]:
        obj = _json(line)
        if not isinstance(obj, dict):
            return None
        objects.append(obj)
    return objects


# --- text ------------------------------------------------------------------------------------


def _unprefixed(lines: list[str], reading: _Reading) -> list[tuple[str, str | None]]:
    """Each line without the prefix its log platform put on it (CRI/containerd, ``docker logs
    -t``, syslog and journald), with the syslog level when the prefix had one: a multi-line
    trace whose every line carries a prefix reads as the trace the program printed. CRI
    partial lines (``P``) are joined to the line they continue."""
    out: list[tuple[str, str | None]] = []
    partial = ""
    for line in lines:
        if m := _CRI_LINE.match(line):
            reading.timestamp = reading.timestamp or m["time"]
            if reading.format == "text":
                reading.format = "cri"
            if m["stream"] == "stderr":
                reading.fields.setdefault("stream", "stderr")
            if m["tag"] == "P":
                partial += m["msg"] or ""
                continue
            out.append((partial + (m["msg"] or ""), None))
            partial = ""
        elif m := _SYSLOG_5424.match(line) or _SYSLOG_3164.match(line) or _SYSLOG_ISO.match(line):
            pri = m.groupdict().get("pri")
            reading.service = reading.service or m["app"]
            reading.timestamp = reading.timestamp or m["time"]
            if reading.format == "text":
                reading.format = "syslog"
            out.append((m["msg"], _SYSLOG_SEVERITY[int(pri) % 8] if pri else None))
        elif m := _DOCKER_TIME.match(line):
            reading.timestamp = reading.timestamp or m["time"]
            out.append((m["msg"], None))
        else:
            out.append((line, None))
    if partial:
        out.append((partial, None))
    return out


def _read_text(text: str, reading: _Reading) -> None:
    lines = [line[:4000] for line in text.splitlines()[:50_000]]
    for line, prefix_level in _unprefixed(lines, reading):
        if not line.strip():
            continue
        reading.lines.append(line)
        level = None
        folded = _fold(line)
        if m := _ALB_LINE.match(line):
            reading.format = "alb"
            reading.timestamp = reading.timestamp or m["time"]
            status = m["elb_status"]
            if status.startswith("5"):
                level = "error"
                request = m["request"]
                target = m["target_status"]
                reading.error_type = reading.error_type or f"HTTP {status}"
                reading.error_message = reading.error_message or (
                    f"The load balancer answered {status} to {request}"
                    + (f" (target answered {target})" if target != "-" else " (no target answer)")
                )
                reading.fields.setdefault("elb_status_code", int(status))
                reading.fields.setdefault("target_status_code", target)
                reading.fields.setdefault("target", m["target"])
            else:
                continue  # healthy traffic is not evidence
        elif m := _LAMBDA_LINE.match(line) or _LAMBDA_PY_LINE.match(line):
            level = _level(m["level"])
            reading.timestamp = reading.timestamp or m["time"]
            reading.fields.setdefault("aws_request_id", m["request"])
            payload = _json(m["msg"].split("\t", 1)[-1]) or _json(m["msg"])
            if isinstance(payload, dict):
                _read_object(payload, reading)
        else:
            level = _text_level(line, folded) or prefix_level
        reading.raise_level(level)
        if (level in _ERROR_LEVELS or _GATED_ERRORISH.search(line, folded)) and len(
            reading.error_lines
        ) < MAX_ERROR_LINES:
            reading.error_lines.append(line.strip()[:1000])
        if reading.timestamp is None and (t := _ISO_TIME.search(line)):
            reading.timestamp = t.group(0)
        if reading.commit is None and (c := _GATED_COMMIT.search(line, folded)):
            reading.commit = c.group(1).lower()
        if reading.version is None and (v := _GATED_VERSION.search(line, folded)):
            reading.version = v.group(1)
        if reading.error_type is None and (at := line.find("Task timed out after")) >= 0:
            reading.error_type = "LambdaTimeout"
            reading.error_message = reading.error_message or line[at:].strip()
    if reading.format == "text" and _LAMBDA_MARK.search(text):
        reading.format = "lambda"


def _text_level(line: str, folded: str | None = None) -> str | None:
    # The whole line's folding gates the search of its first 300 characters (``_fold``).
    m = _GATED_LEVEL.search(line[:300], _fold(line) if folded is None else folded)
    return _LEVEL_WORDS.get(m.group(1).lower()) if m else None


# --- the entry point ----------------------------------------------------------------------------


def parse_log(
    content: Any, *, source: str | None = None, metadata: dict[str, Any] | None = None
) -> ParsedLog:
    """Understand ``content`` (text or a JSON value). Never raises on any JSON-able input."""
    reading = _Reading(format="text")
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    if isinstance(content, str):
        content = content[:MAX_INPUT_CHARS].replace("\x00", "")
        decoded = _gunzip_b64(content) if len(content) > 20 and " " not in content[:200] else None
        structured = _json(decoded) if decoded else _json(content)
        if structured is not None:
            content = structured
        elif (objects := _json_lines(content)) is not None:
            _read_json_lines(objects, reading)
            content = None
        else:
            _read_text(content, reading)
            content = None
    if content is not None:
        _read_structured(content, reading)
    if metadata:
        _read_metadata(metadata, reading)
    reading.source = reading.source or source
    return _finish(reading)


def _read_structured(obj: Any, reading: _Reading) -> None:
    if (cw := _cloudwatch_events(obj)) is not None:
        envelope, events = cw
        reading.format = "cloudwatch_subscription"
        group = envelope.get("logGroup")
        reading.service = group if isinstance(group, str) else None
        for event in events[:10_000]:
            message = event.get("message") if isinstance(event, dict) else None
            if not isinstance(message, str):
                continue
            inner = _json(message)
            if isinstance(inner, dict):
                _read_object(inner, reading)
            else:
                _read_text(message, reading)
        if reading.format in ("text", "lambda", "syslog"):
            reading.format = "cloudwatch_subscription"
        return
    if isinstance(obj, dict) and obj.get("schemaId") == "azureMonitorCommonAlertSchema":
        reading.format = "azure_monitor_alert"
        _read_azure_alert(obj, reading)
        return
    reading.format = "json"
    if _looks_like_app_insights(obj):
        reading.format = "application_insights"
        _read_app_insights(obj, reading)
    elif (
        isinstance(obj, dict)
        and isinstance(obj.get("log"), str)
        and ("stream" in obj or "kubernetes" in obj)
    ):
        _read_json_lines([obj], reading)
        return
    _read_object(obj, reading)
    if reading.message:
        reading.raise_level(_text_level(reading.message))


def _app_insights_type(obj: dict[str, Any]) -> str | None:
    """The exception type of a telemetry record: ``type`` (exceptions table), ``ExceptionType``
    (AppExceptions), or the first of ``details``/``basicException``."""
    for key in ("type", "ExceptionType", "exceptionType"):
        if isinstance(obj.get(key), str):
            return str(obj[key])
    for key in ("details", "Details", "basicException"):
        items = obj.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            found = items[0].get("type") or items[0].get("exceptionType")
            if isinstance(found, str):
                return found
    return None


def _looks_like_app_insights(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    keys = {_key(k) for k in obj}
    return bool(keys & {"basicexception", "problemid", "outermessage", "innermostmessage"}) or (
        "exceptions" in keys and isinstance(obj.get("exceptions"), list)
    )


def _read_json_lines(objects: list[dict[str, Any]], reading: _Reading) -> None:
    """Container runtimes (``{"log", "stream", "time"}``), Kubernetes log shippers and
    structured loggers writing one JSON object a line."""
    reading.format = "json_lines"
    container_text: list[str] = []
    for obj in objects:
        log = obj.get("log")
        if isinstance(log, str) and ("stream" in obj or "kubernetes" in obj or "time" in obj):
            reading.format = "container"
            container_text.append(log.rstrip("\n"))
            if obj.get("stream") == "stderr":
                reading.fields.setdefault("stream", "stderr")
            kube = obj.get("kubernetes")
            if isinstance(kube, dict):
                labels = _dict(kube.get("labels"))
                name = labels.get("app") or labels.get("app.kubernetes.io/name")
                reading.service = reading.service or name or kube.get("container_name")
                for k in ("namespace_name", "pod_name", "container_name"):
                    if isinstance(kube.get(k), str):
                        reading.fields.setdefault(f"kubernetes.{k}", kube[k])
            reading.timestamp = reading.timestamp or obj.get("time")
            continue
        line_reading = _Reading("json")
        _read_object(obj, line_reading)
        reading.raise_level(line_reading.level)
        for name in _INHERITED:
            if getattr(reading, name) is None:
                setattr(reading, name, getattr(line_reading, name))
        if line_reading.level in _ERROR_LEVELS or line_reading.error_type or line_reading.traces:
            reading.message = reading.message or line_reading.message
            reading.traces.extend(line_reading.traces)
            reading.error_lines.append((line_reading.message or json.dumps(obj))[:1000])
        reading.lines.append(json.dumps(obj)[:4000])
    if container_text:
        text = "\n".join(container_text)
        inner = _Reading("text")
        _read_text(text, inner)
        reading.raise_level(inner.level)
        reading.error_lines.extend(inner.error_lines)
        reading.lines.extend(inner.lines)
        reading.traces.append(text)
        reading.timestamp = reading.timestamp or inner.timestamp


def _read_azure_alert(obj: dict[str, Any], reading: _Reading) -> None:
    data = _dict(obj.get("data"))
    essentials = _dict(data.get("essentials"))
    severity = str(essentials.get("severity", ""))
    reading.level = {"Sev0": "critical", "Sev1": "error", "Sev2": "warning"}.get(severity, "info")
    reading.timestamp = essentials.get("firedDateTime")
    rule = essentials.get("alertRule")
    reading.message = essentials.get("description") or rule
    targets = essentials.get("configurationItems") or essentials.get("alertTargetIDs") or []
    if isinstance(targets, list) and targets:
        reading.service = str(targets[0]).rsplit("/", 1)[-1]
    reading.fields.update(
        {
            k: essentials[k]
            for k in (
                "alertRule",
                "severity",
                "signalType",
                "monitorCondition",
                "monitoringService",
            )
            if isinstance(essentials.get(k), str)
        }
    )
    context = data.get("alertContext")
    # Log search alerts may carry result tables; each row becomes a line of evidence.
    rows = 0
    for _, value in _walk(context):
        if isinstance(value, dict) and isinstance(value.get("rows"), list):
            rows += len(value["rows"])
            for row in result_rows(value, limit=200):
                _read_result_row(row, reading)
    if context is not None:
        _read_object(context, reading)
    if not rows and essentials.get("signalType") == "Log":
        # The newer log search alerts (and any over 256 KB) carry the query and links to its
        # results, not the rows: nothing of the error itself is in the payload.
        links = [
            v
            for k, v in _walk(context)
            if k and _key(k[-1]).startswith("linkto") and isinstance(v, str)
        ]
        reading.fields["alert_results"] = "not included"
        if links:
            reading.fields.setdefault("alert_results_link", links[0][:500])
    if reading.message and not reading.error_lines:
        reading.error_lines.append(str(reading.message)[:1000])


def result_rows(table: Any, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The rows of a log query's result table (``columns`` + ``rows``: a log search alert's
    ``SearchResults``, a Log Analytics export, the Application Insights query API), each as a
    dict by column name. Dynamic columns arrive as JSON text and are decoded."""
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        return []
    columns = [
        str(c.get("name") or f"column{i}") if isinstance(c, dict) else f"column{i}"
        for i, c in enumerate(table.get("columns") or [])
    ]
    return [
        {
            key: (_json(value) if isinstance(value, str) and value[:1] in "[{" else None) or value
            for key, value in zip(columns, raw, strict=False)
        }
        for raw in table["rows"][:limit]
        if isinstance(raw, list)
    ]


def _read_app_insights(obj: dict[str, Any], reading: _Reading) -> None:
    """An Application Insights exception's frames and type; the first one read wins."""
    if not reading.frames:
        reading.frames.extend(_app_insights_frames(obj))
    reading.error_type = reading.error_type or _app_insights_type(obj)


def _read_result_row(decoded: dict[str, Any], reading: _Reading) -> None:
    """One row of a result table (``result_rows``). A row of the ``exceptions`` table carries
    its stack in ``details`` (``parsedStack`` frames, or ``rawStack`` text)."""
    if _looks_like_app_insights(decoded):
        _read_app_insights(decoded, reading)
        message = decoded.get("outerMessage") or decoded.get("message")
        if isinstance(message, str) and message:
            reading.error_message = reading.error_message or message
            reading.error_lines.append(f"{reading.error_type or 'Exception'}: {message}"[:1000])
    _read_object(decoded, reading)


_INHERITED = ("service", "timestamp", "error_type", "error_message", "commit", "version", "release")


def _read_metadata(metadata: dict[str, Any], reading: _Reading) -> None:
    extra = _Reading("json")
    _read_object(metadata, extra)
    for name in ("service", "commit", "version", "release"):
        if getattr(reading, name) is None:
            setattr(reading, name, getattr(extra, name))


def _finish(reading: _Reading) -> ParsedLog:
    trace_lines: list[str] = []
    for text in reading.traces:
        trace_lines.extend(text.splitlines())
        if reading.format not in ("text", "syslog", "lambda", "alb"):
            inner = _Reading("text")
            _read_text(text, inner)
            reading.raise_level(inner.level)
            reading.error_lines.extend(
                line for line in inner.error_lines if line not in reading.error_lines
            )
            reading.lines.extend(inner.lines)
            reading.commit = reading.commit or inner.commit
            reading.timestamp = reading.timestamp or inner.timestamp
            reading.error_type = reading.error_type or inner.error_type
            reading.error_message = reading.error_message or inner.error_message
    in_traces = set(trace_lines)
    trace = extract_trace(trace_lines + [line for line in reading.lines if line not in in_traces])
    frames = reading.frames or trace.frames
    exceptions = trace.exceptions
    language = trace.language or (frames[0].language if frames else None)
    surfaced: ExceptionInfo | None = None
    if exceptions:
        surfaced = exceptions[-1] if language == "python" else exceptions[0]
    error_type = reading.error_type or (surfaced.type if surfaced else None)
    error_message = reading.error_message or (surfaced.message if surfaced else None)
    if error_type and not exceptions:
        exceptions = [ExceptionInfo(type=error_type, message=error_message)]
    if reading.level is None and (error_type or frames):
        reading.level = "error"
    text = "\n".join(reading.lines)[:MAX_TEXT_CHARS]
    error_lines = reading.error_lines[:MAX_ERROR_LINES]
    if not error_lines and reading.message and reading.level in _ERROR_LEVELS:
        error_lines = [reading.message[:1000]]
    return ParsedLog(
        format=reading.format,
        level=reading.level,
        service=reading.service or reading.source,
        timestamp=reading.timestamp,
        message=(reading.message or (error_lines[0] if error_lines else None)),
        error_type=error_type,
        error_message=error_message,
        error_lines=error_lines,
        exceptions=exceptions,
        frames=frames,
        language=language,
        release=reading.release,
        commit=reading.commit,
        version=reading.version,
        fields=dict(list(reading.fields.items())[:MAX_FIELDS]),
        text=text,
    )
