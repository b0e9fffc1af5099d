"""Repositories read without personal tokens, through the API: the GitHub App's install flow
and webhooks against the fake GitHub (acting as GitHub's app endpoints), and Azure DevOps with
Entra ID tokens from fake azure-identity credentials. Every response and log line of the flow
is searched for the private key, app JWTs, installation tokens and secrets."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import update

from app.bootstrap import Platform
from app.db.models import GitHubInstallState
from app.db.session import tenant_session
from app.git.tokens import GitHubApp
from app.main import create_app
from app.services.repository_access import RepositoryAccess, ServicePrincipalFields
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo
from tests.integration.conftest import Tenancy, multi_tenant_platform

pytestmark = pytest.mark.integration

APP_ID = 424242
SLUG = "log-dawg-test"
WEBHOOK_SECRET = "whsec-" + "k" * 30
CLIENT_SECRET = "oauth-" + "c" * 30
ACME, EVIL = 42, 77


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def github(tmp_path: Path, app_key: rsa.RSAPrivateKey) -> Iterator[FakeServer]:
    with serve(GitHubHandler, build_sample_repo(tmp_path), token="no-pat-here") as fake:
        fake.register_app(APP_ID, app_key)
        fake.installations[ACME] = {
            "account": {"login": "acme", "type": "Organization", "id": 1},
            "repositories": ["shop", "billing"],
        }
        fake.client_id, fake.client_secret = "Iv1.test", CLIENT_SECRET
        fake.installations[EVIL] = {
            "account": {"login": "evil-corp", "type": "Organization", "id": 2},
            "repositories": ["loot"],
        }
        yield fake


@dataclass
class Seen:
    """Every response body the test received: searched for secrets at the end."""

    texts: list[str] = field(default_factory=list)

    def add(self, response: httpx.Response) -> httpx.Response:
        self.texts.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response


@pytest.fixture
async def gh(
    platform: Platform, github: FakeServer, app_key: rsa.RSAPrivateKey
) -> AsyncIterator[Tenancy]:
    key_pem = pem(app_key)
    mt = multi_tenant_platform(
        platform,
        github_app_id=APP_ID,
        github_app_slug=SLUG,
        github_app_private_key=SecretStr(key_pem),
        github_app_webhook_secret=SecretStr(WEBHOOK_SECRET),
        github_api_url=github.url,
        github_app_client_id="Iv1.test",
        github_app_client_secret=SecretStr(CLIENT_SECRET),
    )
    app_ = GitHubApp(
        app_id=APP_ID,
        private_key_pem=key_pem,
        api_url=github.url,
        web_url=github.url,
        client_id="Iv1.test",
        client_secret=CLIENT_SECRET,
    )
    mt = dataclasses.replace(mt, access=RepositoryAccess(github_app=app_))
    app = create_app(platform=mt)
    app.state.test_github = github
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        yield Tenancy(client=c, app=app, platform=mt)


async def new_org(t: Tenancy, email: str, name: str) -> dict[str, str]:
    created = await t.client.post("/api/v1/orgs", json={"name": name}, headers=t.person(email))
    assert created.status_code == 201, created.text
    return t.person(email, created.json()["id"])


def state_of(install_url: str) -> str:
    parts = urlsplit(install_url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "github.com",
        f"/apps/{SLUG}/installations/new",
    )
    return parse_qs(parts.query)["state"][0]


def oauth_code(github: FakeServer, *visible: int) -> str:
    """The code GitHub adds to the redirect for a user who can see ``visible``."""
    code = uuid.uuid4().hex[:20]
    github.oauth_codes[code] = list(visible)
    return code


async def install(
    t: Tenancy, owner: dict[str, str], installation: int, account: str, code: str | None = None
) -> Any:
    started = await t.client.post(
        "/api/v1/github-app/install", json={"account": account}, headers=owner
    )
    assert started.status_code == 201, started.text
    state = state_of(started.json()["install_url"])
    github: FakeServer = t.app.state.test_github
    return await t.client.post(
        "/api/v1/github-app/callback",
        json={"installation_id": installation, "state": state, "setup_action": "install",
              "code": code or oauth_code(github, installation)},
        headers=owner,
    )  # fmt: skip


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(
    t: Tenancy, event: str, payload: dict[str, Any], *, delivery: str | None = None,
    signature: str | None = "good",
) -> httpx.Response:  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if signature == "good":
        headers["X-Hub-Signature-256"] = signed(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await t.client.post("/api/v1/webhooks/github", content=body, headers=headers)


async def test_install_register_read_and_webhooks_leak_no_secret(
    gh: Tenancy, github: FakeServer, app_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t, seen = gh, Seen()
    owner = await new_org(t, "owner@acme.example", "acme")

    done = seen.add(await install(t, owner, ACME, "acme"))
    assert done.status_code == 201, done.text
    detail = done.json()
    assert detail["account_login"] == "acme"
    assert [g["full_name"] for g in detail["granted"]] == ["acme/shop", "acme/billing"]
    assert not any(g["registered"] for g in detail["granted"])

    # One step: register what the installation grants; it is read through the app.
    registered = seen.add(
        await t.client.post(
            f"/api/v1/github-app/installations/{detail['id']}/repositories",
            json={"repositories": [{"full_name": "acme/shop"}]},
            headers=owner,
        )
    )
    assert registered.status_code == 201, registered.text
    (repo,) = registered.json()
    assert (repo["auth_kind"], repo["has_credential"]) == ("github_app", False)
    refused = seen.add(
        await t.client.post(
            f"/api/v1/github-app/installations/{detail['id']}/repositories",
            json={"repositories": [{"full_name": "acme/secret-plans"}]},
            headers=owner,
        )
    )
    assert refused.status_code == 422 and "does not grant" in refused.json()["detail"]

    tested = seen.add(await t.client.post(f"/api/v1/repositories/{repo['id']}/test", headers=owner))
    assert tested.json()["ok"] is True, tested.text
    assert github.mint_bodies[-1]["repositories"] == ["shop"]
    assert github.bad_jwts == 0 and github.expired_sent == 0

    listed = seen.add(
        await t.client.get(
            f"/api/v1/github-app/installations/{detail['id']}/repositories", headers=owner
        )
    )
    assert {g["full_name"]: g["registered"] for g in listed.json()} == {
        "acme/shop": True,
        "acme/billing": False,
    }

    # Webhook: the repository is taken out of the installation.
    removed = {
        "action": "removed",
        "installation": {"id": ACME, "account": {"login": "acme"}},
        "repositories_removed": [{"full_name": "acme/shop", "name": "shop"}],
        "repositories_added": [],
    }
    delivery = str(uuid.uuid4())
    first = seen.add(await deliver(t, "installation_repositories", removed, delivery=delivery))
    assert first.status_code == 200, first.text
    assert "1 marked unreachable" in first.json()["outcome"]
    after = (await t.client.get(f"/api/v1/repositories/{repo['id']}", headers=owner)).json()
    assert "removed from the GitHub App's installation" in after["unreachable_reason"]
    (installation,) = (await t.client.get("/api/v1/github-app/installations", headers=owner)).json()
    assert installation["repositories"] == ["acme/billing"]

    # The same delivery id again (whatever its body) is acknowledged and changes nothing.
    added_back = {**removed, "action": "added", "repositories_removed": [],
                  "repositories_added": [{"full_name": "acme/shop"}]}  # fmt: skip
    replay = seen.add(await deliver(t, "installation_repositories", added_back, delivery=delivery))
    assert replay.status_code == 200 and "duplicate" in replay.json()["outcome"]
    again = (await t.client.get(f"/api/v1/repositories/{repo['id']}", headers=owner)).json()
    assert again["unreachable_reason"] == after["unreachable_reason"]

    # A new delivery adding it back makes it reachable again.
    back = seen.add(await deliver(t, "installation_repositories", added_back))
    assert back.status_code == 200
    reachable = (await t.client.get(f"/api/v1/repositories/{repo['id']}", headers=owner)).json()
    assert reachable["unreachable_reason"] is None

    # Uninstalled: every repository of the installation is marked, and reading says why.
    gone = seen.add(
        await deliver(t, "installation", {"action": "deleted", "installation": {"id": ACME}})
    )
    assert "1 repositories marked unreachable" in gone.json()["outcome"]
    marked = (await t.client.get(f"/api/v1/repositories/{repo['id']}", headers=owner)).json()
    assert "uninstalled" in marked["unreachable_reason"]
    check = seen.add(await t.client.post(f"/api/v1/repositories/{repo['id']}/test", headers=owner))
    assert check.json()["problem"] == "access_removed", check.text

    # A customer's service principal certificate (and a refused one) is sealed, not echoed.
    cert_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reader")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(cert_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .sign(cert_key, hashes.SHA256())
    )  # fmt: skip
    cert_pem = pem(cert_key) + cert.public_bytes(serialization.Encoding.PEM).decode()
    principal = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4())}
    ado = {"provider": "azure_devops", "owner": "contoso", "project": "Shop", "name": "shop",
           "auth": "azure_service_principal"}  # fmt: skip
    for certificate, expected in ((pem(cert_key), 422), (cert_pem, 201)):
        sent = seen.add(
            await t.client.post(
                "/api/v1/repositories",
                json={**ado, "service_principal": {**principal, "certificate": certificate}},
                headers=owner,
            )
        )
        assert sent.status_code == expected, sent.text

    # Nothing secret anywhere: not the key, an app JWT, an installation token, the secret,
    # a certificate's private key.
    secrets = [
        *[line for line in cert_pem.splitlines() if "-----" not in line and len(line) > 16],
        *pem(app_key).splitlines()[1:-1],
        *github.app_jwts,
        *github.issued,
        *github.user_tokens,
        WEBHOOK_SECRET,
        CLIENT_SECRET,
    ]
    assert len(github.app_jwts) >= 3 and len(github.issued) >= 2
    output = "\n".join(seen.texts) + "\n" + caplog.text
    leaked = [s[:12] for s in secrets if s in output]
    assert leaked == [], f"secrets in responses or logs: {leaked}"
    assert github.user_tokens, "the callback asked GitHub who the person is"
    assert "ghs_" not in output and "ghu_" not in output and "eyJ" not in output


async def test_the_callback_checks_state_account_person_and_organisation(
    gh: Tenancy, github: FakeServer
) -> None:
    t = gh
    owner = await new_org(t, "owner@acme.example", "acme")

    # The installation is on another account than the one chosen: refused, nothing stored.
    wrong = await install(t, owner, EVIL, "acme")
    assert wrong.status_code == 422 and "'evil-corp', not 'acme'" in wrong.json()["detail"]
    assert (await t.client.get("/api/v1/github-app/installations", headers=owner)).json() == []

    # A state is used once.
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=owner)
    state = state_of(started.json()["install_url"])
    body = {"installation_id": ACME, "state": state, "code": oauth_code(github, ACME)}
    first = await t.client.post("/api/v1/github-app/callback", json=body, headers=owner)
    assert first.status_code == 201
    replay = await t.client.post("/api/v1/github-app/callback", json=body, headers=owner)
    assert replay.status_code == 422 and "already used" in replay.json()["detail"]

    # A state belongs to its organisation: the same person's other organisation cannot use it.
    other = await new_org(t, "owner@acme.example", "acme-two")
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=owner)
    state = state_of(started.json()["install_url"])
    foreign = await t.client.post(
        "/api/v1/github-app/callback",
        json={"installation_id": ACME, "state": state, "code": oauth_code(github, ACME)},
        headers=other,
    )
    assert foreign.status_code == 422 and "unknown" in foreign.json()["detail"]

    # An expired state is refused.
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=owner)
    state = state_of(started.json()["install_url"])
    org_id = uuid.UUID(owner["X-Logdawg-Org"])
    async with tenant_session(t.platform.sessions, org_id) as session:
        await session.execute(
            update(GitHubInstallState)
            .where(GitHubInstallState.used_at.is_(None))
            .values(expires_at=GitHubInstallState.created_at)
        )
        await session.commit()
    expired = await t.client.post(
        "/api/v1/github-app/callback",
        json={"installation_id": ACME, "state": state, "code": oauth_code(github, ACME)},
        headers=owner,
    )
    assert expired.status_code == 422 and "expired" in expired.json()["detail"]

    # An installation connected to one organisation cannot be claimed by another.
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=other)
    claimed = await t.client.post(
        "/api/v1/github-app/callback",
        json={"installation_id": ACME, "state": state_of(started.json()["install_url"]),
              "code": oauth_code(github, ACME)},
        headers=other,
    )  # fmt: skip
    assert claimed.status_code == 409, claimed.text


async def test_a_person_cannot_connect_an_installation_they_cannot_see(
    gh: Tenancy, github: FakeServer
) -> None:
    """The state alone does not prove the installation is yours: anyone can name any
    installation id. GitHub's user authorisation during installation does."""
    t = gh
    intruder = await new_org(t, "owner@intruder.example", "intruder")
    # The intruder's GitHub user sees only their own installation (EVIL), and names ACME's.
    stolen = await install(t, intruder, ACME, "acme", code=oauth_code(github, EVIL))
    assert stolen.status_code == 422 and "cannot see" in stolen.json()["detail"]
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=intruder)
    no_code = await t.client.post(
        "/api/v1/github-app/callback",
        json={"installation_id": ACME, "state": state_of(started.json()["install_url"])},
        headers=intruder,
    )
    assert no_code.status_code == 422 and "authorisation code" in no_code.json()["detail"]
    # A code is one-time at GitHub: replaying a used one is refused as well.
    code = oauth_code(github, ACME)
    owner = await new_org(t, "owner@acme.example", "acme")
    assert (await install(t, owner, ACME, "acme", code=code)).status_code == 201
    replayed = await install(t, intruder, ACME, "acme", code=code)
    assert replayed.status_code == 422
    assert (await t.client.get("/api/v1/github-app/installations", headers=intruder)).json() == []


async def test_a_webhook_without_a_valid_signature_is_401_and_changes_nothing(
    gh: Tenancy, github: FakeServer
) -> None:
    t = gh
    owner = await new_org(t, "owner@acme.example", "acme")
    assert (await install(t, owner, ACME, "acme")).status_code == 201
    deleted = {"action": "deleted", "installation": {"id": ACME}}
    body = json.dumps(deleted).encode()
    for signature in (None, "sha256=" + "0" * 64, signed(body, "another-secret-entirely"), "md5=x"):
        answer = await deliver(t, "installation", deleted, signature=signature)
        assert answer.status_code == 401, (signature, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    (installation,) = (await t.client.get("/api/v1/github-app/installations", headers=owner)).json()
    assert installation["uninstalled"] is False
    # The same body, correctly signed, is applied: the refusals above were the signature's.
    assert (await deliver(t, "installation", deleted)).status_code == 200
    (installation,) = (await t.client.get("/api/v1/github-app/installations", headers=owner)).json()
    assert installation["uninstalled"] is True


async def test_an_app_uninstalled_without_a_webhook_is_found_and_marked(
    gh: Tenancy, github: FakeServer
) -> None:
    t = gh
    owner = await new_org(t, "owner@acme.example", "acme")
    detail = (await install(t, owner, ACME, "acme")).json()
    (repo,) = (
        await t.client.post(
            f"/api/v1/github-app/installations/{detail['id']}/repositories",
            json={"repositories": [{"full_name": "acme/billing"}]},
            headers=owner,
        )
    ).json()
    del github.installations[ACME]  # uninstalled; the webhook never came
    t.platform.access.github_app.forget(ACME)  # type: ignore[union-attr]
    check = (await t.client.post(f"/api/v1/repositories/{repo['id']}/test", headers=owner)).json()
    assert check["ok"] is False and check["problem"] == "access_removed"
    assert "uninstalled" in check["detail"]
    marked = (await t.client.get(f"/api/v1/repositories/{repo['id']}", headers=owner)).json()
    assert "uninstalled" in marked["unreachable_reason"]


async def request_install(
    t: Tenancy, admin: dict[str, str], account: str, requester: dict[str, Any]
) -> httpx.Response:
    """A member without owner rights on ``account``: GitHub only records a request and sends
    the browser back with ``setup_action=request``, the state and a code, no installation."""
    started = await t.client.post(
        "/api/v1/github-app/install", json={"account": account}, headers=admin
    )
    github: FakeServer = t.app.state.test_github
    return await t.client.post(
        "/api/v1/github-app/requests",
        json={"state": state_of(started.json()["install_url"]), "setup_action": "request",
              "code": github.issue_code([], requester)},
        headers=admin,
    )  # fmt: skip


def created(requester: dict[str, Any] | None, installation: int = ACME) -> dict[str, Any]:
    """GitHub's ``installation`` ``created`` after an owner approved the request."""
    return {
        "action": "created",
        "installation": {"id": installation, "account": {"login": "acme", "type": "Organization"}},
        "repositories": [{"name": "shop", "full_name": "acme/shop", "private": True}],
        "requester": requester,
        "sender": {"login": "the-owner", "id": 9},
    }


async def test_a_requested_install_waits_for_the_owner_and_completes_on_the_webhook(
    gh: Tenancy, github: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t, seen = gh, Seen()
    admin = await new_org(t, "admin@acme.example", "acme")
    mona = {"id": 5001, "login": "mona"}

    asked = seen.add(await request_install(t, admin, "acme", mona))
    assert asked.status_code == 202, asked.text
    request = asked.json()
    assert (request["waiting"], request["account"], request["requester_login"]) == (
        True, "acme", "mona"
    )  # fmt: skip
    assert "waiting for a GitHub organisation owner of acme to approve" in request["detail"]
    assert (await t.client.get("/api/v1/github-app/installations", headers=admin)).json() == []

    # Someone else's request being approved (another requester) does not connect it here.
    other = seen.add(await deliver(t, "installation", created({"id": 777, "login": "eve"})))
    assert "not connected" in other.json()["outcome"], other.text
    no_requester = seen.add(await deliver(t, "installation", created(None)))
    assert "not connected" in no_requester.json()["outcome"]
    (still,) = (await t.client.get("/api/v1/github-app/requests", headers=admin)).json()
    assert still["waiting"] is True and still["installation"] is None

    # The owner approves mona's request: GitHub's webhook names her as the requester.
    delivery = str(uuid.uuid4())
    approved = seen.add(await deliver(t, "installation", created(mona), delivery=delivery))
    assert approved.status_code == 200 and "approved" in approved.json()["outcome"], approved.text
    (done,) = (await t.client.get("/api/v1/github-app/requests", headers=admin)).json()
    assert done["waiting"] is False and done["installation"]["installation_id"] == ACME
    assert done["installation"]["repositories"] == ["acme/shop"]
    (installation,) = (await t.client.get("/api/v1/github-app/installations", headers=admin)).json()
    assert installation["account_login"] == "acme"
    replay = await deliver(t, "installation", created(mona), delivery=delivery)
    assert "duplicate" in replay.json()["outcome"]

    # And its repositories register in one step, read through the app.
    registered = seen.add(
        await t.client.post(
            f"/api/v1/github-app/installations/{installation['id']}/repositories",
            json={"repositories": [{"full_name": "acme/shop"}]},
            headers=admin,
        )
    )
    assert registered.status_code == 201, registered.text

    output = "\n".join(seen.texts) + "\n" + caplog.text
    assert github.user_tokens and not [s[:12] for s in github.user_tokens if s in output]
    assert "ghu_" not in output and "ghs_" not in output and "eyJ" not in output


async def test_a_requested_install_completes_when_the_admin_installs_again(
    gh: Tenancy, github: FakeServer
) -> None:
    t = gh
    admin = await new_org(t, "admin@acme.example", "acme")
    asked = await request_install(t, admin, "acme", {"id": 5001, "login": "mona"})
    assert asked.status_code == 202
    # A request needs a state of this person, unused: a replayed one is refused.
    again = await t.client.post(
        "/api/v1/github-app/requests",
        json={"state": "s" * 40, "code": github.issue_code([])},
        headers=admin,
    )
    assert again.status_code == 422 and "unknown" in again.json()["detail"]
    # A request through the API that named no account: only installing again can finish it.
    started = await t.client.post("/api/v1/github-app/install", json={}, headers=admin)
    unnamed = await t.client.post(
        "/api/v1/github-app/requests",
        json={"state": state_of(started.json()["install_url"]), "code": github.issue_code([])},
        headers=admin,
    )
    assert unnamed.status_code == 202 and "press Connect GitHub again" in unnamed.json()["detail"]
    # Approved without the webhook reaching us; the admin presses Connect GitHub again.
    assert (await install(t, admin, ACME, "acme")).status_code == 201
    requests = (await t.client.get("/api/v1/github-app/requests", headers=admin)).json()
    assert [r["waiting"] for r in requests] == [False, False]
    assert {r["installation"]["installation_id"] for r in requests} == {ACME}


async def test_an_approval_connects_only_the_organisation_whose_person_asked(
    gh: Tenancy, github: FakeServer
) -> None:
    t = gh
    intruder = await new_org(t, "owner@intruder.example", "intruder")
    customer = await new_org(t, "admin@acme.example", "acme")
    # The intruder asks for acme too, but as their own GitHub user; acme's member asks later.
    for org, person in ((intruder, {"id": 666, "login": "mallory"}),
                        (customer, {"id": 5001, "login": "mona"})):  # fmt: skip
        assert (await request_install(t, org, "acme", person)).status_code == 202
    approved = await deliver(t, "installation", created({"id": 5001, "login": "mona"}))
    assert "approved" in approved.json()["outcome"]
    connected = await t.client.get("/api/v1/github-app/installations", headers=customer)
    assert len(connected.json()) == 1
    assert (await t.client.get("/api/v1/github-app/installations", headers=intruder)).json() == []
    (waiting,) = (await t.client.get("/api/v1/github-app/requests", headers=intruder)).json()
    assert waiting["waiting"] is True


async def test_no_github_app_configured_is_a_clear_409(tenancy: Tenancy) -> None:
    owner = await new_org(tenancy, "owner@plain.example", "plain")
    answer = await tenancy.client.post("/api/v1/github-app/install", json={}, headers=owner)
    assert answer.status_code == 409 and "LOGDAWG_GITHUB_APP_ID" in answer.json()["detail"]
    shown = await tenancy.client.get("/api/v1/github-app", headers=owner)
    assert shown.json()["configured"] is False


async def test_the_spa_learns_the_app_is_configured(gh: Tenancy) -> None:
    owner = await new_org(gh, "owner@acme.example", "acme")
    shown = (await gh.client.get("/api/v1/github-app", headers=owner)).json()
    assert (shown["configured"], shown["slug"]) == (True, SLUG)


# --- Azure DevOps without a PAT ----------------------------------------------------------------


class FakeCredential:
    """azure-identity's TokenCredential seam: Entra tokens with a known expiry."""

    def __init__(self, fake: FakeServer, lifetime_s: float = 3600) -> None:
        self.fake, self.lifetime_s = fake, lifetime_s
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.calls.append(scopes)
        token = f"eyJ0eXAiOiJKV1QifQ.eyJjYWxsIjo{len(self.calls)}fQ.c2ln{uuid.uuid4().hex}"
        expires = time.time() + self.lifetime_s
        self.fake.issued[token] = (0, None, expires)
        return AccessToken(token, int(expires))


async def test_azure_devops_with_the_platform_identity_or_a_service_principal(
    platform: Platform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(AzureDevOpsHandler, build_sample_repo(tmp_path), token="no-pat") as ado:
        ours = FakeCredential(ado)
        made: list[tuple[str, str, str]] = []

        def service_principal(fields: ServicePrincipalFields) -> FakeCredential:
            made.append((fields.tenant_id, fields.client_id, fields.client_secret or ""))
            return FakeCredential(ado)

        single = dataclasses.replace(
            platform,
            access=RepositoryAccess(
                platform_credential=lambda: ours, service_principal=service_principal
            ),
        )
        transport = httpx.ASGITransport(app=create_app(platform=single))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            base = {"provider": "azure_devops", "owner": "contoso", "project": "Shop",
                    "name": "shop", "base_url": f"{ado.url}/contoso"}  # fmt: skip
            identity = await client.post(
                "/api/v1/repositories", json={**base, "auth": "azure_identity"}
            )
            assert identity.status_code == 201, identity.text
            assert identity.json()["auth_kind"] == "azure_identity"
            assert identity.json()["has_credential"] is False  # nothing stored at all
            for _ in range(2):
                tested = await client.post(f"/api/v1/repositories/{identity.json()['id']}/test")
                assert tested.json()["ok"] is True, tested.text
            assert ours.calls == [("499b84ac-1321-427f-aa17-267ca6975798/.default",)]

            secret = "sp-secret-" + uuid.uuid4().hex
            sp = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
                  "client_secret": secret}  # fmt: skip
            principal = await client.post(
                "/api/v1/repositories",
                json={**base, "name": "shop", "project": "Other", "auth": "azure_service_principal",
                      "service_principal": sp},
            )  # fmt: skip
            assert principal.status_code == 201, principal.text
            assert principal.json()["has_credential"] is True
            assert secret not in principal.text
            tested = await client.post(f"/api/v1/repositories/{principal.json()['id']}/test")
            assert tested.json()["problem"] in ("not_found", "branch_not_found")  # project Other
            assert made == [
                (sp["tenant_id"], sp["client_id"], secret)
            ]  # unsealed for azure-identity

            for wrong in (
                {**base, "auth": "azure_identity", "token": "x"},
                {**base, "auth": "azure_service_principal"},
                {**base, "service_principal": sp},
                {"provider": "github", "owner": "a", "name": "b", "auth": "azure_identity"},
            ):
                refused = await client.post("/api/v1/repositories", json=wrong)
                assert refused.status_code == 422, (wrong, refused.text)
                assert secret not in refused.text
            rotate = await client.put(
                f"/api/v1/repositories/{identity.json()['id']}/token", json={"token": "pat"}
            )
            assert rotate.status_code == 409
    assert secret not in caplog.text
    assert not any(token in caplog.text for token in ado.issued)


async def test_the_platform_identity_reads_only_approved_azure_devops_organisations(
    platform: Platform,
) -> None:
    """In multi-tenant mode another tenant cannot name a customer's Azure DevOps organisation
    that added the platform's identity: the operator approves each pairing."""
    mt = multi_tenant_platform(platform)
    approved: set[tuple[str, uuid.UUID]] = set()
    mt = dataclasses.replace(mt, access=RepositoryAccess(identity_grants=frozenset()))
    app = create_app(platform=mt)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        t = Tenancy(client=c, app=app, platform=mt)
        customer = await new_org(t, "owner@contoso.example", "contoso")
        intruder = await new_org(t, "owner@intruder.example", "intruder")
        approved.add(("contoso", uuid.UUID(customer["X-Logdawg-Org"])))
        mt.access.identity_grants = frozenset(approved)
        body = {"provider": "azure_devops", "owner": "Contoso", "project": "Shop",
                "name": "shop", "auth": "azure_identity"}  # fmt: skip
        refused = await c.post("/api/v1/repositories", json=body, headers=intruder)
        assert refused.status_code == 403, refused.text
        assert "LOGDAWG_AZURE_DEVOPS_IDENTITY_ORGS" in refused.json()["detail"]
        accepted = await c.post("/api/v1/repositories", json=body, headers=customer)
        assert accepted.status_code == 201, accepted.text
