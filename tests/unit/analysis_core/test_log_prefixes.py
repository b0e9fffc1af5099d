"""Traces whose every line carries its log platform's prefix, and Application Insights rows in
log search alerts. The trace is real: a small program run here to crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.analysis.logs import parse_log

PROGRAM = """\
def parse(raw):
    return int(raw)


def handler(event):
    return parse(event.get("count"))


handler({})
"""


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> str:
    app = tmp_path_factory.mktemp("srv") / "app"
    app.mkdir()
    (app / "handler.py").write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, "-B", "handler.py"], cwd=app, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    return done.stderr


def _frames(text: str | dict[str, object]) -> list[tuple[str, int | None]]:
    parsed = parse_log(text)
    assert parsed.error_type == "TypeError"
    return [(Path(f.file or "").name, f.line) for f in parsed.frames if f.in_app]


EXPECTED = [("handler.py", 9), ("handler.py", 6), ("handler.py", 2)]


def test_cri_lines_with_a_partial_line_are_joined_and_read(trace: str) -> None:
    lines = trace.splitlines()
    out = []
    for n, line in enumerate(lines):
        stamp = f"2026-11-20T19:44:08.{n:09d}Z stderr"
        if n == 2:  # the runtime split a long line: a partial, then the rest
            out += [f"{stamp} P {line[:10]}", f"{stamp} F {line[10:]}"]
        else:
            out.append(f"{stamp} F {line}")
    parsed = parse_log("\n".join(out))
    assert parsed.format == "cri"
    assert _frames("\n".join(out)) == EXPECTED


@pytest.mark.parametrize(
    "prefix",
    [
        "Nov 20 19:44:08 ip-10-0-3-17 billing[4121]: ",
        "2026-11-20T19:44:08+0000 ip-10-0-3-17 billing[4121]: ",
        "<11>1 2026-11-20T19:44:08.123Z ip-10-0-3-17 billing 4121 - - ",
        "2026-11-20T19:44:08.123456789Z ",
    ],
)
def test_syslog_journald_and_docker_prefixes_are_stripped(trace: str, prefix: str) -> None:
    text = "\n".join(prefix + line for line in trace.splitlines())
    assert _frames(text) == EXPECTED


def test_an_alert_with_an_exceptions_result_row(trace: str) -> None:
    details = [{"type": "TypeError", "message": "int() argument", "rawStack": trace}]
    alert = {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {"alertRule": "errors", "severity": "Sev1", "signalType": "Log"},
            "alertContext": {
                "SearchResults": {
                    "tables": [
                        {
                            "name": "PrimaryResult",
                            "columns": [
                                {"name": "problemId", "type": "string"},
                                {"name": "outerMessage", "type": "string"},
                                {"name": "type", "type": "string"},
                                {"name": "details", "type": "dynamic"},
                            ],
                            "rows": [
                                ["TypeError at handler", "int() argument", "TypeError",
                                 json.dumps(details)],
                            ],
                        }
                    ]
                }
            },
        },
    }  # fmt: skip
    parsed = parse_log(alert)
    assert parsed.format == "azure_monitor_alert"
    assert parsed.error_message == "int() argument"
    assert _frames(alert) == EXPECTED


async def test_a_log_search_alert_with_links_only_says_what_is_missing() -> None:
    from app.analysis.engine import diagnose

    link = "https://api.loganalytics.io/v1/workspaces/ws/query?query=exceptions"
    alert = {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertRule": "unhandled-exceptions",
                "severity": "Sev1",
                "signalType": "Log",
                "monitoringService": "Log Alerts V2",
                "monitorCondition": "Fired",
            },
            "alertContext": {
                "properties": {},
                "conditionType": "LogQueryCriteria",
                "condition": {
                    "windowSize": "PT5M",
                    "allOf": [
                        {
                            "searchQuery": "exceptions | where handledAt == 'Unhandled'",
                            "operator": "GreaterThan",
                            "threshold": "0",
                            "timeAggregation": "Count",
                            "metricValue": 3.0,
                            "linkToSearchResultsAPI": link,
                            "linkToFilteredSearchResultsAPI": link + "&filtered=1",
                        }
                    ],
                },
            },
        },
    }
    parsed = parse_log(alert)
    assert parsed.fields["alert_results"] == "not included"
    assert parsed.fields["alert_results_link"].startswith("https://api.loganalytics.io/")
    report = (await diagnose({"content": alert})).report
    assert any("not the result rows" in item for item in report.limitations)
