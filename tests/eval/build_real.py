"""The evaluation set from real program output.

Each scenario in ``tests/eval/real/<name>/`` is a small project (``repo/``, as it stands at its
newest commit) and a ``case.json`` naming its language, the culprit line (the line a developer
would change) and what that line said before the commit that broke it. For each scenario this
script:

1. builds a git repository with a fixed history: the initial version (the culprit line as it
   was before), the commit that wrote the culprit line (the expected suspect), a newer commit
   that inserts a line at the top of one file (so line numbers move after the suspect commit)
   and a newer one elsewhere;
2. copies a part of the newest commit to a deployment directory laid out unlike the repository
   (``deploy.to``), builds it there with the language's own toolchain (javac, gcc/g++ with
   AddressSanitizer, cargo, go) and runs it until it crashes, keeping its real stdout and
   stderr — nothing in a log is written by hand;
3. wraps that output in the envelopes log platforms deliver it in (``ENVELOPES``), each
   scenario in three of them.

Everything is built once into the user's cache directory, keyed by a hash of the sources and
this script; a later call reads the manifest. Scenarios whose toolchain is missing are left
out, and say so.

    .venv/bin/python tests/eval/build_real.py         # build (or reuse) and list the cases
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "real"
# Bumped when the layout of the manifest changes.
FORMAT = 1


def _anchor() -> datetime:
    """The first day of this month: the history's dates are fixed within a month (the cache
    key carries it) and stay recent enough for the engine's one-year suspect window."""
    today = datetime.now(UTC)
    return datetime(today.year, today.month, 1, tzinfo=UTC)


# The history every scenario gets, at fixed offsets before the anchor.
ANCHOR = _anchor()
INITIAL = ANCHOR - timedelta(days=300, hours=14, minutes=30)
SUSPECT = ANCHOR - timedelta(days=76, hours=10)
TIDY = ANCHOR - timedelta(days=41, hours=13)
ELSEWHERE = ANCHOR - timedelta(days=28, hours=7, minutes=15)
# When the crash was logged (the envelopes' timestamps).
CRASHED = ANCHOR - timedelta(days=10, hours=4, minutes=15, seconds=52)

# Envelopes each language's crash can arrive in. Application Insights exceptions come from its
# SDKs (Python, Node.js, Java); native crashes do not reach it.
ENVELOPES = ("plain", "jsonl", "cloudwatch", "kubernetes", "syslog", "appinsights")
_NATIVE_ENVELOPES = ("plain", "jsonl", "cloudwatch", "kubernetes", "syslog")
PER_SCENARIO = 3

COMMENT = {
    "python": "#",
    "javascript": "//",
    "java": "//",
    "c": "//",
    "cpp": "//",
    "rust": "//",
    "go": "//",
}
TOOLS = {
    "python": (sys.executable,),
    "javascript": ("node",),
    "java": ("javac", "java"),
    "c": ("gcc",),
    "cpp": ("g++",),
    "rust": ("cargo",),
    "go": ("go",),
}


@dataclass(frozen=True)
class RealCase:
    name: str  # <scenario>-<envelope>
    scenario: str
    language: str
    envelope: str
    repo: str  # the repository's path
    log: str | dict[str, Any]
    expected_file: str
    expected_line: int
    expected_suspect: str  # the message of the commit that wrote the culprit line
    crash_file: str  # where the program actually crashed (may be a helper or vendored code)


class BuildError(Exception):
    pass


# --- the cache ------------------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("LOGDAWG_EVAL_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "logdawg" / "eval"


def sources_key() -> str:
    digest = hashlib.sha256(f"format {FORMAT} anchor {ANCHOR.date()}\n".encode())
    digest.update(Path(__file__).read_bytes())
    for path in sorted(SOURCES.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(SOURCES)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def real_cases(root: Path | None = None) -> list[RealCase]:
    """The cases, built on first use (a few seconds per compiled scenario) and cached."""
    base = (root or cache_root()) / sources_key()
    manifest = base / "manifest.json"
    if manifest.exists():
        return [RealCase(**c) for c in json.loads(manifest.read_text())["cases"]]
    base.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the final directory and renamed into place: concurrent builders never see
    # half a set, and the loser of a race just drops its copy.
    work = Path(tempfile.mkdtemp(prefix="build-", dir=base.parent))
    try:
        cases, skipped = _build_all(work, base)
        (work / "manifest.json").write_text(
            json.dumps({"cases": [asdict(c) for c in cases], "skipped": skipped}, indent=1)
        )
        try:
            work.rename(base)
        except OSError:
            if not manifest.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Sets of earlier sources or months, untouched for a day, are not needed any more.
    for old in base.parent.iterdir():
        if old != base and old.is_dir() and old.stat().st_mtime < time.time() - 86_400:
            shutil.rmtree(old, ignore_errors=True)
    return [RealCase(**c) for c in json.loads(manifest.read_text())["cases"]]


def _build_all(work: Path, final: Path) -> tuple[list[RealCase], list[str]]:
    cases: list[RealCase] = []
    skipped: list[str] = []
    per_language: dict[str, int] = {}
    for spec_path in sorted(SOURCES.glob("*/case.json")):
        scenario = spec_path.parent.name
        spec = json.loads(spec_path.read_text())
        language = spec["language"]
        if not all(shutil.which(tool) for tool in TOOLS[language]):
            skipped.append(f"{scenario}: no {' or '.join(TOOLS[language])} on this machine")
            continue
        repo = _build_repository(spec_path.parent, spec, work / "repos" / scenario)
        deploy = work / "deploy" / scenario / spec["deploy"]["to"]
        _export(repo, spec["deploy"]["from"], deploy)
        output = _run(language, spec, deploy, work / "toolcache")
        expected_line = _line_of(repo / spec["culprit"]["file"], spec["culprit"]["line"])
        index = per_language.get(language, 0)
        per_language[language] = index + 1
        allowed = ENVELOPES if language in ("python", "javascript", "java") else _NATIVE_ENVELOPES
        for k in range(PER_SCENARIO):
            envelope = allowed[(index * PER_SCENARIO + k) % len(allowed)]
            cases.append(
                RealCase(
                    name=f"{scenario}-{envelope}",
                    scenario=scenario,
                    language=language,
                    envelope=envelope,
                    repo=str(final / "repos" / scenario),
                    log=wrap(envelope, output, spec, language),
                    expected_file=spec["culprit"]["file"],
                    expected_line=expected_line,
                    expected_suspect=spec["message"],
                    crash_file=spec.get("crash_file", spec["culprit"]["file"]),
                )
            )
    return cases, skipped


# --- repositories ---------------------------------------------------------------------------


def _git(repo: Path, *args: str, when: datetime, author: str = "Ada Dev") -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    email = author.split()[0].lower() + "@example.com"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    found = [n for n, line in enumerate(lines, 1) if line == text]
    if len(found) != 1:
        raise BuildError(f"{path}: the culprit line occurs {len(found)} times: {text!r}")
    return found[0]


def _build_repository(scenario: Path, spec: dict[str, Any], repo: Path) -> Path:
    shutil.copytree(scenario / "repo", repo)
    culprit = repo / spec["culprit"]["file"]
    final = culprit.read_text()
    line = spec["culprit"]["line"] + "\n"
    if final.count(line) != 1:
        raise BuildError(f"{scenario.name}: the culprit line is not once in {culprit}")
    culprit.write_text(final.replace(line, spec["culprit"]["before"] + "\n"))
    _git(repo, "init", "-q", "-b", "main", when=INITIAL)
    _git(repo, "add", "-A", when=INITIAL)
    _git(repo, "commit", "-q", "-m", "Initial version", when=INITIAL)
    culprit.write_text(final)
    _git(repo, "commit", "-q", "-am", spec["message"], when=SUSPECT, author="Grace Ops")
    # A newer commit moves every line of one file down (the culprit's, in most scenarios):
    # the suspect must be found by the line as it was, not by today's numbering.
    tidy = repo / spec["tidy"]
    mark = COMMENT[spec["language"]]
    tidy.write_text(f"{mark} Reviewed for the November release.\n" + tidy.read_text())
    _git(repo, "commit", "-q", "-am", f"Note the review in {tidy.name}", when=TIDY)
    readme = repo / "README.md"
    readme.write_text(f"# {spec['service']}\n\nOwned by the platform team.\n")
    _git(repo, "add", "README.md", when=ELSEWHERE)
    _git(repo, "commit", "-q", "-m", "Describe the service", when=ELSEWHERE, author="Lin Docs")
    return repo


def _export(repo: Path, subdir: str, target: Path) -> None:
    source = repo / subdir if subdir else repo
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))


# --- building and running -------------------------------------------------------------------


def _run(language: str, spec: dict[str, Any], deploy: Path, tools: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NODE_"))}
    env["LC_ALL"] = "C.UTF-8"
    build: list[list[str]] = []
    if language == "python":
        run = [sys.executable, "-B", spec["entry"]]
    elif language == "javascript":
        run = ["node", spec["entry"]]
    elif language == "java":
        java_files = sorted(str(p) for p in deploy.rglob("*.java"))
        build.append(["javac", "-g", "-d", str(deploy / "classes"), *java_files])
        run = ["java", "-cp", str(deploy / "classes"), spec["main"]]
    elif language in ("c", "cpp"):
        compiler = "gcc" if language == "c" else "g++"
        includes = [f"-I{deploy / i}" for i in spec.get("include", [])]
        # Absolute source paths, as build systems pass them: the report shows the build host's
        # directory, not the repository's layout.
        files = [str(deploy / s) for s in spec["sources"]]
        flags = ["-g", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer"]
        build.append([compiler, *flags, *includes, "-o", str(deploy / "crashing-binary"), *files])
        run = [str(deploy / "crashing-binary")]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    elif language == "rust":
        env["CARGO_TARGET_DIR"] = str(deploy / "target")
        env["CARGO_TERM_COLOR"] = "never"
        build.append(["cargo", "build", "--offline", "--quiet"])
        run = [str(deploy / "target" / "debug" / spec["bin"])]
        env["RUST_BACKTRACE"] = "1"
    elif language == "go":
        env.update(GOCACHE=str(tools / "go-build"), GOPROXY="off", GOFLAGS="-mod=mod")
        env["GOPATH"] = str(tools / "gopath")
        build.append(["go", "build", "-o", str(deploy / "crashing-binary"), spec["package"]])
        run = [str(deploy / "crashing-binary")]
    else:
        raise BuildError(f"no way to run {language}")
    for command in build:
        done = subprocess.run(command, cwd=deploy, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"{' '.join(command)} failed:\n{done.stderr}")
    done = subprocess.run(run, cwd=deploy, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode == 0 or not done.stderr.strip():
        raise BuildError(f"{deploy}: the program did not crash (exit {done.returncode})")
    culprit_name = Path(spec["culprit"]["file"]).name
    if culprit_name not in done.stderr:
        raise BuildError(
            f"{deploy}: the crash does not pass through {culprit_name}:\n{done.stderr}"
        )
    return {"stdout": done.stdout, "stderr": done.stderr, "returncode": done.returncode}


# --- envelopes ------------------------------------------------------------------------------


def _lines(output: dict[str, Any]) -> list[tuple[str, str]]:
    """(stream, line) pairs: what the program printed, stdout first (it ran before the crash)."""
    pairs = [("stdout", line) for line in output["stdout"].splitlines()]
    return pairs + [("stderr", line) for line in output["stderr"].splitlines()]


def _stamp(n: int) -> datetime:
    return CRASHED + timedelta(microseconds=n * 37)


def wrap(envelope: str, output: dict[str, Any], spec: dict[str, Any], language: str) -> Any:
    lines = _lines(output)
    service = spec["service"]
    if envelope == "plain":
        return "\n".join(line for _, line in lines) + "\n"
    if envelope == "jsonl":
        # Docker's json-file logging driver: one object per line written by the container.
        return "".join(
            json.dumps(
                {
                    "log": line + "\n",
                    "stream": stream,
                    "time": _stamp(n).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            )
            + "\n"
            for n, (stream, line) in enumerate(lines)
        )
    if envelope == "kubernetes":
        # The CRI log format under /var/log/pods: RFC 3339 time, stream, F(ull)/P(artial), line.
        return "".join(
            f"{_stamp(n).strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {stream} F {line}\n"
            for n, (stream, line) in enumerate(lines)
        )
    if envelope == "syslog":
        # journalctl's short format (as syslog writes it): every line its own record.
        return "".join(
            f"{_stamp(n).strftime('%b %d %H:%M:%S')} ip-10-0-3-17 {service}[4121]: {line}\n"
            for n, (_, line) in enumerate(lines)
        )
    if envelope == "cloudwatch":
        # A CloudWatch Logs subscription delivered to Lambda: {"awslogs": {"data": base64 of
        # gzip of the DATA_MESSAGE}}; the awslogs driver ships each line as its own event.
        message = {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": f"/ecs/{service}",
            "logStream": f"ecs/{service}/4f0c9a2b7d1e4c3a",
            "subscriptionFilters": ["errors-to-logdawg"],
            "logEvents": [
                {
                    "id": str(38_000_000_000_000_000_000_000_000_000_000_000 + n),
                    "timestamp": int(_stamp(n).timestamp() * 1000),
                    "message": line,
                }
                for n, (_, line) in enumerate(lines)
            ],
        }
        data = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
        return {"awslogs": {"data": data}}
    if envelope == "appinsights":
        return _log_search_alert(output["stderr"], spec, language)
    raise BuildError(f"unknown envelope {envelope}")


_EXCEPTIONS_COLUMNS = (
    ("timestamp", "datetime"),
    ("problemId", "string"),
    ("handledAt", "string"),
    ("type", "string"),
    ("message", "string"),
    ("assembly", "string"),
    ("method", "string"),
    ("outerType", "string"),
    ("outerMessage", "string"),
    ("outerAssembly", "string"),
    ("outerMethod", "string"),
    ("innermostType", "string"),
    ("innermostMessage", "string"),
    ("severityLevel", "int"),
    ("details", "dynamic"),
    ("itemType", "string"),
    ("customDimensions", "dynamic"),
    ("operation_Name", "string"),
    ("operation_Id", "string"),
    ("cloud_RoleName", "string"),
    ("cloud_RoleInstance", "string"),
    ("appName", "string"),
    ("itemId", "string"),
    ("itemCount", "int"),
)

_JAVA_AT = re.compile(r"^\s*at ([\w$.<>]+)\.([\w$<>]+)\(([^:()]+)(?::(\d+))?\)")
_NODE_AT = re.compile(r"^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$")
_HEAD = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?([\w$.]*(?:Error|Exception)\w*):\s?(.*)$")


def _exception_head(trace: str) -> tuple[str, str]:
    """(type, message) of the outermost exception, as an SDK reports it."""
    lines = trace.splitlines()
    ordered = reversed(lines) if "Traceback (most recent call last)" in trace else lines
    for line in ordered:
        found = _HEAD.match(line.strip())
        if found:
            return found.group(1), found.group(2)
    return "Error", lines[0] if lines else ""


def _parsed_stack(trace: str, language: str) -> list[dict[str, Any]]:
    """The ``parsedStack`` the Java and Node.js SDKs send: one entry per frame of the
    outermost exception, innermost first."""
    frames: list[dict[str, Any]] = []
    for line in trace.splitlines():
        if line.lstrip().startswith(("Caused by:", "[cause]")):
            break
        if language == "java" and (java := _JAVA_AT.match(line)):
            frames.append(
                {
                    "level": len(frames),
                    "method": f"{java.group(1)}.{java.group(2)}",
                    "assembly": java.group(1).rsplit(".", 1)[0],
                    "fileName": java.group(3),
                    "line": int(java.group(4) or 0),
                }
            )
        elif language == "javascript" and (node := _NODE_AT.match(line)):
            frames.append(
                {
                    "level": len(frames),
                    "method": node.group(1) or "<anonymous>",
                    "assembly": line.strip(),
                    "fileName": node.group(2),
                    "line": int(node.group(3)),
                }
            )
    return frames


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _log_search_alert(trace: str, spec: dict[str, Any], language: str) -> dict[str, Any]:
    """An Azure Monitor log search alert (common alert schema, Log Alerts V1 context) whose
    query returned one row of Application Insights' ``exceptions`` table."""
    type_, message = _exception_head(trace)
    parsed = _parsed_stack(trace, language)
    detail: dict[str, Any] = {
        "id": "59148384",
        "outerId": "0",
        "type": type_,
        "message": message,
        "severityLevel": "Error",
    }
    if parsed:
        detail["parsedStack"] = parsed
        detail["hasFullStack"] = True
    else:
        detail["rawStack"] = trace
    top = parsed[0] if parsed else {"method": "", "assembly": ""}
    problem = f"{type_} at {top['method']}" if top["method"] else type_
    stamp = CRASHED.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values: dict[str, Any] = {
        "timestamp": stamp,
        "problemId": problem,
        "handledAt": "Unhandled",
        "type": type_,
        "message": message,
        "assembly": top["assembly"],
        "method": top["method"],
        "outerType": type_,
        "outerMessage": message,
        "outerAssembly": top["assembly"],
        "outerMethod": top["method"],
        "innermostType": type_,
        "innermostMessage": message,
        "severityLevel": 3,
        # Dynamic columns arrive as JSON text in search results.
        "details": json.dumps([detail]),
        "itemType": "exception",
        "customDimensions": json.dumps({"service": spec["service"]}),
        "operation_Name": f"POST /{spec['service']}",
        "operation_Id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "cloud_RoleName": spec["service"],
        "cloud_RoleInstance": f"{spec['service']}-7d9f8c6b5-x2kqp",
        "appName": "logdawg-demo-appi",
        "itemId": "6f1c2a7e-9b4d-11ef-8e2a-000d3a2b5c91",
        "itemCount": 1,
    }
    query = "exceptions | where timestamp > ago(5m) | where handledAt == 'Unhandled'"
    app = (
        "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/shop-prod"
        "/providers/microsoft.insights/components/logdawg-demo-appi"
    )
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": "/subscriptions/11111111-2222-3333-4444-555555555555/providers"
                "/Microsoft.AlertsManagement/alerts/0d6a7f2e-3c1b-4f0e-9a8d-5e4c3b2a1f00",
                "alertRule": f"{spec['service']}-unhandled-exceptions",
                "severity": "Sev1",
                "signalType": "Log",
                "monitorCondition": "Fired",
                "monitoringService": "Application Insights",
                "alertTargetIDs": [app.lower()],
                "configurationItems": ["logdawg-demo-appi"],
                "originAlertId": "7c2e9d41-0b5a-4f6e-8d3c-2a1b0c9d8e7f",
                "firedDateTime": _iso(CRASHED + timedelta(seconds=54)),
                "description": "Unhandled exceptions in production",
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.1",
            },
            "alertContext": {
                "SearchQuery": query,
                "SearchIntervalStartTimeUtc": _iso(CRASHED - timedelta(minutes=4)),
                "SearchIntervalEndtimeUtc": _iso(CRASHED + timedelta(minutes=1)),
                "ResultCount": 1,
                "LinkToSearchResults": "https://portal.azure.com#@/blade/Microsoft_OperationsManagementSuite_Workspace/AnalyticsBlade",
                "SeverityDescription": "Critical",
                "WorkspaceId": "12345a1b-1234-1234-1234-123456789abc",
                "SearchIntervalDurationMin": "5",
                "AffectedConfigurationItems": ["logdawg-demo-appi"],
                "SearchIntervalInMinutes": "5",
                "Threshold": 0,
                "Operator": "Greater Than",
                "SearchResults": {
                    "tables": [
                        {
                            "name": "PrimaryResult",
                            "columns": [{"name": n, "type": t} for n, t in _EXCEPTIONS_COLUMNS],
                            "rows": [[values[n] for n, _ in _EXCEPTIONS_COLUMNS]],
                        }
                    ],
                    "dataSources": [{"resourceId": app, "tables": ["exceptions"]}],
                },
                "IncludedSearchResults": "True",
                "AlertType": "Number of results",
            },
        },
    }


def main() -> None:
    cases = real_cases()
    by: dict[str, int] = {}
    for case in cases:
        by[case.language] = by.get(case.language, 0) + 1
    print(f"{len(cases)} cases in {cache_root() / sources_key()}")
    print(", ".join(f"{language} {n}" for language, n in sorted(by.items())))
    manifest = json.loads((cache_root() / sources_key() / "manifest.json").read_text())
    for line in manifest["skipped"]:
        print("skipped:", line)


if __name__ == "__main__":
    main()
