"""The heuristic diagnosis: what kind of error this is, and why it most likely happened.

Deterministic and offline. Each category has patterns for the exception type and for the
text (message and error lines). Categories are either *causes* (a missing file, a refused
connection, a null dereference) or *symptoms* (a failed compilation, an upstream 5xx, an
assertion): a log often shows both, cause first ("Failed to open shader file" then
"Shader compilation failed"), and the cause is what a developer needs. Among the categories
that match, a cause beats a symptom; then evidence in the exception type beats the message,
which beats the error lines; then the earliest error line wins.

The confidence is calibrated on the evaluation set: it rises with the strength of the
evidence and with a culprit frame (and code) to pin the explanation on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.analysis.models import Classification, ParsedLog, StackFrame
from app.analysis.report import Snippet


@dataclass(frozen=True)
class Category:
    name: str
    cause: bool
    type_pattern: re.Pattern[str] | None
    text_pattern: re.Pattern[str]
    explanation: str
    recommendations: tuple[str, ...]


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "database error",
        True,
        _re(
            r"OperationalError|IntegrityError|ProgrammingError|SQLException|PSQLException"
            r"|QueryFailedError|DbUpdateException|SqlException|PG::|Mysql2::Error|DataError"
        ),
        _re(
            r"duplicate key|deadlock detected|relation \S+ does not exist|no such table"
            r"|violates (?:foreign key|unique|not-null|check) constraint|could not serialize"
            r"|too many (?:connections|clients)|SQLSTATE|column \S+ does not exist"
        ),
        "A database statement failed{where}: {evidence}. The query, the schema it expects and "
        "the data or migrations in this environment disagree.",
        (
            "Compare the failing statement with the schema actually deployed (are all migrations "
            "applied?).",
            "Check constraints and the data that violated them; add validation before the write.",
            "For deadlocks or serialization failures, retry the transaction and keep lock order "
            "consistent.",
        ),
    ),
    Category(
        "missing file",
        True,
        _re(r"FileNotFound|NoSuchFile|ENOENT"),
        _re(
            r"No such file or directory|ENOENT|(?:failed|unable|could not|cannot|can't) to? ?"
            r"(?:open|read|load|find|stat) (?:\w+ ){0,3}(?:file|directory|path)"
            r"|file not found|missing (?:or \w+ )?file|file (?:\S+ )?does not exist"
        ),
        "The program could not open a file it needs{where}: {evidence}. The file is missing "
        "from the deployment, or the path it is opened with is wrong (relative to an "
        "unexpected working directory, or misspelled).",
        (
            "Check that the file is part of the build or image and deployed to the path the code "
            "opens.",
            "Resolve the path relative to the application (not the current working directory), "
            "and log the absolute path tried.",
            "Fail with a clear message naming the missing file before any later step depends on "
            "it.",
        ),
    ),
    Category(
        "null dereference",
        True,
        _re(r"NullPointer|NullReference|NoneType"),
        _re(
            r"'NoneType' object|Cannot read propert(?:y|ies) of (?:undefined|null)"
            r"|undefined is not an object|null is not an object|nil pointer dereference"
            r"|invalid memory address|null pointer|SIGSEGV|segmentation (?:fault|violation)"
            r"|unwrap\(\)` on an? `None`|on a `None` value|undefined method .* for nil"
            r"|Object reference not set to an instance"
        ),
        "A value was null (None, nil, undefined) where the code used it{where}: {evidence}. "
        "Something upstream returned nothing (a lookup that found no row, an unset field, an "
        "uninitialised pointer) and the code did not check for it.",
        (
            "Find where the value comes from and decide what an absent value means there.",
            "Check for null/None before use, or make the type non-optional and fail early with "
            "a clear message.",
            "Add a test for the empty/missing case that produced this error.",
        ),
    ),
    Category(
        "key or index error",
        True,
        _re(
            r"KeyError|IndexError|IndexOutOfRange|ArrayIndexOutOfBounds|KeyNotFound"
            r"|NoSuchElement|StringIndexOutOfBounds"
        ),
        _re(
            r"index out of range|out of bounds|list index|key not found|undefined index"
            r"|undefined (?:array )?key|no such key|index \d+ out of"
        ),
        "The code looked up a key or index that is not there{where}: {evidence}. The data has "
        "a different shape than the code assumes (a missing field, an empty list, an "
        "off-by-one).",
        (
            "Check the input that reached this line: which key or index was missing and why.",
            "Use a lookup with a default (or bounds check) where absence is legitimate, or "
            "validate the input at the boundary.",
            "Add a test with the input that produced this error.",
        ),
    ),
    Category(
        "type error",
        True,
        _re(r"TypeError|ClassCastException|InvalidCastException|RuntimeBinderException"),
        _re(
            r"is not a function|unsupported operand|cannot be cast to|not callable"
            r"|object is not (?:iterable|subscriptable)|can only concatenate|expected .* got"
            r"|undefined method"
        ),
        "A value of the wrong type reached code that cannot handle it{where}: {evidence}.",
        (
            "Check the type of the value at this line and where it was produced.",
            "Convert or validate at the boundary where the data enters (request parsing, "
            "deserialisation).",
            "Add type annotations/checks so the mismatch is caught before run time.",
        ),
    ),
    Category(
        "invalid value",
        True,
        _re(
            r"ValueError|NumberFormatException|FormatException|JSONDecodeError|ParseException"
            r"|ArgumentException|IllegalArgumentException|InvalidOperationException"
        ),
        _re(
            r"invalid literal|could not convert|invalid value|malformed|unexpected character"
            r"|Expecting value|invalid input syntax"
        ),
        "A value was rejected as invalid{where}: {evidence}. The input does not have the "
        "format or range the code expects.",
        (
            "Log (redacted) the rejected value and where it came from.",
            "Validate and normalise the input where it enters the system, with a clear error.",
            "Add a test with this input.",
        ),
    ),
    Category(
        "timeout",
        True,
        _re(r"Timeout|TimedOut|DeadlineExceeded|LambdaTimeout"),
        _re(r"timed out|deadline exceeded|ETIMEDOUT|took too long|Task timed out|timeout"),
        "An operation did not finish in time{where}: {evidence}. A dependency is slow or "
        "unreachable, or the work is larger than the time budget allows.",
        (
            "Find which call timed out and measure its latency (dependency health, query plans, "
            "payload sizes).",
            "Set explicit timeouts per call, retry idempotent calls with backoff, and keep the "
            "overall budget below the caller's timeout.",
            "Move long work to a background job if it cannot fit the request's budget.",
        ),
    ),
    Category(
        "connection refused",
        True,
        _re(r"ConnectionRefused|ConnectException|ConnectionError|ConnectionReset"),
        _re(
            r"ECONNREFUSED|Connection refused|connection reset|ECONNRESET|EHOSTUNREACH"
            r"|no route to host|actively refused|Failed to connect|could not connect"
        ),
        "A network connection was refused or dropped{where}: {evidence}. The service at that "
        "address is down, not listening on that port, or the address is wrong for this "
        "environment.",
        (
            "Check that the target service is running and listening at the configured host and "
            "port.",
            "Check the connection settings for this environment (host names, ports, firewall "
            "and network rules).",
            "Retry with backoff for transient failures and report the target address in the error.",
        ),
    ),
    Category(
        "DNS resolution",
        True,
        _re(r"UnknownHost|gaierror|NameResolution"),
        _re(
            r"ENOTFOUND|getaddrinfo|Name or service not known|no such host"
            r"|Temporary failure in name resolution|EAI_AGAIN|could not resolve host"
            r"|nodename nor servname"
        ),
        "A host name could not be resolved{where}: {evidence}. The name is wrong for this "
        "environment or DNS is not reachable from where the code runs.",
        (
            "Check the configured host name for this environment.",
            "Check DNS from the running environment (private DNS zones, VNet links, resolv.conf).",
            "Retry transient resolution failures (EAI_AGAIN) with backoff.",
        ),
    ),
    Category(
        "TLS",
        True,
        _re(r"SSLError|SSLHandshake|CertificateError|AuthenticationException|CertPath"),
        _re(
            r"certificate verify failed|CERTIFICATE_VERIFY_FAILED|x509|self[- ]signed certificate"
            r"|PKIX path|SSL routines|handshake failure|certificate has expired"
            r"|unable to get local issuer"
        ),
        "A TLS connection failed{where}: {evidence}. The peer's certificate is not trusted "
        "(expired, self-signed, wrong host name) or the client lacks the CA bundle.",
        (
            "Check the certificate the peer presents (expiry, host name, chain).",
            "Install the right CA bundle in the image instead of disabling verification.",
            "Check that the client uses the host name the certificate was issued for.",
        ),
    ),
    Category(
        "permission denied",
        True,
        _re(
            r"PermissionError|AccessDenied|UnauthorizedAccess|SecurityException|Forbidden"
            r"|AuthorizationFailed"
        ),
        _re(
            r"Permission denied|EACCES|EPERM|access denied|not authorized|403 Forbidden"
            r"|insufficient privileges|AuthorizationFailed|401 Unauthorized"
        ),
        "An operation was refused for lack of permission{where}: {evidence}. The process's "
        "user, identity or token does not have the right it needs.",
        (
            "Check which identity the code runs as here and what it is allowed to do.",
            "Grant the narrowest permission that allows this operation (file mode, role "
            "assignment, token scope).",
            "Make the error name the resource and the identity, to make the next one quick.",
        ),
    ),
    Category(
        "out of memory",
        True,
        _re(r"OutOfMemory|MemoryError|bad_alloc|OOMKilled"),
        _re(
            r"out of memory|OOMKilled|Cannot allocate memory|ENOMEM|heap out of memory"
            r"|exit code 137|signal: killed|memory limit"
        ),
        "The process ran out of memory{where}: {evidence}. It holds more data than its limit "
        "allows (a large input loaded at once, a leak, or a limit set too low).",
        (
            "Find what grows: load the input in a streaming way or in pages rather than at once.",
            "Profile memory under a realistic input to find a leak.",
            "Raise the memory limit only once the growth is understood.",
        ),
    ),
    Category(
        "import or module not found",
        True,
        _re(
            r"ImportError|ModuleNotFound|ClassNotFound|NoClassDefFound|LoadError"
            r"|FileLoadException|MODULE_NOT_FOUND"
        ),
        _re(
            r"No module named|Cannot find module|cannot load such file|undefined symbol"
            r"|Could not load file or assembly|cannot find package|unresolved import"
        ),
        "A module or class the code imports is not available at run time{where}: "
        "{evidence}. It is missing from the installed dependencies or the build output.",
        (
            "Check that the dependency is declared and pinned in the lock file and installed in "
            "the image.",
            "Check the module path and the packaging (package data, build output, PYTHONPATH).",
            "Rebuild the image from a clean state and run the import at start-up.",
        ),
    ),
    Category(
        "upstream HTTP error",
        False,
        _re(r"HTTPError|HttpRequestException|HTTP [45]\d\d|AxiosError|FetchError"),
        _re(
            r"\b(?:HTTP|status(?: code)?:?) ?[45]\d\d\b|\b50[234] \w|Bad Gateway"
            r"|Service Unavailable|Internal Server Error|Request failed with status code"
        ),
        "A request to another service failed with an HTTP error{where}: {evidence}.",
        (
            "Look at the failing service's own logs for the same time and request.",
            "Handle 4xx as a bug in the request and 5xx/429 as transient (retry with backoff "
            "and a budget).",
            "Record the upstream's status and request id in this service's error.",
        ),
    ),
    Category(
        "syntax or compile error",
        False,
        _re(r"SyntaxError|IndentationError|CompilationError|CompileError|ParseError"),
        _re(
            r"syntax error|compil(?:e|ation) (?:failed|error)|failed to compile|unexpected token"
            r"|unexpected end of (?:file|input)|unexpected END_OF_FILE|parse error"
        ),
        "Source code or a source file could not be compiled or parsed{where}: {evidence}.",
        (
            "Check the file named in the error at the deployed version.",
            "Run the same compile or parse step in CI so the error is caught before deployment.",
            "If the source is generated or loaded at run time, validate it before use.",
        ),
    ),
    Category(
        "assertion failed",
        False,
        _re(r"AssertionError|AssertionFailed|Assert"),
        _re(r"assert(?:ion)? failed|Assertion `|debug_assert"),
        "An assertion failed{where}: {evidence}. A condition the code relies on did not hold.",
        (
            "Read the assertion and find which input broke the assumption.",
            "Decide whether the assumption is wrong (fix the check) or the input is (validate "
            "earlier).",
            "Add a test for this case.",
        ),
    ),
    Category(
        "crash",
        False,
        _re(r"panic|SIGABRT|Fatal"),
        _re(r"panicked at|^panic:|SIGABRT|aborted|core dumped|Fatal error"),
        "The program crashed{where}: {evidence}.",
        (
            "Read the panic/abort message and the innermost application frame.",
            "Reproduce with the same input under a debugger or sanitizer.",
            "Handle the failing case explicitly instead of aborting.",
        ),
    ),
)

UNKNOWN = Category(
    "unknown",
    False,
    None,
    _re(r"(?!)"),
    "The log reports an error{where}{evidence_sentence}, but none of the known error patterns "
    "match it.",
    (
        "Read the error lines of the log together with the code at the culprit frame.",
        "Add context to this error where it is raised (the inputs and the operation).",
        "Connect the repository, or use a model diagnoser, for a deeper explanation.",
    ),
)


_GENERIC_TYPES = {"typeerror", "error", "exception", "runtimeexception", "panic", "systemerror"}


def _generic(type_: str) -> bool:
    return type_.rsplit(".", 1)[-1].lower() in _GENERIC_TYPES


@dataclass(frozen=True)
class _Match:
    category: Category
    rank: int  # 0: the exception type, 1: the error message, 2+: the n-th error line
    evidence: str


def _best_match(parsed: ParsedLog) -> _Match | None:
    types = [e.type for e in parsed.exceptions if e.type] or (
        [parsed.error_type] if parsed.error_type else []
    )
    messages = [m for m in (parsed.error_message, *(e.message for e in parsed.exceptions)) if m]
    lines = parsed.error_lines or ([parsed.message] if parsed.message else [])
    found: list[tuple[tuple[int, int, int], _Match]] = []
    for order, category in enumerate(CATEGORIES):
        match: _Match | None = None
        if category.type_pattern is not None and (
            hit := next((t for t in types if category.type_pattern.search(t)), None)
        ):
            # A generic type (TypeError, Error, panic) says less than a specific message:
            # "TypeError: Cannot read properties of undefined" is a null dereference.
            match = _Match(category, 1 if _generic(hit) else 0, hit)
        elif hit := next((m for m in messages if category.text_pattern.search(m)), None):
            match = _Match(category, 1, hit)
        else:
            for i, line in enumerate(lines[:50]):
                if category.text_pattern.search(line):
                    match = _Match(category, 2 + i, line)
                    break
        if match is not None:
            found.append(((0 if category.cause else 1, match.rank, order), match))
    return min(found, key=lambda item: item[0])[1] if found else None


def _where(frame: StackFrame | None) -> str:
    if frame is None or not frame.file:
        return ""
    location = f"{frame.file}:{frame.line}" if frame.line else frame.file
    return f" in `{frame.function}` at {location}" if frame.function else f" at {location}"


def _highlighted(snippet: Snippet | None) -> str | None:
    if snippet is None or snippet.highlight_line is None:
        return None
    lines = snippet.content.splitlines()
    index = snippet.highlight_line - snippet.start_line
    return lines[index].strip() if 0 <= index < len(lines) else None


def _clip(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(parsed: ParsedLog, snippet: Snippet | None = None) -> Classification:
    """The heuristic verdict on ``parsed``; ``snippet`` is the code at the culprit frame, when
    a repository is connected."""
    culprit = parsed.culprit
    where = _where(culprit)
    match = _best_match(parsed)
    evidence: list[str] = []
    code_line = _highlighted(snippet)
    if match is None:
        text = parsed.error_message or parsed.message or (parsed.error_lines or [""])[0]
        root_cause = UNKNOWN.explanation.format(
            where=where, evidence_sentence=f" ({_clip(text)})" if text else ""
        )
        confidence = 0.2 + (0.1 if culprit is not None and culprit.in_app else 0.0)
        category, recommendations = UNKNOWN.name, list(UNKNOWN.recommendations)
    else:
        kind = match.category
        root_cause = kind.explanation.format(where=where, evidence=f'"{_clip(match.evidence)}"')
        source = {0: "the exception type", 1: "the error message"}.get(
            match.rank, "the error lines"
        )
        evidence.append(f"Classified as {kind.name} from {source}: {_clip(match.evidence)}.")
        confidence = {0: 0.7, 1: 0.6}.get(match.rank, 0.5)
        if culprit is not None and culprit.in_app and culprit.line:
            confidence += 0.1
        category, recommendations = kind.name, list(kind.recommendations)
        if culprit is not None and culprit.file:
            recommendations.insert(
                0,
                f"Start at {culprit.file}{f':{culprit.line}' if culprit.line else ''}"
                f"{f' ({culprit.function})' if culprit.function else ''}: the innermost frame "
                "of the application's own code.",
            )
    if code_line:
        root_cause += f" The failing line is `{_clip(code_line, 160)}`."
        confidence += 0.05
    if culprit is not None and culprit.file:
        evidence.append(f"Culprit frame: {culprit.raw}")
    return Classification(
        category=category,
        root_cause=root_cause,
        recommendations=recommendations,
        confidence=round(min(confidence, 0.9), 2),
        evidence=evidence,
    )
