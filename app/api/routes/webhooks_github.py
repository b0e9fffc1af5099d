"""GitHub's webhooks for the platform's GitHub App. The path is public: a delivery proves
itself with ``X-Hub-Signature-256``, an HMAC-SHA256 of the raw body under the app's webhook
secret. Each ``X-GitHub-Delivery`` is applied once; a replay is acknowledged and ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from app.api.deps import PlatformDep
from app.db.session import tenant_session
from app.services import github_app

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
logger = logging.getLogger(__name__)

EVENTS = ("installation", "installation_repositories")


class WebhookAnswer(BaseModel):
    delivery: str
    outcome: str


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@router.post(
    "/github",
    responses={404: {"description": "This platform has no GitHub App configured."}},
)
async def github_webhook(request: Request, platform: PlatformDep) -> WebhookAnswer:
    """``installation`` and ``installation_repositories`` events keep each installation's
    repositories current and mark repositories unreachable when access is removed."""
    secret = platform.settings.github_app_webhook_secret
    if secret is None:
        raise HTTPException(404, "This platform has no GitHub App configured.")
    body = await request.body()
    if not signature_ok(
        secret.get_secret_value().encode(), body, request.headers.get("X-Hub-Signature-256")
    ):
        raise HTTPException(401, "The X-Hub-Signature-256 header is missing or does not match.")
    delivery = (request.headers.get("X-GitHub-Delivery") or "").strip()
    event = (request.headers.get("X-GitHub-Event") or "").strip()
    if not delivery or not event:
        raise HTTPException(400, "X-GitHub-Delivery and X-GitHub-Event are required.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(400, "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, "The body is not a JSON object.")
    async with tenant_session(platform.sessions, None) as session:
        # One transaction: a delivery that fails part-way is not recorded, so GitHub's
        # redelivery applies it; a concurrent replay waits on the first and is then ignored.
        if not await github_app.first_delivery(session, delivery, event):
            outcome = "duplicate delivery: ignored"
        elif event in EVENTS:
            outcome = await github_app.apply_event(
                session, event, payload, platform.access.github_app
            )
        else:
            outcome = f"ignored: {event}"
        await session.commit()
    logger.info("GitHub webhook %s (%s): %s", delivery[:100], event[:100], outcome)
    return WebhookAnswer(delivery=delivery[:100], outcome=outcome)
