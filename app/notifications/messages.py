"""What a notification says, fixed when it is queued, and how each channel says it.

A message carries the issue's title, the culprit (file:line), the suspect commit and a link to
the report in the SPA. Everything comes from the report's diagnosis (``reports.report_data``).
"""

from __future__ import annotations

import uuid
from typing import Any

from app.issues.events import IssueEventKind

HEADLINES = {
    IssueEventKind.NEW.value: "New issue",
    IssueEventKind.REGRESSION.value: "Regression",
    "threshold": "Issue crossing its threshold",
    "test": "Test notification",
}
TEXT_LIMIT = 300


def _short(text: object, limit: int = TEXT_LIMIT) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def report_link(public_url: str, report_id: uuid.UUID | str) -> str:
    return f"{public_url.rstrip('/')}/reports/{report_id}"


def culprit_of(data: dict[str, Any]) -> str | None:
    culprit = data.get("culprit")
    path = data.get("culprit_file") or (culprit.get("file") if isinstance(culprit, dict) else None)
    if not path:
        return None
    line = culprit.get("line") if isinstance(culprit, dict) else None
    return f"{path}:{line}" if line else str(path)


def suspect_of(data: dict[str, Any]) -> dict[str, Any] | None:
    suspects = data.get("suspect_commits")
    candidates = [s for s in suspects if isinstance(s, dict)] if isinstance(suspects, list) else []
    if not candidates:
        return None
    # The commit that changed the culprit line, when the diagnosis found it; else the first.
    first = next((s for s in candidates if s.get("touches_culprit_line")), candidates[0])
    message = str(first.get("message") or "").strip().splitlines()
    return {
        "sha": str(first.get("sha") or ""),
        "message": _short(message[0] if message else "", 120),
        "author": first.get("author"),
        "url": first.get("url"),
    }


def payload_of(
    event: str,
    report_id: uuid.UUID,
    issue_id: uuid.UUID | None,
    data: dict[str, Any] | None,
    public_url: str,
    *,
    repository: str | None = None,
) -> dict[str, Any]:
    """The content of one message (stored with the delivery, so retries say the same)."""
    data = data or {}
    return {
        "event": event,
        "title": _short(data.get("title") or "An error was reported (diagnosis pending)", 200),
        "summary": _short(data.get("summary") or ""),
        "culprit": culprit_of(data),
        "suspect_commit": suspect_of(data),
        "repository": repository,
        "report_id": str(report_id),
        "issue_id": str(issue_id) if issue_id else None,
        "url": report_link(public_url, report_id),
    }


def headline(payload: dict[str, Any]) -> str:
    return HEADLINES.get(str(payload.get("event")), "Log Dawg")


def _commit_text(payload: dict[str, Any]) -> str:
    commit = payload.get("suspect_commit")
    if not commit:
        return "none found"
    return f"{str(commit['sha'])[:12]} {commit.get('message') or ''}".strip()


def plain_text(payload: dict[str, Any]) -> str:
    lines = [f"{headline(payload)}: {payload['title']}"]
    if payload.get("repository"):
        lines.append(f"Repository: {payload['repository']}")
    lines.append(f"Culprit: {payload.get('culprit') or 'unknown'}")
    lines.append(f"Suspect commit: {_commit_text(payload)}")
    if payload.get("summary"):
        lines.append(f"Summary: {payload['summary']}")
    lines.append(f"Report: {payload['url']}")
    return "\n".join(lines)


def digest_text(items: list[dict[str, Any]], window_s: int) -> str:
    minutes = max(round(window_s / 60), 1)
    lines = [f"{len(items)} more notifications in the last {minutes} min (sent as one digest):"]
    for item in items[:50]:
        lines.append(
            f"- {headline(item)}: {item['title']} ({item.get('culprit') or '?'}) {item['url']}"
        )
    if len(items) > 50:
        lines.append(f"… and {len(items) - 50} more")
    return "\n".join(lines)


def _escape_slack(text: str) -> str:
    # Slack's mrkdwn needs only these three escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(
    payload: dict[str, Any], digest: list[dict[str, Any]] | None = None, *, window_s: int = 0
) -> dict[str, Any]:
    """Slack incoming webhook: ``text`` (the notification's fallback) and Block Kit ``blocks``."""
    if digest is not None:
        text = digest_text(digest, window_s)
        return {
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": _escape_slack(text)[:2900]}}
            ],
        }
    title = _escape_slack(str(payload["title"]))
    culprit = str(payload.get("culprit") or "unknown")
    fields = [
        {
            "type": "mrkdwn",
            "text": f"*Culprit*\n`{_escape_slack(culprit)}`",
        },
        {"type": "mrkdwn", "text": f"*Suspect commit*\n{_escape_slack(_commit_text(payload))}"},
    ]
    if payload.get("repository"):
        fields.append(
            {"type": "mrkdwn", "text": f"*Repository*\n{_escape_slack(payload['repository'])}"}
        )
    link = payload["url"]
    return {
        "text": f"{headline(payload)}: {payload['title']} {link}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline(payload)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*<{link}|{title}>*"}},
            {"type": "section", "fields": fields},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open report"},
                        "url": payload["url"],
                    },
                ],
            },
        ],
    }


def teams_body(
    payload: dict[str, Any], digest: list[dict[str, Any]] | None = None, *, window_s: int = 0
) -> dict[str, Any]:
    """A Teams workflow webhook ("When a Teams webhook request is received"): a message with
    one Adaptive Card attachment."""
    if digest is not None:
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": digest_text(digest, window_s), "wrap": True}
        ]
        actions: list[dict[str, Any]] = []
    else:
        facts = [
            {"title": "Culprit", "value": payload.get("culprit") or "unknown"},
            {"title": "Suspect commit", "value": _commit_text(payload)},
        ]
        if payload.get("repository"):
            facts.append({"title": "Repository", "value": payload["repository"]})
        body = [
            {"type": "TextBlock", "text": headline(payload), "weight": "Bolder", "size": "Medium"},
            {"type": "TextBlock", "text": payload["title"], "wrap": True},
            {"type": "FactSet", "facts": facts},
        ]
        actions = [{"type": "Action.OpenUrl", "title": "Open report", "url": payload["url"]}]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            },
        ],
    }


def webhook_body(
    payload: dict[str, Any],
    digest: list[dict[str, Any]] | None = None,
    *,
    window_s: int = 0,
    delivery_id: uuid.UUID,
) -> dict[str, Any]:
    """The outbound webhook's JSON (README "Outbound webhook" documents every field)."""
    if digest is not None:
        return {
            "type": "digest",
            "delivery_id": str(delivery_id),
            "window_s": window_s,
            "count": len(digest),
            "items": digest,
        }
    return {"type": "notification", "delivery_id": str(delivery_id), **payload}


def email_subject(payload: dict[str, Any], digest: list[dict[str, Any]] | None = None) -> str:
    if digest is not None:
        return f"[Log Dawg] {len(digest)} notifications (digest)"
    return _short(f"[Log Dawg] {headline(payload)}: {payload['title']}", 200)
