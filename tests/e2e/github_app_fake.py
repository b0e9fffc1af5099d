"""The fake GitHub for the browser test of the GitHub App install flow (frontend/e2e), as a
process: ``python -m tests.e2e.github_app_fake WORKDIR``.

It makes the app's key pair (the private key written to WORKDIR with mode 0600 for
``LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE``), serves ``tests.fakes.git_servers``' GitHub on
127.0.0.1 with two installations (``acme``: shop and billing; ``globex``: shop), and prints one
JSON line with what the platform is started with. Then it reads JSON commands, one a line, on
stdin, and answers each with one JSON line:

- ``{"set": {"callback_url": …, "webhook_url": …, "install_as": "owner"|"member",
  "install_target": 42}}``: configure the app's registration and who clicks on the install page;
- ``{"send": {"event": …, "payload": {…}}}``: deliver a signed webhook to the platform;
- ``{"state": true}``: what the fake saw (tokens issued, webhooks sent, requests waiting).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.git_servers import FakeServer, GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo

APP_ID = 4242
SLUG = "log-dawg-e2e"
ACME, GLOBEX = 42, 43
SETTABLE = {"callback_url", "webhook_url", "install_as", "install_target"}


def _answer(fake: FakeServer, command: dict[str, Any]) -> dict[str, Any]:
    if "set" in command:
        for key, value in command["set"].items():
            if key not in SETTABLE:
                return {"error": f"cannot set {key}"}
            setattr(fake, key, value)
        return {"ok": True}
    if "send" in command:
        status = fake.send_webhook(command["send"]["event"], command["send"]["payload"])
        return {"ok": True, "status": status}
    if "state" in command:
        return {
            "issued": len(fake.issued),
            "app_jwts": len(fake.app_jwts),
            "bad_jwts": fake.bad_jwts,
            "webhooks_sent": fake.webhooks_sent,
            "install_requests": sorted(fake.install_requests),
            # What must never show in the platform's pages or output.
            "secrets": [*fake.issued, *fake.app_jwts, *fake.user_tokens],
        }
    return {"error": "unknown command"}


def main(workdir: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "github-app.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    repo = build_sample_repo(Path(tempfile.mkdtemp(dir=workdir)))
    with serve(GitHubHandler, repo, token=None) as fake:
        fake.register_app(APP_ID, key)
        fake.installations[ACME] = {
            "account": {"login": "acme", "type": "Organization", "id": 1},
            "repositories": ["shop", "billing"],
        }
        fake.installations[GLOBEX] = {
            "account": {"login": "globex", "type": "Organization", "id": 2},
            "repositories": ["shop"],
        }
        fake.slug, fake.install_target = SLUG, ACME
        fake.client_id, fake.client_secret = "Iv1.e2e", secrets.token_hex(20)
        fake.webhook_secret = secrets.token_hex(20)
        started = {
            "url": fake.url,
            "settings": {
                "LOGDAWG_GITHUB_APP_ID": str(APP_ID),
                "LOGDAWG_GITHUB_APP_SLUG": SLUG,
                "LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE": str(key_file),
                "LOGDAWG_GITHUB_APP_WEBHOOK_SECRET": fake.webhook_secret,
                "LOGDAWG_GITHUB_APP_CLIENT_ID": fake.client_id,
                "LOGDAWG_GITHUB_APP_CLIENT_SECRET": fake.client_secret,
                "LOGDAWG_GITHUB_API_URL": fake.url,
                "LOGDAWG_GITHUB_WEB_URL": fake.url,
            },
        }
        print(json.dumps(started), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer = _answer(fake, json.loads(line))
            except Exception as exc:  # the test reads the error; the fake keeps serving
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
