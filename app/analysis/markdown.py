"""A report as Markdown, the form the original Log Dawg wrote to files."""

from __future__ import annotations

from app.analysis.report import DiagnosisReport

_FENCE_LANG = {
    "py": "python", "js": "javascript", "ts": "typescript", "tsx": "tsx", "jsx": "jsx",
    "java": "java", "kt": "kotlin", "go": "go", "rs": "rust", "cs": "csharp", "c": "c",
    "h": "c", "cc": "cpp", "cpp": "cpp", "hpp": "cpp", "rb": "ruby", "php": "php",
}  # fmt: skip


def _lang(path: str) -> str:
    return _FENCE_LANG.get(path.rsplit(".", 1)[-1].lower(), "")


def _fence(text: str) -> str:
    """A fence longer than any backtick run in ``text``, so log content cannot close it."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _diagnoser(report: DiagnosisReport) -> str:
    model = report.diagnoser.model
    return report.diagnoser.name + (f" ({model})" if model else "")


def render_markdown(report: DiagnosisReport) -> str:
    out: list[str] = [f"# {report.title}", ""]
    facts = [
        ("Error type", report.error_type or "unknown"),
        ("Category", report.category),
        ("Confidence", f"{report.confidence_score:.0%}"),
        ("Diagnoser", _diagnoser(report)),
        ("Fingerprint", f"`{report.fingerprint[:16]}`"),
    ]  # fmt: skip
    if report.commit is not None:
        facts.append(
            (
                "Commit",
                f"`{report.commit.sha[:12]}` (from {report.commit.source.replace('_', ' ')})",
            )
        )
    if report.culprit is not None:
        path = report.culprit_file or report.culprit.file
        where = f"{path}:{report.culprit.line}" if report.culprit.line else path
        facts.append(
            (
                "Culprit",
                f"`{where}`"
                + (f" in `{report.culprit.function}`" if report.culprit.function else ""),
            )
        )
        if report.selection_reason:
            facts.append(("Why this frame", report.selection_reason))
    out += [f"- **{k}:** {v}" for k, v in facts]
    out += ["", "## Summary", "", report.summary, "", "## Root cause", "", report.root_cause]
    out += ["", "## Analysis", "", report.error_analysis, "", "## Recommendations", ""]
    out += [f"{i}. {r}" for i, r in enumerate(report.recommendations, 1)] or ["(none)"]
    if report.relevant_code_files:
        out += ["", "## Code"]
        for code in report.relevant_code_files:
            out += ["", f"### `{code.file_path}`", "", f"_{code.selection_reason}_"]
            for snip in code.snippets:
                fence = _fence(snip.content)
                numbered = "\n".join(
                    f"{'>' if n == snip.highlight_line else ' '}{n:5d}  {text}"
                    for n, text in enumerate(snip.content.split("\n"), snip.start_line)
                )
                out += ["", f"{fence}{_lang(code.file_path)}", numbered, fence]
    if report.suspect_commits:
        out += ["", "## Suspect commits", ""]
        for c in report.suspect_commits:
            subject = c.message.splitlines()[0] if c.message else ""
            sha = f"[`{c.sha[:12]}`]({c.url})" if c.url else f"`{c.sha[:12]}`"
            near = " — **changed the culprit line**" if c.touches_culprit_line else ""
            out.append(f"- {sha} {subject} — {c.author or 'unknown'}, {c.date or 'undated'}{near}")
    if report.frames:
        out += ["", "## Stack", ""]
        for f in report.frames:
            mark = "" if f.in_app else " _(library)_"
            line = f":{f.line}" if f.line else ""
            out.append(f"- `{f.function or '?'}` at `{f.file}{line}`{mark}")
    if report.limitations:
        out += ["", "## Limitations", ""] + [f"- {item}" for item in report.limitations]
    return "\n".join(out) + "\n"
