"""What the analysis reads out of a log: frames, exceptions, the parsed log, the verdict."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class StackFrame(BaseModel):
    """One frame of a stack trace, innermost-first order is not assumed: ``index`` 0 is the
    frame the trace printed first. ``in_app`` is False for runtime, standard-library and
    third-party frames (site-packages, node_modules, the JDK, the Go runtime, ...)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    function: str | None = None
    module: str | None = None
    language: str
    in_app: bool = True
    # Which exception of a chain the frame belongs to (0: the first printed).
    exception_index: int = 0
    # A sanitizer report's other stacks: "allocated", "freed" (where the memory came from and
    # went); None for the stack of the error itself.
    stack: str | None = None
    raw: str = Field(max_length=2000)


class ExceptionInfo(BaseModel):
    type: str | None = None
    message: str | None = None


class ParsedLog(BaseModel):
    """The log as the analysis understands it. Every field is optional: a log may carry any
    subset, and nothing here is invented."""

    format: str
    level: str | None = None
    service: str | None = None
    timestamp: str | None = None
    message: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_lines: list[str] = Field(default_factory=list)
    exceptions: list[ExceptionInfo] = Field(default_factory=list)
    frames: list[StackFrame] = Field(default_factory=list)
    # The trace's language when frames were found ("python", "java", "c", ...).
    language: str | None = None
    release: str | None = None
    commit: str | None = None
    version: str | None = None
    # Other scalar fields worth showing (request id, host, status code), capped in number.
    fields: dict[str, Any] = Field(default_factory=dict)
    # Text the analysis read (the log flattened to lines), capped; used for excerpts.
    text: str = ""

    @property
    def culprit(self) -> StackFrame | None:
        """The innermost in-app frame of the root exception: where the error was raised in
        the application's own code.

        Languages print traces in different orders: Python prints the innermost call last,
        everything else first. Chains differ too: Python prints the original exception
        first, Java's "Caused by" last.
        """
        if not self.frames:
            return None
        candidates = [f for f in self.frames if f.in_app and f.file] or [
            f for f in self.frames if f.file
        ]
        if not candidates:
            return None
        if self.language == "python":
            # Python prints the original exception first ("During handling of the above
            # exception ..."), and each traceback's innermost frame last.
            root = min(f.exception_index for f in candidates)
            return [f for f in candidates if f.exception_index == root][-1]
        # Java/.NET/...: the root cause is printed last ("Caused by:"), innermost frame first.
        root = max(f.exception_index for f in candidates)
        return next(f for f in candidates if f.exception_index == root)


class Classification(BaseModel):
    category: str
    root_cause: str
    recommendations: list[str]
    confidence: float = Field(ge=0, le=1)
    evidence: list[str] = Field(default_factory=list)
