"""Stand-ins for the GitHub REST API and the Azure DevOps Git REST API 7.1, served on
127.0.0.1 from a real git repository on disk.

They answer with the documented response shapes (status codes, headers, pagination by Link
header, recursive trees with ``truncated``, ETags and 304s, 401/403/404/429 with
``Retry-After`` and the ``X-RateLimit-*`` headers) and record every request, so tests can count
what a client sent. Faults are injected per test (``fail_next``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.http import serve_http

CONTENTS_LIMIT = 1024 * 1024


class Git:
    """The few plumbing commands the fakes answer from."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str) -> bytes:
        done = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, check=False
        )
        if done.returncode != 0:
            raise LookupError(done.stderr.decode(errors="replace"))
        return done.stdout

    def sha(self, ref: str) -> str | None:
        try:
            return (
                self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
            )
        except LookupError:
            return None

    def tree(self, sha: str, recursive: bool) -> list[dict[str, Any]]:
        args = ["ls-tree", "-l", "-z", *(["-r", "-t"] if recursive else []), sha]
        entries = []
        for raw in self.run(*args).split(b"\x00"):
            if not raw:
                continue
            meta, _, path = raw.partition(b"\t")
            mode, kind, obj, size = meta.decode().split()
            entry: dict[str, Any] = {"path": path.decode(), "mode": mode, "type": kind, "sha": obj}
            if kind == "blob":
                entry["size"] = int(size)
            entries.append(entry)
        return entries

    def blob(self, spec: str) -> bytes:
        return self.run("cat-file", "blob", spec)

    def commits(self, sha: str, path: str | None) -> list[dict[str, Any]]:
        fmt = "%H%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%B%x1e"
        out = self.run("log", f"--format={fmt}", sha, "--", *([path] if path else []))
        commits = []
        for record in out.decode().split("\x1e"):
            parts = record.strip("\n").split("\x1f")
            if len(parts) == 6:
                commits.append(
                    {
                        "sha": parts[0],
                        "name": parts[1],
                        "email": parts[2],
                        "date": parts[3],
                        "parents": parts[4].split(),
                        "message": parts[5].strip(),
                    }
                )
        return commits

    def files_changed(self, sha: str) -> list[str]:
        out = self.run("show", "--format=", "--name-only", sha).decode()
        return [line for line in out.splitlines() if line]

    def patch(self, sha: str, path: str) -> str:
        """The hunks of one file's diff in a commit, as GitHub's ``files[].patch`` has them."""
        out = self.run("show", "--format=", "--unified=0", "--no-color", sha, "--", path)
        text = out.decode(errors="replace")
        start = text.find("@@")
        return text[start:] if start >= 0 else ""


@dataclass
class Recorded:
    method: str
    path: str
    status: int
    conditional: bool


@dataclass
class FakeServer:
    git: Git
    token: str | None
    requests: list[Recorded] = field(default_factory=list)
    # (status, headers, body) answered instead of the real thing, one per request.
    fail_next: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    truncate_trees: bool = False
    rate_remaining: int = 5000
    # Seconds each answer takes, and the most requests seen in flight at once.
    delay_s: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    # As a GitHub App's endpoints: the app's id and public key (app JWTs are verified with it),
    # its installations (id -> account and repository names), the installation tokens it
    # issued (token -> installation, repositories, expiry), and what it saw.
    app_id: int | None = None
    app_public_key: str | None = None
    installations: dict[int, dict[str, Any]] = field(default_factory=dict)
    issued: dict[str, tuple[int, list[str] | None, float]] = field(default_factory=dict)
    token_ttl_s: float = 3600.0
    now: Any = time.time
    app_jwts: list[str] = field(default_factory=list)
    mint_bodies: list[dict[str, Any]] = field(default_factory=list)
    expired_sent: int = 0
    bad_jwts: int = 0
    # OAuth (user authorisation during installation): the app's client credentials, one-time
    # codes -> the installation ids their user can see, and the user tokens they became.
    client_id: str | None = None
    client_secret: str | None = None
    oauth_codes: dict[str, list[int]] = field(default_factory=dict)
    user_tokens: dict[str, list[int]] = field(default_factory=dict)
    # Who each code's (then token's) GitHub user is, for ``GET /user``.
    oauth_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # GitHub's install page (``/apps/{slug}/installations/new``), as a browser meets it: the
    # app's slug, its registered callback URL and webhook (URL, secret), the installation an
    # install there becomes, the person clicking (``owner`` installs, ``member`` can only
    # request), and the requests waiting for an owner (account -> requesting user).
    slug: str | None = None
    callback_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    install_target: int | None = None
    install_as: str = "owner"
    person: dict[str, Any] = field(default_factory=lambda: {"id": 5001, "login": "mona"})
    install_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks_sent: list[tuple[str, int]] = field(default_factory=list)

    def register_app(self, app_id: int, private_key: Any) -> None:
        """Act as GitHub for the app ``app_id`` whose key pair ``private_key`` (a
        ``cryptography`` RSA private key) holds: app JWTs are verified with its public half."""
        from cryptography.hazmat.primitives import serialization

        self.app_id = app_id
        self.app_public_key = (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def issue_code(self, visible: list[int], user: dict[str, Any] | None = None) -> str:
        code = secrets.token_hex(10)
        self.oauth_codes[code] = visible
        self.oauth_users[code] = user or self.person
        return code

    def send_webhook(self, event: str, payload: dict[str, Any]) -> int:
        """Deliver a webhook as GitHub does: JSON, signed with the app's webhook secret."""
        import hmac
        import urllib.error
        import urllib.request

        assert self.webhook_url and self.webhook_secret, "the app's webhook is not configured"
        body = json.dumps(payload).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 - the platform on 127.0.0.1
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": secrets.token_hex(16),
                "X-Hub-Signature-256": f"sha256={signature}",
                "User-Agent": "GitHub-Hookshot/fake",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.webhooks_sent.append((event, status))
        return status

    def approve(self, account: str) -> int:
        """An organisation owner approves the request for ``account``: the installation
        exists from now on, and GitHub sends ``installation`` ``created`` naming the
        requester. Returns the webhook's answer status."""
        requester = self.install_requests.pop(account)
        installation_id = self.install_target
        assert installation_id is not None and installation_id in self.installations
        installation = self.installations[installation_id]
        return self.send_webhook(
            "installation",
            {
                "action": "created",
                "installation": {"id": installation_id, "account": installation["account"],
                                 "app_id": self.app_id, "target_type": "Organization"},
                "repositories": [
                    {"name": n, "full_name": f"{installation['account']['login']}/{n}",
                     "private": True}
                    for n in installation["repositories"]
                ],
                "requester": requester,
                "sender": {"login": "the-owner", "id": 9},
            },
        )  # fmt: skip

    # Write-back: issues / work items created (their JSON bodies), pull request comments,
    # the pull requests each commit belongs to, and whether writes are refused (a read-only
    # token: 403, as the providers answer it).
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[int]] = field(default_factory=dict)
    read_only: bool = False
    content_types: list[str] = field(default_factory=list)

    def sent(self, conditional: bool | None = None) -> int:
        return sum(1 for r in self.requests if conditional is None or r.conditional == conditional)


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake"
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        conditional = "If-None-Match" in self.headers
        with fake.lock:
            injected = fake.fail_next.pop(0) if fake.fail_next else None
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        time.sleep(fake.delay_s)
        if injected is not None:
            status, headers, body = injected
        elif not self._authorised():
            status, headers, body = 401, {}, json.dumps({"message": "Bad credentials"}).encode()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if "form-urlencoded" in self.headers.get("Content-Type", ""):
                payload = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            else:
                payload = json.loads(raw) if raw else None
            status, headers, body = self.answer(method, unquote(url.path), query, payload)
        etag = headers.get("ETag")
        if status == 200 and etag and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        with fake.lock:
            if status != 304:
                fake.rate_remaining -= 1
            fake.requests.append(Recorded(method, self.path, status, conditional))
            remaining = fake.rate_remaining
            fake.in_flight -= 1
        self.send_response(status)
        headers.setdefault("X-RateLimit-Limit", "5000")
        headers.setdefault("X-RateLimit-Remaining", str(remaining))
        headers.setdefault("X-RateLimit-Reset", str(int(time.time()) + 3600))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        raise NotImplementedError

    def answer(
        self, method: str, path: str, query: dict[str, str], payload: Any
    ) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


def _json(value: Any, status: int = 200, etag: bool = True) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(value).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if etag:
        headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return status, headers, body


def _raw(
    body: bytes, content_type: str = "application/vnd.github.raw"
) -> tuple[int, dict[str, str], bytes]:
    return (
        200,
        {"Content-Type": content_type, "ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"'},
        body,
    )


NOT_FOUND = _json({"message": "Not Found"}, 404, etag=False)


def _page(title: str, body: str) -> tuple[int, dict[str, str], bytes]:
    html = f"<!doctype html><html lang=en><title>{title}</title><main>{body}</main></html>"
    return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()


class GitHubHandler(_Handler):
    """``/repos/{owner}/{repo}/...`` of https://docs.github.com/rest (2022-11-28)."""

    owner = "acme"
    repo = "shop"

    def _authorised(self) -> bool:
        fake = self.fake
        sent = self.headers.get("Authorization", "")
        bearer = sent.removeprefix("Bearer ") if sent.startswith("Bearer ") else None
        if self.path.startswith("/app/"):
            return bearer is not None and self._app_jwt_ok(bearer)
        if self.path.startswith("/login/oauth/"):
            return True  # the client authenticates in the body
        if self.path.startswith(("/apps/", "/_owner/")):
            return True  # pages a person's browser opens
        if self.path == "/user" or self.path.startswith("/user/"):
            return bearer is not None and bearer in fake.user_tokens
        if bearer is not None and bearer in fake.issued:
            installation_id, repos, expires = fake.issued[bearer]
            if fake.now() >= expires:
                with fake.lock:
                    fake.expired_sent += 1
                return False
            if installation_id not in fake.installations:
                return False
            return (
                self.path.startswith(("/installation/", "/graphql"))
                or repos is None
                or self.path.startswith(tuple(f"/repos/{self.owner}/{r}/" for r in repos))
            )
        token = fake.token
        return token is None or sent == f"Bearer {token}"

    def _app_jwt_ok(self, token: str) -> bool:
        """An app JWT as GitHub checks it: RS256 with the app's key, ``iss`` the app id,
        issued in the past, expiring within 10 minutes of issue."""
        import jwt

        fake = self.fake
        try:
            claims = jwt.decode(
                token,
                fake.app_public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError:
            claims = None
        ok = (
            claims is not None
            and str(claims["iss"]) == str(fake.app_id)
            and claims["iat"] <= time.time()
            and claims["exp"] - claims["iat"] <= 600
        )
        with fake.lock:
            fake.app_jwts.append(token)
            fake.bad_jwts += 0 if ok else 1
        return ok

    def _oauth(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """GitHub answers 200 with an ``error`` for a bad code or client (JSON requested)."""
        fake = self.fake
        if (form.get("client_id"), form.get("client_secret")) != (
            fake.client_id,
            fake.client_secret,
        ):
            return _json({"error": "incorrect_client_credentials"}, etag=False)
        with fake.lock:
            visible = fake.oauth_codes.pop(form.get("code", ""), None)  # one-time
        if visible is None:
            return _json({"error": "bad_verification_code"}, etag=False)
        token = f"ghu_{secrets.token_hex(18)}"
        fake.user_tokens[token] = visible
        fake.token_users[token] = fake.oauth_users.pop(form.get("code", ""), fake.person)
        return _json({"access_token": token, "token_type": "bearer", "scope": ""}, etag=False)

    def _app(self, method: str, path: str, query: dict[str, str], payload: Any) -> Any:
        fake = self.fake
        if m := re.fullmatch(r"/app/installations/(\d+)/access_tokens", path):
            installation = fake.installations.get(int(m.group(1)))
            if method != "POST" or installation is None:
                return NOT_FOUND
            body = payload or {}
            fake.mint_bodies.append(body)
            repos = body.get("repositories")
            if repos is not None and not set(repos) <= set(installation["repositories"]):
                return _json({"message": "There is at least one repository that does not "
                              "exist or is not accessible to the parent installation."},
                             422, False)  # fmt: skip
            token = f"ghs_{secrets.token_hex(18)}"
            expires = fake.now() + fake.token_ttl_s
            fake.issued[token] = (int(m.group(1)), repos, expires)
            stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return _json(
                {
                    "token": token,
                    "expires_at": stamp,
                    "permissions": body.get("permissions") or {"contents": "read"},
                    "repository_selection": "selected",
                },
                201,
                False,
            )
        if m := re.fullmatch(r"/app/installations/(\d+)", path):
            installation = fake.installations.get(int(m.group(1)))
            if installation is None:
                return NOT_FOUND
            return _json({"id": int(m.group(1)), "account": installation["account"],
                          "app_id": fake.app_id}, etag=False)  # fmt: skip
        if path == "/installation/repositories":
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in fake.issued:
                return _json({"message": "Bad credentials"}, 401, False)
            installation_id = fake.issued[bearer][0]
            names = fake.installations[installation_id]["repositories"]
            per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
            account = fake.installations[installation_id]["account"]
            chosen = names[(page - 1) * per_page : page * per_page]
            return _json(
                {
                    "total_count": len(names),
                    "repositories": [
                        {
                            "id": 1000 + names.index(n),
                            "name": n,
                            "full_name": f"{account['login']}/{n}",
                            "owner": {"login": account["login"]},
                            "default_branch": "main",
                            "private": True,
                        }
                        for n in chosen
                    ],
                },
                etag=False,
            )
        return NOT_FOUND

    def answer(
        self, method: str, path: str, query: dict[str, str], payload: Any
    ) -> tuple[int, dict[str, str], bytes]:
        if path == "/graphql" and method == "POST":
            return self._graphql(payload)
        if path == "/login/oauth/access_token" and method == "POST":
            return self._oauth(payload or {})
        if path == "/user":
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            return _json(self.fake.token_users.get(bearer, self.fake.person), etag=False)
        if path.startswith("/apps/"):
            return self._install_page(method, path, query, payload or {})
        if m := re.fullmatch(r"/_owner/approve/([A-Za-z0-9-]+)", path):
            if m.group(1) not in self.fake.install_requests:
                return _json({"message": "no request for this account"}, 404, False)
            status = self.fake.approve(m.group(1))
            return _page("Approved", f"<p>Approved; the webhook was answered {status}.</p>")
        if path == "/user/installations":
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            visible = self.fake.user_tokens[bearer]
            return _json(
                {
                    "total_count": len(visible),
                    "installations": [
                        {"id": i, "account": self.fake.installations[i]["account"]}
                        for i in visible
                        if i in self.fake.installations
                    ],
                },
                etag=False,
            )
        if path.startswith(("/app/", "/installation/")):
            answer: tuple[int, dict[str, str], bytes] = self._app(method, path, query, payload)
            return answer
        prefix = f"/repos/{self.owner}/{self.repo}/"
        if not path.startswith(prefix):
            return NOT_FOUND
        rest = path[len(prefix) :]
        git = self.fake.git
        if written := self._write(method, rest, payload, query):
            return written
        if m := re.fullmatch(r"commits/(.+)", rest):
            sha = git.sha(m.group(1))
            if sha is None:
                return _json({"message": f"No commit found for SHA: {m.group(1)}"}, 422, False)
            if "vnd.github.sha" in self.headers.get("Accept", ""):
                return _raw(sha.encode(), "application/vnd.github.sha")
            return _json(self._commit(sha, detail=True))
        if rest == "commits":
            return self._commit_list(query)
        if m := re.fullmatch(r"git/trees/([0-9a-f]{40})", rest):
            return self._tree(m.group(1), query.get("recursive") == "1")
        if m := re.fullmatch(r"git/blobs/([0-9a-f]{40})", rest):
            try:
                return _raw(git.run("cat-file", "blob", m.group(1)))
            except LookupError:
                return NOT_FOUND
        if m := re.fullmatch(r"contents/(.+)", rest):
            sha = git.sha(query.get("ref", "HEAD"))
            try:
                content = git.blob(f"{sha}:{m.group(1)}")
            except LookupError:
                return NOT_FOUND
            if len(content) > CONTENTS_LIMIT:
                return _json(
                    {
                        "message": "This API returns blobs up to 1 MB in size. The requested "
                        "blob is too large to fetch via this API; use the Git Data API.",
                        "errors": [{"resource": "Blob", "field": "data", "code": "too_large"}],
                    },
                    403,
                    False,
                )
            return _raw(content)
        return NOT_FOUND

    def _install_page(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """``/apps/{slug}/installations/new?state=…``: GitHub's install page. An owner installs
        (the browser goes to the callback URL with ``installation_id``, ``setup_action=install``,
        the ``state`` and an authorisation ``code``); a member may only request it
        (``setup_action=request``, no installation id)."""
        fake = self.fake
        if path != f"/apps/{fake.slug}/installations/new" or fake.install_target is None:
            return NOT_FOUND
        installation = fake.installations[fake.install_target]
        account = installation["account"]["login"]
        if method == "GET":
            state = query.get("state", "")
            verb = "Install" if fake.install_as == "owner" else "Request"
            body = (
                f"<h1>{verb} {fake.slug}</h1><p>on <strong>{account}</strong>, "
                f"repositories: {', '.join(installation['repositories'])}</p>"
                f'<form method="post"><input type="hidden" name="state" value="{state}">'
                f'<button type="submit">{verb}</button></form>'
            )
            return _page(f"{verb} {fake.slug}", body)
        if method != "POST" or not fake.callback_url:
            return NOT_FOUND
        state = form.get("state", "")
        if fake.install_as == "owner":
            code = fake.issue_code([fake.install_target])
            params = {"installation_id": str(fake.install_target), "setup_action": "install"}
        else:
            code = fake.issue_code([])
            fake.install_requests[account] = dict(fake.person)
            params = {"setup_action": "request"}
        target = f"{fake.callback_url}?{urlencode({**params, 'state': state, 'code': code})}"
        return 302, {"Location": target}, b""

    def _write(
        self, method: str, rest: str, payload: Any, query: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        """Issues (created, and listed newest first as ``sort=created&direction=desc``), the
        pull requests of a commit, and issue/pull request comments."""
        fake, web = self.fake, f"https://github.com/{self.owner}/{self.repo}"
        forbidden = _json(
            {"message": "Resource not accessible by personal access token",
             "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
             "status": "403"}, 403, etag=False,
        )  # fmt: skip
        if rest == "issues" and method == "GET":
            assert (query.get("sort"), query.get("direction")) == ("created", "desc"), query
            per_page = min(int(query.get("per_page", "30")), 100)
            with fake.lock:
                newest = list(reversed(fake.issues))[:per_page]
            return _json(
                [{"id": 1000 + i["number"], "number": i["number"], "title": i.get("title"),
                  "body": i.get("body"), "state": "open",
                  "html_url": f"{web}/issues/{i['number']}"} for i in newest],
                etag=False,
            )  # fmt: skip
        if rest == "issues" and method == "POST":
            if fake.read_only:
                return forbidden
            if not isinstance(payload, dict) or not payload.get("title"):
                return _json({"message": "Validation Failed"}, 422, etag=False)
            with fake.lock:
                number = len(fake.issues) + 1
                fake.issues.append({"number": number, **payload})
            return _json(
                {"id": 1000 + number, "number": number, "title": payload["title"],
                 "body": payload.get("body"), "state": "open",
                 "html_url": f"{web}/issues/{number}",
                 "url": f"{self.fake.url}/repos/{self.owner}/{self.repo}/issues/{number}"},
                201, etag=False,
            )  # fmt: skip
        if (m := re.fullmatch(r"commits/([0-9a-f]{40})/pulls", rest)) and method == "GET":
            pulls = [
                {"number": n, "state": "closed", "merged_at": "2026-11-20T10:00:00Z",
                 "html_url": f"{web}/pull/{n}"}
                for n in fake.pulls.get(m.group(1), [])
            ]  # fmt: skip
            return _json(pulls, etag=False)
        if (m := re.fullmatch(r"issues/(\d+)/comments", rest)) and method == "POST":
            if fake.read_only:
                return forbidden
            with fake.lock:
                comment_id = 5000 + len(fake.comments)
                fake.comments.append({"number": int(m.group(1)), **(payload or {})})
            return _json(
                {"id": comment_id, "body": (payload or {}).get("body"),
                 "html_url": f"{web}/pull/{m.group(1)}#issuecomment-{comment_id}"},
                201, etag=False,
            )  # fmt: skip
        return None

    def _graphql(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """The ``repository.object(expression).blame(path).ranges`` query of GitHub's GraphQL
        API, answered from ``git blame --porcelain``."""
        variables = payload.get("variables") or {}
        if "blame(path:" not in payload.get("query", "") or variables.get("name") != self.repo:
            return _json({"data": {"repository": None}, "errors": [{"type": "NOT_FOUND"}]}, 200)
        git = self.fake.git
        try:
            out = git.run("blame", "--porcelain", variables["expr"], "--", variables["path"])
        except LookupError:
            return _json({"data": {"repository": {"object": None}}})
        ranges: list[dict[str, Any]] = []
        meta: dict[str, dict[str, str]] = {}
        current = ""
        for row in out.decode(errors="replace").splitlines():
            head = re.fullmatch(r"([0-9a-f]{40}) \d+ (\d+) (\d+)", row)
            if head:
                current, start, count = head.group(1), int(head.group(2)), int(head.group(3))
                ranges.append({"startingLine": start, "endingLine": start + count - 1,
                               "sha": current})  # fmt: skip
            elif re.fullmatch(r"[0-9a-f]{40} \d+ \d+", row):
                continue
            elif not row.startswith("\t") and current:
                key, _, value = row.partition(" ")
                meta.setdefault(current, {})[key] = value
        info = {c["sha"]: c for c in git.commits(variables["expr"], None)}
        answer = [
            {
                "startingLine": r["startingLine"],
                "endingLine": r["endingLine"],
                "commit": {
                    "oid": r["sha"],
                    "messageHeadline": meta.get(r["sha"], {}).get("summary", ""),
                    "committedDate": info.get(r["sha"], {}).get("date"),
                    "url": f"https://github.com/{self.owner}/{self.repo}/commit/{r['sha']}",
                    "author": {"name": meta.get(r["sha"], {}).get("author"), "email": None},
                },
            }
            for r in ranges
        ]
        repository = {"object": {"blame": {"ranges": answer}}}
        return _json({"data": {"repository": repository}})

    def _commit(self, sha: str, detail: bool) -> dict[str, Any]:
        git = self.fake.git
        info = next(c for c in git.commits(sha, None) if c["sha"] == sha)
        item: dict[str, Any] = {
            "sha": sha,
            "commit": {
                "author": {"name": info["name"], "email": info["email"], "date": info["date"]},
                "committer": {"name": info["name"], "email": info["email"], "date": info["date"]},
                "message": info["message"],
            },
            "html_url": f"https://github.com/{self.owner}/{self.repo}/commit/{sha}",
            "parents": [{"sha": p} for p in info["parents"]],
        }
        if detail:
            item["files"] = [
                {"filename": f, "status": "modified", "patch": git.patch(sha, f)}
                for f in git.files_changed(sha)
            ]
        return item

    def _commit_list(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        git = self.fake.git
        sha = git.sha(query.get("sha", "HEAD"))
        if sha is None:
            return NOT_FOUND
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        commits = git.commits(sha, query.get("path"))
        chunk = commits[(page - 1) * per_page : page * per_page]
        status, headers, body = _json([self._commit(c["sha"], detail=False) for c in chunk])
        if page * per_page < len(commits):
            next_query = {**query, "page": str(page + 1)}
            encoded = "&".join(f"{k}={v}" for k, v in next_query.items())
            headers["Link"] = (
                f'<{self.fake.url}/repos/{self.owner}/{self.repo}/commits?{encoded}>; rel="next"'
            )
        return status, headers, body

    def _tree(self, sha: str, recursive: bool) -> tuple[int, dict[str, str], bytes]:
        git = self.fake.git
        try:
            entries = git.tree(sha, recursive)
        except LookupError:
            return NOT_FOUND
        truncated = recursive and self.fake.truncate_trees
        if truncated:
            entries = entries[: max(len(entries) // 3, 1)]
        return _json({"sha": sha, "url": "", "tree": entries, "truncated": truncated})


class AzureDevOpsHandler(_Handler):
    """``/{organization}/{project}/_apis/git/repositories/{repo}/...`` of Azure DevOps
    Services REST API 7.1."""

    org = "contoso"
    project = "Shop"
    repo = "shop"

    def _authorised(self) -> bool:
        token = self.fake.token
        if token is None:
            return True
        sent = self.headers.get("Authorization", "")
        # Entra ID tokens a test's credential issued (token -> (0, None, expiry)).
        if sent.startswith("Bearer ") and sent[7:] in self.fake.issued:
            if self.fake.now() >= self.fake.issued[sent[7:]][2]:
                with self.fake.lock:
                    self.fake.expired_sent += 1
                return False
            return True
        basic = base64.b64encode(f":{token}".encode()).decode()
        return sent in (f"Basic {basic}", f"Bearer {token}")

    def answer(
        self, method: str, path: str, query: dict[str, str], payload: Any
    ) -> tuple[int, dict[str, str], bytes]:
        fake = self.fake
        if path == f"/{self.org}/{self.project}/_apis/wit/workitems/$Bug" and method == "POST":
            return self._work_item(query, payload)
        if path == f"/{self.org}/{self.project}/_apis/wit/wiql" and method == "POST":
            return self._wiql(query, payload)
        if path == f"/{self.org}/{self.project}/_apis/wit/workitems" and method == "GET":
            wanted = {int(i) for i in query.get("ids", "").split(",") if i}
            assert query.get("$expand") == "all", query
            items = [
                {"id": w["id"], "rev": 1, "fields": w["fields"], "relations": w["relations"],
                 "_links": {"html": {"href": f"https://dev.azure.com/{self.org}/"
                                             f"{self.project}/_workitems/edit/{w['id']}"}}}
                for w in fake.issues if w["id"] in wanted
            ]  # fmt: skip
            return _json({"count": len(items), "value": items}, etag=False)
        prefix = f"/{self.org}/{self.project}/_apis/git/repositories/{self.repo}"
        if path == f"{prefix}/pullrequestquery" and method == "POST":
            found = {
                sha: [{"pullRequestId": n, "status": "completed"} for n in fake.pulls.get(sha, [])]
                for q in payload.get("queries", []) if q.get("type") == "commit"
                for sha in q.get("items", [])
            }  # fmt: skip
            return _json({"queries": payload.get("queries"), "results": [found]}, etag=False)
        if (m := re.fullmatch(re.escape(prefix) + r"/pullRequests/(\d+)/threads", path)) and (
            method == "POST"
        ):
            if fake.read_only:
                return _json({"message": "TF401027: You need the Git 'Contribute to pull "
                              "requests' permission."}, 403, etag=False)  # fmt: skip
            with fake.lock:
                fake.comments.append({"pull": int(m.group(1)), **payload})
                thread_id = len(fake.comments)
            return _json({"id": thread_id, "comments": payload.get("comments"), "status": 1},
                         etag=False)  # fmt: skip
        if not path.startswith(prefix):
            return _json({"message": "TF401019: The Git repository does not exist."}, 404, False)
        rest = path[len(prefix) :]
        version = query.get("api-version")
        expected = "7.1-preview.1" if rest == "/filediffs" else "7.1"
        if version != expected:
            return _json({"message": f"api-version {version} is not supported"}, 400, False)
        git = self.fake.git
        if rest == "/refs":
            kind, _, name = query.get("filter", "").partition("/")
            sha = git.sha(f"refs/{kind}/{name}") if name else None
            value = [{"name": f"refs/{kind}/{name}", "objectId": sha}] if sha else []
            return _json({"value": value, "count": len(value)})
        if rest == "/items":
            sha = git.sha(query.get("versionDescriptor.version", "HEAD"))
            if sha is None:
                return _json(
                    {"message": "TF401175: The version descriptor could not be resolved."},
                    404,
                    False,
                )
            if query.get("recursionLevel") == "Full":
                items = [{"objectId": sha, "gitObjectType": "tree", "path": "/", "isFolder": True}]
                items += [
                    {
                        "objectId": e["sha"],
                        "gitObjectType": e["type"],
                        "commitId": sha,
                        "path": "/" + e["path"],
                        **({"isFolder": True} if e["type"] == "tree" else {}),
                    }
                    for e in git.tree(sha, recursive=True)
                ]
                return _json({"count": len(items), "value": items})
            try:
                content = git.blob(f"{sha}:{query.get('path', '').lstrip('/')}")
            except LookupError:
                return _json({"message": "TF401174: The item could not be found."}, 404, False)
            return _raw(content, "application/octet-stream")
        if rest == "/commits":
            sha = git.sha(query.get("searchCriteria.itemVersion.version", "HEAD"))
            if sha is None:
                return NOT_FOUND
            path = query.get("searchCriteria.itemPath", "").lstrip("/") or None
            top = int(query.get("searchCriteria.$top", "100"))
            commits = git.commits(sha, path)[:top]
            value = [self._commit(c) for c in commits]
            return _json({"count": len(value), "value": value})
        if m := re.fullmatch(r"/commits/([0-9a-f]{40})", rest):
            found = [c for c in git.commits(m.group(1), None) if c["sha"] == m.group(1)]
            return _json(self._commit(found[0])) if found else NOT_FOUND
        if m := re.fullmatch(r"/commits/([0-9a-f]{40})/changes", rest):
            changes = [
                {"item": {"gitObjectType": "blob", "path": "/" + f}, "changeType": "edit"}
                for f in git.files_changed(m.group(1))
            ]
            return _json({"changeCounts": {"Edit": len(changes)}, "changes": changes})
        if rest == "/filediffs" and method == "POST":
            return self._file_diffs(payload)
        return NOT_FOUND

    def _work_item(self, query: dict[str, str], patch: Any) -> tuple[int, dict[str, str], bytes]:
        """Work Items - Create (7.1): a JSON Patch document, under its own media type."""
        fake = self.fake
        content_type = self.headers.get("Content-Type", "")
        fake.content_types.append(content_type)
        if query.get("api-version") != "7.1":
            return _json({"message": "api-version 7.1 is required"}, 400, etag=False)
        if not content_type.startswith("application/json-patch+json"):
            return _json({"message": "VS402834: the body must be a JSON Patch document"}, 415,
                         etag=False)  # fmt: skip
        if fake.read_only:
            return _json({"message": "TF401027: You need the Work Items (Read & write) scope."},
                         403, etag=False)  # fmt: skip
        fields = {op["path"].removeprefix("/fields/"): op["value"] for op in patch
                  if op.get("op") == "add" and op["path"].startswith("/fields/")}  # fmt: skip
        relations = [op["value"] for op in patch if op.get("path") == "/relations/-"]
        with fake.lock:
            number = 100 + len(fake.issues)
            fake.issues.append({"id": number, "fields": fields, "relations": relations,
                                "patch": patch})  # fmt: skip
        web = f"https://dev.azure.com/{self.org}/{self.project}/_workitems/edit/{number}"
        return _json(
            {"id": number, "rev": 1, "fields": fields, "relations": relations,
             "_links": {"html": {"href": web}},
             "url": f"https://dev.azure.com/{self.org}/_apis/wit/workItems/{number}"},
            200, etag=False,
        )  # fmt: skip

    def _wiql(self, query: dict[str, str], payload: Any) -> tuple[int, dict[str, str], bytes]:
        """The one query write-back runs: the project's work items tagged ``logdawg``, newest
        first (a flat WorkItemQueryResult)."""
        text = str((payload or {}).get("query", ""))
        assert "[System.Tags] CONTAINS 'logdawg'" in text and "DESC" in text, text
        top = int(query.get("$top", "200"))
        with self.fake.lock:
            tagged = [(w, str(w["fields"].get("System.Tags", ""))) for w in self.fake.issues]
        ours = [w for w, tags in tagged if "logdawg" in tags.split("; ")]
        newest = sorted(ours, key=lambda w: w["id"], reverse=True)[:top]
        return _json(
            {"queryType": "flat", "queryResultType": "workItem", "asOf": "2026-12-01T00:00:00Z",
             "workItems": [{"id": w["id"], "url": f"https://dev.azure.com/{self.org}/_apis/wit/"
                                                 f"workItems/{w['id']}"} for w in newest]},
            etag=False,
        )  # fmt: skip

    def _commit(self, c: dict[str, Any]) -> dict[str, Any]:
        person = {"name": c["name"], "email": c["email"], "date": c["date"]}
        return {
            "commitId": c["sha"],
            "author": person,
            "committer": person,
            "comment": c["message"],
            "parents": c["parents"],
            "remoteUrl": f"https://dev.azure.com/{self.org}/{self.project}/_git/{self.repo}/commit/{c['sha']}",
        }

    def _file_diffs(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        git = self.fake.git
        target = payload["targetVersionCommit"]
        diffs = []
        for param in payload["fileDiffParams"]:
            path = param["path"].lstrip("/")
            blocks = []
            for m in re.finditer(
                r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", git.patch(target, path), re.M
            ):
                blocks.append(
                    {
                        "changeType": "edit",
                        "originalLineNumberStart": int(m.group(1)),
                        "originalLinesCount": int(m.group(2) or 1),
                        "modifiedLineNumberStart": int(m.group(3)),
                        "modifiedLinesCount": int(m.group(4) or 1),
                    }
                )
            diffs.append(
                {"path": param["path"], "originalPath": param["path"], "lineDiffBlocks": blocks}
            )
        return _json(diffs)


@contextmanager
def serve(
    handler: type[_Handler], repo: Path, token: str | None = "t0k3n-secret"
) -> Iterator[FakeServer]:
    fake = FakeServer(Git(repo), token)
    bound = type(f"Bound{handler.__name__}", (handler,), {"fake": fake})
    with serve_http(bound) as url:
        fake.url = url
        yield fake
