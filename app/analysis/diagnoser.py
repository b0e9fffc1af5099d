"""The diagnoser port: the evidence goes in, an explanation comes out.

Everything deterministic (parsing, frame mapping, code, suspect commits, the heuristic verdict)
is done before a diagnoser runs; a model diagnoser only explains that evidence. Each answer says
which diagnoser and model produced it and what it cost.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from app.analysis.models import Classification, ParsedLog, StackFrame
from app.analysis.report import DiagnoserInfo, RelevantCodeFile, SuspectCommit, Usage


class DiagnosisContext(BaseModel):
    log: ParsedLog
    # The log's error lines and their surroundings, capped; what a person would read first.
    excerpt: str
    culprit: StackFrame | None = None
    code: list[RelevantCodeFile] = Field(default_factory=list)
    suspect_commits: list[SuspectCommit] = Field(default_factory=list)
    # The heuristic verdict: the deterministic baseline a model may refine or overrule.
    baseline: Classification


class Diagnosis(BaseModel):
    title: str
    summary: str
    root_cause: str
    error_analysis: str
    recommendations: list[str]
    confidence: float = Field(ge=0, le=1)
    category: str
    diagnoser: DiagnoserInfo
    usage: Usage = Field(default_factory=Usage)


class DiagnoserError(Exception):
    """The diagnoser could not produce a valid answer (after its own retries)."""


class Diagnoser(Protocol):
    @property
    def name(self) -> str: ...

    async def diagnose(self, context: DiagnosisContext) -> Diagnosis: ...

    async def aclose(self) -> None:
        """Release what the diagnoser keeps between diagnoses (its vendor client)."""
