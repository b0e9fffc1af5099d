"""The report: versioned JSON stored in ``reports.report_data``.

The first block keeps the original Log Dawg fields, so existing readers keep working. The rest
is the evidence the diagnosis stands on; repository context (code mapping, snippets, suspect
commits) and model usage fill in as those parts of the engine run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.analysis.models import ParsedLog, StackFrame


class Snippet(BaseModel):
    start_line: int
    end_line: int
    content: str
    highlight_line: int | None = None


class RelevantCodeFile(BaseModel):
    file_path: str
    size_kb: float | None = None
    snippets: list[Snippet] = Field(default_factory=list)
    relevance_score: float = Field(ge=0, le=1)
    selection_reason: str


class CommitRef(BaseModel):
    sha: str
    source: Literal["log", "default_branch", "request"]
    ref: str | None = None


class SuspectCommit(BaseModel):
    sha: str
    author: str | None = None
    date: str | None = None
    message: str
    url: str | None = None
    files: list[str] = Field(default_factory=list)
    # True when the commit's diff changed lines around the culprit frame's line.
    touches_culprit_line: bool = False
    reason: str = ""


class FrameMapping(BaseModel):
    """How one frame path was matched to a repository file (or why it was not)."""

    frame_path: str
    repo_path: str | None
    method: str


class DiagnoserInfo(BaseModel):
    name: str
    model: str | None = None
    # Set when a model diagnoser failed and this is the heuristic verdict instead.
    fallback_from: str | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_cost_usd: float = 0.0


class DiagnosisReport(BaseModel):
    schema_version: Literal[1] = 1

    # The original Log Dawg report.
    title: str
    error_type: str | None
    summary: str
    root_cause: str
    error_analysis: str
    recommendations: list[str]
    confidence_score: float = Field(ge=0, le=1)
    relevant_code_files: list[RelevantCodeFile] = Field(default_factory=list)

    # Evidence.
    category: str
    log: ParsedLog
    frames: list[StackFrame]
    culprit: StackFrame | None
    # The culprit's file in the repository, when the frame could be mapped to one.
    culprit_file: str | None = None
    # Why that frame is the culprit (the crash site, or the caller that passed the bad value).
    selection_reason: str | None = None
    code_mapping: list[FrameMapping] = Field(default_factory=list)
    fingerprint: str
    commit: CommitRef | None = None
    suspect_commits: list[SuspectCommit] = Field(default_factory=list)
    diagnoser: DiagnoserInfo
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    provider_requests: int = 0
    # What this diagnosis could not use, said plainly (e.g. no repository connected).
    limitations: list[str] = Field(default_factory=list)
    # The owners of ``culprit_file`` by the repository's CODEOWNERS, and that file's path.
    code_owners: list[str] = Field(default_factory=list)
    code_owners_file: str | None = None
