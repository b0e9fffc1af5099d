"""From a submitted log to a report. Deterministic: parse, classify, fingerprint.

Repository context (mapping frames to files, code at the deployed commit, suspect commits) and
the model diagnosers join here in later steps; the report already has their places.
"""

from __future__ import annotations

import time
from typing import Any

from app.analysis.classify import classify
from app.analysis.fingerprint import fingerprint
from app.analysis.logs import parse_log
from app.analysis.models import ParsedLog
from app.analysis.report import CommitRef, DiagnoserInfo, DiagnosisReport

TITLE_LIMIT = 160


def _title(parsed: ParsedLog) -> str:
    kind = parsed.error_type or (parsed.level or "Log").capitalize()
    message = parsed.error_message or parsed.message or (parsed.error_lines[:1] or [""])[0]
    title = f"{kind}: {message}" if message else kind
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def diagnose_log(log_data: dict[str, Any]) -> DiagnosisReport:
    """Diagnose the ``log_data`` object of a diagnose request (as stored on the report)."""
    started = time.perf_counter()
    content = log_data.get("content", "")
    metadata = log_data.get("metadata")
    parsed = parse_log(
        content,
        source=log_data.get("source"),
        metadata=metadata if isinstance(metadata, dict) else None,
    )
    parsed_ms = (time.perf_counter() - started) * 1000
    verdict = classify(parsed)
    culprit = parsed.culprit
    where = f" at {culprit.file}:{culprit.line}" if culprit is not None and culprit.line else ""
    frames_note = (
        f"{len(parsed.frames)} stack frame(s) extracted, "
        f"{sum(f.in_app for f in parsed.frames)} of them in the application's own code."
        if parsed.frames
        else "The log carries no stack trace."
    )
    report = DiagnosisReport(
        title=_title(parsed),
        error_type=parsed.error_type,
        summary=(
            f"{parsed.error_type or 'An error'}{where}"
            f"{' in ' + parsed.service if parsed.service else ''}: "
            f"{parsed.error_message or parsed.message or 'see the error lines of the log'}"
        ),
        root_cause=verdict.root_cause,
        error_analysis=" ".join(
            [f"Log format: {parsed.format}.", frames_note, *verdict.evidence]
        ).strip(),
        recommendations=verdict.recommendations,
        confidence_score=verdict.confidence,
        category=verdict.category,
        log=parsed,
        frames=parsed.frames,
        culprit=culprit,
        fingerprint=fingerprint(parsed),
        commit=CommitRef(sha=parsed.commit, source="log") if parsed.commit else None,
        diagnoser=DiagnoserInfo(name="heuristic"),
        limitations=[
            "No repository is connected, so frames were not mapped to files and no code or "
            "suspect commits were read."
        ],
    )
    report.timings_ms = {
        "parse": round(parsed_ms, 3),
        "total": round((time.perf_counter() - started) * 1000, 3),
    }
    return report
