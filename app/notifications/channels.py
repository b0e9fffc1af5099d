"""Sending one message over one channel, and classifying what came back.

Every send ends in an ``Outcome``: delivered; ``retry`` (HTTP 429, honouring ``Retry-After``;
5xx; a timeout or a refused connection; an SMTP 4xx); or ``failed`` (any other 4xx, an SMTP
5xx): a request the receiver refused will be refused again, so it is recorded, not retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parsedate_to_datetime
from typing import Any, Literal

import httpx

SIGNATURE_HEADER = "X-Logdawg-Signature"
TIMESTAMP_HEADER = "X-Logdawg-Timestamp"
DELIVERY_HEADER = "X-Logdawg-Delivery"
ERROR_LIMIT = 500


@dataclass(frozen=True)
class Outcome:
    status: Literal["delivered", "retry", "failed"]
    response_code: int | None = None
    # Seconds the receiver asked us to wait (Retry-After), when it said.
    retry_after_s: float | None = None
    error: str | None = None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under the rule's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float,
           tolerance_s: float = 300.0) -> bool:  # fmt: skip
    """What a receiver does (README "Outbound webhook"): a fresh timestamp and a matching
    signature, compared in constant time."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _classified(response: httpx.Response) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome("delivered", code)
    snippet = response.text[:200].strip() if response.content else ""
    error = f"the receiver answered {code}" + (f": {snippet}" if snippet else "")
    if code == 429:
        return Outcome("retry", code, retry_after(response.headers.get("retry-after")), error)
    if code >= 500:
        return Outcome("retry", code, retry_after(response.headers.get("retry-after")), error)
    return Outcome("failed", code, None, error[:ERROR_LIMIT])


async def post_json(client: httpx.AsyncClient, url: str, body: bytes,
                    headers: dict[str, str] | None = None) -> Outcome:  # fmt: skip
    try:
        response = await client.post(
            url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return Outcome("failed", None, None, f"the URL cannot be used: {exc}"[:ERROR_LIMIT])
    except httpx.TimeoutException as exc:
        return Outcome("retry", None, None, f"timed out ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return Outcome("retry", None, None, f"could not connect ({type(exc).__name__})")
    return _classified(response)


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def post_signed(client: httpx.AsyncClient, url: str, secret: str, body: bytes,
                      delivery_id: str, *, now: float | None = None) -> Outcome:  # fmt: skip
    timestamp = int(now if now is not None else time.time())
    return await post_json(
        client,
        url,
        body,
        {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            DELIVERY_HEADER: delivery_id,
        },
    )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    sender: str
    recipients: list[str]
    timeout_s: float


def _send_mail(smtp: SmtpSettings, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="logdawg")
    message.set_content(text)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        client.ehlo()
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


async def send_mail(smtp: SmtpSettings, subject: str, text: str) -> Outcome:
    """SMTP in a worker thread (the standard library's client is blocking)."""
    try:
        await asyncio.to_thread(_send_mail, smtp, subject, text)
    except smtplib.SMTPResponseException as exc:
        error = f"the SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}"[:ERROR_LIMIT]
        transient = 400 <= exc.smtp_code < 500
        return Outcome("retry" if transient else "failed", exc.smtp_code, None, error)
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(
            "failed", None, None, f"every recipient was refused: {exc.recipients!r}"[:ERROR_LIMIT]
        )
    except (UnicodeError, ValueError) as exc:  # an address or header SMTP cannot carry
        return Outcome("failed", None, None, f"the message cannot be sent: {exc}"[:ERROR_LIMIT])
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(
            "retry", None, None, f"SMTP failed ({type(exc).__name__}: {exc})"[:ERROR_LIMIT]
        )
    return Outcome("delivered", 250)
