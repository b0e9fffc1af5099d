"""Stack traces out of log text, in the formats runtimes print them.

Python (chained exceptions), Java/Kotlin/Scala (``Caused by``), JavaScript/TypeScript (V8 and
Firefox), Go panics, Rust panics and backtraces, .NET (inner exceptions), C/C++ (gdb,
sanitizers and the ``at fn (file:line)`` form), Ruby and PHP. The scanner reads line by line
with anchored patterns, caps line length, lines and frames, and never raises on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.analysis.models import ExceptionInfo, StackFrame

MAX_LINES = 50_000
MAX_LINE_CHARS = 2_000
MAX_FRAMES = 300
MAX_MESSAGE_CHARS = 1_000

_EXT_LANGUAGE = {
    ".py": "python",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".groovy": "groovy",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".mts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".cs": "csharp",
    ".fs": "fsharp",
    ".vb": "vb",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".rb": "ruby",
    ".php": "php",
}


def language_of(path: str | None) -> str | None:
    if not path:
        return None
    name = path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    dot = name.rfind(".")
    return _EXT_LANGUAGE.get(name[dot:].lower()) if dot > 0 else None


# --- which frames are the application's own -------------------------------------------------

_LIBRARY_PATH_MARKERS = (
    "site-packages/",
    "dist-packages/",
    "/lib/python",
    "node_modules/",
    "node:",
    "<frozen ",
    "/usr/lib/",
    "/usr/local/lib/",
    "/usr/include/",
    "/lib/x86_64-linux-gnu/",
    "/lib64/",
    "/rustc/",
    "/.cargo/registry/",
    "/.cargo/git/",
    "/go/pkg/mod/",
    "/usr/local/go/src/",
    "/usr/lib/go",
    "/gems/",
    "/rubygems/",
    "/vendor/",
    "/_build/libc",
    "libc.so",
    "libstdc++",
    "ld-linux",
    "/System/Library/",
)
_LIBRARY_FUNCTION_PREFIXES = {
    "java": (
        "java.",
        "javax.",
        "jdk.",
        "sun.",
        "com.sun.",
        "kotlin.",
        "kotlinx.",
        "scala.",
        "org.springframework.",
        "org.apache.",
        "org.hibernate.",
        "io.netty.",
        "reactor.",
        "org.junit.",
        "org.postgresql.",
        "com.mysql.",
        "org.mariadb.",
        "com.zaxxer.",
        "io.grpc.",
        "com.fasterxml.",
        "org.slf4j.",
        "ch.qos.",
        "okhttp3.",
        "retrofit2.",
        "com.google.",
        "org.eclipse.",
        "org.glassfish.",
        "io.micrometer.",
        "io.opentelemetry.",
        "org.jboss.",
        "jakarta.",
        "io.reactivex.",
        "io.vertx.",
        "akka.",
        "software.amazon.",
        "com.amazonaws.",
        "com.microsoft.",
        "org.h2.",
        "net.bytebuddy.",
        "org.aspectj.",
        "org.mybatis.",
        "feign.",
    ),
    "csharp": ("System.", "Microsoft.", "Npgsql.", "Newtonsoft."),
    "go": ("runtime.", "net/http.", "testing.", "reflect.", "sync."),
    "rust": (
        "std::",
        "core::",
        "alloc::",
        "<core::",
        "<alloc::",
        "<std::",
        "rust_begin_unwind",
        "__rust",
        "tokio::",
        "<tokio::",
    ),
    "c": ("__libc_", "__GI_", "_start", "__asan", "__interceptor_", "abort", "raise"),
}


# Languages whose library frames look like another's.
_FAMILY = {
    "kotlin": "java",
    "scala": "java",
    "groovy": "java",
    "fsharp": "csharp",
    "vb": "csharp",
    "cpp": "c",
}


def is_in_app(language: str, path: str | None, function: str | None) -> bool:
    normalised = (path or "").replace("\\", "/")
    if normalised.startswith("internal/"):
        return False
    for marker in _LIBRARY_PATH_MARKERS:
        if marker in normalised:
            return False
    family = _FAMILY.get(language, language)
    prefixes = _LIBRARY_FUNCTION_PREFIXES.get(family, ())
    if function and function.startswith(prefixes):
        return False
    if family in ("java", "csharp") and not path:
        return False
    return not (family == "go" and normalised.startswith(("runtime/", "/usr/local/go")))


# --- patterns -------------------------------------------------------------------------------

_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_PY_CHAIN = re.compile(
    r"^(?:During handling of the above exception, another exception occurred"
    r"|The above exception was the direct cause of the following exception):?\s*$"
)
_PY_EXCEPTION = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration|Group)?)"
    r"(?::\s?(?P<msg>.*))?$"
)
_JAVA_FRAME = re.compile(
    r"^\s*at\s+(?:[\w.$-]*(?:@[\w.-]+)?/)*(?P<cls>[\w$.<>-]+)\.(?P<meth>[\w$<>-]+)"
    r"\((?P<src>[\w$.-]+\.(?:java|kt|kts|scala|groovy|clj):(?P<line>\d+)"
    r"|Native Method|Unknown Source|[\w$.-]+\.(?:java|kt|scala))\)"
)
_JAVA_CAUSED = re.compile(r"^\s*Caused by:\s+(?P<type>[\w$.]+)(?::\s*(?P<msg>.*))?$")
_JAVA_HEADER = re.compile(
    r'^(?:Exception in thread "[^"]*"\s+|Unhandled exception\.\s+)?'
    r"(?P<type>[a-zA-Z_$][\w$]*(?:\.[\w$]+)+)"
    r"(?::\s*(?P<msg>.*))?$"
)
_DOTNET_FRAME = re.compile(
    r"^\s*at\s+(?P<func>[\w$.`<>|+\[\],]+)\((?P<args>[^()]*)\)"
    r"(?:\s+in\s+(?P<file>.+?):line\s+(?P<line>\d+))?\s*$"
)
_DOTNET_INNER = re.compile(r"^\s*--->\s+(?P<type>[\w.`]+)(?::\s*(?P<msg>.*))?$")
_DOTNET_END_INNER = re.compile(r"^\s*--- End of inner exception stack trace ---")
_AT_LOCATION = re.compile(
    r"^\s*at\s+(?:(?P<func>[^()]+?)\s+\()?(?P<file>[^()\s]+?):(?P<line>\d+)(?::(?P<col>\d+))?"
    r"\)?\s*$"
)
_FIREFOX_FRAME = re.compile(
    r"^(?P<func>[^@\s]*)@(?P<file>\S+?):(?P<line>\d+)(?::(?P<col>\d+))?\s*$"
)
_JS_HEADER = re.compile(
    r"^(?:Uncaught\s+)?(?P<type>(?:[A-Z]\w*)?(?:Error|Exception)|AggregateError)"
    r"(?::\s*(?P<msg>.*))?$"
)
_GO_PANIC = re.compile(r"^panic:\s*(?P<msg>.*?)(?:\s+\[recovered\])?$")
_GO_GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]]*\]:\s*$")
_GO_FILE = re.compile(r"^\s+(?P<file>\S+\.go):(?P<line>\d+)(?:\s+\+0x[0-9a-fA-F]+)?\s*$")
_GO_FUNC = re.compile(r"^(?P<func>[\w./*()\[\]{}-]+?)(?:\((?:[^()]|\.\.\.)*\))?\s*$")
_RUST_PANIC = re.compile(
    r"^thread '(?P<thread>[^']*)' panicked at (?:'(?P<msg>.*)', )?"
    r"(?P<file>[^\s:]+\.rs):(?P<line>\d+):(?P<col>\d+):?\s*$"
)
_RUST_FRAME = re.compile(r"^\s*(?P<n>\d+):\s+(?:0x[0-9a-fA-F]+\s+-\s+)?(?P<func>\S.*?)\s*$")
_RUST_AT = re.compile(r"^\s+at\s+(?P<file>\S+\.rs):(?P<line>\d+)(?::(?P<col>\d+))?\s*$")
_GDB_FRAME = re.compile(
    r"^#(?P<n>\d+)\s+(?:0x[0-9a-fA-F]+\s+in\s+)?(?P<func>[^\s(]+)\s*\([^)]*\)"
    r"\s+(?:at\s+(?P<file>[^\s:]+):(?P<line>\d+)|from\s+(?P<lib>\S+))\s*$"
)
_SANITIZER_FRAME = re.compile(
    r"^\s*#(?P<n>\d+)\s+0x[0-9a-fA-F]+\s+in\s+(?P<func>.+?)\s+"
    r"(?:(?P<file>[^\s:()]+):(?P<line>\d+)(?::(?P<col>\d+))?|\((?P<lib>[^)]+)\))\s*$"
)
_SANITIZER_OTHER_STACK = re.compile(
    r"^(?P<what>freed|previously allocated|allocated) by thread \S+ here:\s*$"
)
_SANITIZER_HEADER = re.compile(
    r"^==\d+==\s*ERROR:\s*(?P<tool>\w+Sanitizer):\s*(?P<kind>[\w-]+)(?P<msg>.*)$"
)
_RUBY_FRAME = re.compile(
    r"^\s*(?:from\s+)?(?P<file>[^\s:]+\.rb):(?P<line>\d+):in\s+[`'](?P<func>[^'`]+)'"
    r"(?::\s*(?P<msg>.*?)\s+\((?P<type>[A-Z][\w:]*)\))?\s*$"
)
_PHP_UNCAUGHT = re.compile(
    r"^(?:PHP\s+)?Fatal error:\s+Uncaught\s+(?P<type>[\w\\]+):\s*(?P<msg>.*?)"
    r"\s+in\s+(?P<file>\S+?):(?P<line>\d+)\s*$"
)
_PHP_FRAME = re.compile(r"^#\d+\s+(?P<file>[^(\s][^(]*?)\((?P<line>\d+)\):\s+(?P<func>.+)$")


# --- the scanner ----------------------------------------------------------------------------


@dataclass
class Trace:
    frames: list[StackFrame] = field(default_factory=list)
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    language: str | None = None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[:MAX_MESSAGE_CHARS] if text else None


def _java_path(cls: str, src: str) -> str | None:
    """``com.shop.Cart$Line`` in ``Cart.java`` → ``com/shop/Cart.java`` (the package's path,
    which the mapping step matches by trailing segments)."""
    if ":" not in src:
        return None
    filename = src.split(":", 1)[0]
    package = cls.split("$", 1)[0].rsplit(".", 1)[0] if "." in cls else ""
    return f"{package.replace('.', '/')}/{filename}" if package else filename


class _Scanner:
    def __init__(self) -> None:
        self.trace = Trace()
        self.exception_index = 0
        self.in_python = False
        self.python_done = False
        self.pending_func: str | None = None
        self.pending_language: str | None = None
        self.expect_panic_message = False
        self.sanitizer_stack: str | None = None

    def add(
        self,
        language: str,
        raw: str,
        *,
        file: str | None,
        line: int | None = None,
        column: int | None = None,
        function: str | None = None,
        module: str | None = None,
        in_app: bool | None = None,
        index: int | None = None,
        stack: str | None = None,
    ) -> None:
        if len(self.trace.frames) >= MAX_FRAMES:
            return
        if self.trace.language is None and language != "unknown":
            self.trace.language = language
        self.trace.frames.append(
            StackFrame(
                file=file,
                line=line,
                column=column,
                function=_clip(function),
                module=module,
                language=language,
                in_app=is_in_app(language, file, function) if in_app is None else in_app,
                exception_index=self.exception_index if index is None else index,
                stack=stack,
                raw=raw.strip()[:2000],
            )
        )

    def exception(self, type_: str | None, message: str | None) -> None:
        info = ExceptionInfo(type=_clip(type_), message=_clip(message))
        if info not in self.trace.exceptions and len(self.trace.exceptions) < 20:
            self.trace.exceptions.append(info)

    def feed(self, line: str, previous: str) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if self.expect_panic_message:
            self.expect_panic_message = False
            if stripped != "stack backtrace:" and not stripped.startswith("note:"):
                self.exception("panic", stripped)
                return
        if self._python(line, stripped):
            return
        if m := _JAVA_FRAME.match(line):
            cls, src = m["cls"], m["src"]
            file = _java_path(cls, src)
            language = language_of(src.split(":", 1)[0]) or "java"
            self.add(
                language,
                line,
                file=file,
                line=_int(m["line"]),
                function=f"{cls}.{m['meth']}",
                module=cls,
                in_app=None if file else False,
            )
            return
        if m := _JAVA_CAUSED.match(line):
            self.exception_index += 1
            self.exception(m["type"], m["msg"])
            return
        if m := _DOTNET_INNER.match(line):
            self.exception_index += 1
            self.exception(m["type"], m["msg"])
            return
        if _DOTNET_END_INNER.match(line):
            # Outer frames follow the inner exception's; they belong to the outer exception.
            self.exception_index = 0
            return
        if m := _DOTNET_FRAME.match(line):
            file = m["file"]
            self.add(
                language_of(file) or "csharp",
                line,
                file=file,
                line=_int(m["line"]),
                function=m["func"],
            )
            return
        if m := _RUST_AT.match(line):
            func = self.pending_func if self.pending_language == "rust" else None
            self.add(
                "rust",
                line,
                file=m["file"],
                line=_int(m["line"]),
                column=_int(m["col"]),
                function=func,
            )
            self.pending_func = None
            return
        if m := _AT_LOCATION.match(line):
            file = m["file"]
            self.add(
                language_of(file.split("?", 1)[0]) or "javascript",
                line,
                file=file,
                line=_int(m["line"]),
                column=_int(m["col"]),
                function=_clip(m["func"]),
            )
            return
        if m := _GDB_FRAME.match(line):
            self.add(
                language_of(m["file"]) or "c",
                line,
                file=m["file"] or m["lib"],
                line=_int(m["line"]),
                function=m["func"],
                in_app=None if m["file"] else False,
            )
            return
        if m := _SANITIZER_FRAME.match(line):
            file = m["file"] or m["lib"]
            self.add(
                language_of(m["file"]) or "c",
                line,
                file=file,
                line=_int(m["line"]),
                column=_int(m["col"]),
                function=m["func"],
                in_app=None if m["file"] else False,
                stack=self.sanitizer_stack,
            )
            return
        if m := _SANITIZER_OTHER_STACK.match(stripped):
            self.sanitizer_stack = "freed" if m["what"] == "freed" else "allocated"
            return
        if m := _SANITIZER_HEADER.match(line):
            self.sanitizer_stack = None
            self.exception(f"{m['tool']}: {m['kind']}", m["msg"])
            return
        if m := _GO_FILE.match(line):
            func = _go_function(previous.strip())
            self.add("go", line, file=m["file"], line=_int(m["line"]), function=func)
            return
        if m := _GO_PANIC.match(stripped):
            self.exception("panic", m["msg"])
            return
        if _GO_GOROUTINE.match(stripped):
            return
        if m := _RUST_PANIC.match(stripped):
            if m["msg"]:
                self.exception("panic", m["msg"])
            else:
                self.expect_panic_message = True  # Rust 1.73+: the message is the next line
            self.add("rust", line, file=m["file"], line=_int(m["line"]), column=_int(m["col"]))
            self.pending_language = "rust"
            return
        if stripped == "stack backtrace:":
            self.pending_language = "rust"
            return
        if self.pending_language == "rust" and (m := _RUST_FRAME.match(line)):
            self.pending_func = m["func"]
            return
        if m := _RUBY_FRAME.match(line):
            if m["type"]:
                self.exception(m["type"], m["msg"])
            self.add("ruby", line, file=m["file"], line=_int(m["line"]), function=m["func"])
            return
        if m := _PHP_UNCAUGHT.match(stripped):
            self.exception(m["type"], m["msg"])
            self.add("php", line, file=m["file"], line=_int(m["line"]))
            return
        if m := _PHP_FRAME.match(stripped):
            self.add("php", line, file=m["file"].strip(), line=_int(m["line"]), function=m["func"])
            return
        if m := _FIREFOX_FRAME.match(stripped):
            file = m["file"]
            self.add(
                language_of(file.split("?", 1)[0]) or "javascript",
                line,
                file=file,
                line=_int(m["line"]),
                column=_int(m["col"]),
                function=m["func"] or None,
            )
            return
        if m := _JS_HEADER.match(stripped):
            self.exception(m["type"], m["msg"])
            return
        if (m := _JAVA_HEADER.match(stripped)) and _looks_like_exception(m["type"]):
            self.exception(m["type"], m["msg"])

    def _python(self, line: str, stripped: str) -> bool:
        if stripped.startswith("Traceback (most recent call last)"):
            self.in_python = True
            return True
        if _PY_CHAIN.match(stripped):
            self.exception_index += 1
            self.in_python = False
            return True
        if m := _PY_FRAME.match(line):
            self.in_python = True
            self.add("python", line, file=m["file"], line=_int(m["line"]), function=m["func"])
            return True
        if not self.in_python:
            return False
        if line[:1].isspace() or set(stripped) <= {"^", "~", " "}:
            return True  # the source line or the caret markers under it
        if m := _PY_EXCEPTION.match(stripped):
            self.exception(m["type"], m["msg"])
            self.in_python = False
            return True
        self.in_python = False
        return False


def _looks_like_exception(type_: str) -> bool:
    name = type_.rsplit(".", 1)[-1]
    return name[:1].isupper() and name.endswith(
        ("Exception", "Error", "Throwable", "Fault", "Failure", "Panic")
    )


def _go_function(line: str) -> str | None:
    m = _GO_FUNC.match(line.removeprefix("created by ").split(" in goroutine")[0])
    if m is None or "." not in m["func"]:
        return None
    return m["func"]


def extract_trace(lines: Iterable[str]) -> Trace:
    """Every frame and exception header found in ``lines``, in the order printed."""
    scanner = _Scanner()
    previous = ""
    for n, raw in enumerate(lines):
        if n >= MAX_LINES:
            break
        line = raw[:MAX_LINE_CHARS].rstrip("\r")
        scanner.feed(line, previous)
        previous = line
    return scanner.trace


def extract_frames(text: str) -> list[StackFrame]:
    return extract_trace(text.splitlines()).frames
