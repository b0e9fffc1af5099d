"""Token sources against the fake GitHub (acting as GitHub's app endpoints) and the fake Azure
DevOps with Entra ID tokens from a fake azure-identity credential."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from azure.core.credentials import AccessToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.db.models import Provider
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.github import GitHubClient
from app.git.http import HttpPolicy
from app.git.tokens import (
    AZURE_DEVOPS_SCOPE,
    READ_PERMISSIONS,
    EntraTokenSource,
    GitHubApp,
    InstallationGone,
    StaticToken,
)
from app.git.types import BadCredentials, RepoRef
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve

FAST = HttpPolicy(timeout_s=5, max_wait_s=2, max_retries=1)
APP_ID = 123456
INSTALLATION = 42


@dataclass
class Clock:
    """The time both the platform and the fake see, moved by the test."""

    at: float

    def __call__(self) -> float:
        return self.at


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def github(sample_repo: Path, app_key: rsa.RSAPrivateKey, clock: Clock) -> Iterator[FakeServer]:
    with serve(GitHubHandler, sample_repo, token=None) as fake:
        fake.token = "not-a-pat-anyone-has"  # only installation tokens are accepted
        fake.register_app(APP_ID, app_key)
        fake.installations[INSTALLATION] = {
            "account": {"login": "acme", "type": "Organization", "id": 7},
            "repositories": ["shop", "billing"],
        }
        fake.now = clock
        yield fake


def make_app(fake: FakeServer, key: rsa.RSAPrivateKey, clock: Clock) -> GitHubApp:
    return GitHubApp(app_id=APP_ID, private_key_pem=_pem(key), api_url=fake.url, clock=clock)


def client(fake: FakeServer, token: object) -> GitHubClient:
    return GitHubClient(
        token,  # type: ignore[arg-type]
        cache=ScopedMemoryCache(MemoryCache(), "org-1"),
        cache_scope="r1",
        base_url=fake.url,
        policy=FAST,
    )


REPO = RepoRef(Provider.GITHUB, "acme", "shop")


async def test_app_jwt_is_rs256_backdated_and_short(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    token = make_app(github, app_key, clock).app_jwt()
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, app_key.public_key(), algorithms=["RS256"])
    now = time.time()
    assert claims["iss"] == str(APP_ID)
    assert now - 62 <= claims["iat"] <= now - 59
    assert 0 < claims["exp"] - claims["iat"] <= 600


async def test_reads_with_an_installation_token_narrowed_to_the_repository(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    app = make_app(github, app_key, clock)
    gh = client(github, app.source(INSTALLATION, "shop"))
    head = await gh.resolve_ref(REPO, "main")
    files = await gh.list_files(REPO, head)
    await gh.aclose()
    assert len(head) == 40 and files
    assert github.bad_jwts == 0 and len(github.app_jwts) == 1
    assert github.mint_bodies == [{"permissions": READ_PERMISSIONS, "repositories": ["shop"]}]


async def test_one_token_is_shared_by_the_jobs_of_an_installation(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    app = make_app(github, app_key, clock)
    for _ in range(3):  # three jobs, three clients, one worker process
        gh = client(github, app.source(INSTALLATION, "shop"))
        await gh.resolve_ref(REPO, "main")
        await gh.aclose()
    assert app.minted == 1


async def test_a_token_near_expiry_is_renewed_and_an_expired_one_never_sent(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    app = make_app(github, app_key, clock)
    gh = client(github, app.source(INSTALLATION, "shop"))
    await gh.resolve_ref(REPO, "main")
    clock.at += 3600 - 120  # two minutes left: inside the renewal margin
    await gh.resolve_ref(REPO, "HEAD~1")
    assert app.minted == 2
    clock.at += 3600 + 5  # the second token has expired too
    await gh.list_commits(REPO, ref="main", limit=2)
    await gh.aclose()
    assert app.minted == 3
    assert github.expired_sent == 0


async def test_the_fake_notices_an_expired_token(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    """The control for the test above: sending the stale token is seen and refused."""
    app = make_app(github, app_key, clock)
    stale = await app.token(INSTALLATION, "shop")
    clock.at += 3601
    gh = client(github, StaticToken(stale))
    with pytest.raises(BadCredentials):
        await gh.resolve_ref(REPO, "main")
    await gh.aclose()
    assert github.expired_sent == 1


async def test_an_uninstalled_app_fails_clearly_and_is_not_retried(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    del github.installations[INSTALLATION]
    app = make_app(github, app_key, clock)
    gh = client(github, app.source(INSTALLATION, "shop"))
    with pytest.raises(InstallationGone) as caught:
        await gh.resolve_ref(REPO, "main")
    await gh.aclose()
    assert not caught.value.transient
    assert "uninstalled" in str(caught.value)
    assert sum(1 for r in github.requests if "access_tokens" in r.path) == 1  # not retried


async def test_a_token_revoked_by_an_uninstall_is_dropped_and_the_error_is_clear(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    """The cached token still has an hour, but GitHub revoked it with the uninstall: the
    401 drops it, the re-mint finds the installation gone, and says so (not retried)."""
    app = make_app(github, app_key, clock)
    gh = client(github, app.source(INSTALLATION, "shop"))
    await gh.resolve_ref(REPO, "main")
    del github.installations[INSTALLATION]
    with pytest.raises(InstallationGone, match="uninstalled"):
        await gh.resolve_ref(REPO, "HEAD~1")
    await gh.aclose()
    assert app.minted == 1
    assert [r.status for r in github.requests][-2:] == [401, 404]


async def test_a_repository_the_installation_does_not_grant_is_refused(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    app = make_app(github, app_key, clock)
    with pytest.raises(InstallationGone, match="does not grant"):
        await app.token(INSTALLATION, "secret-plans")


async def test_a_jwt_signed_with_another_key_is_refused(github: FakeServer, clock: Clock) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = make_app(github, other, clock)
    with pytest.raises(BadCredentials, match="app's JWT"):
        await app.token(INSTALLATION, "shop")
    assert github.bad_jwts == 1


async def test_the_installation_lists_its_repositories(
    github: FakeServer, app_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    app = make_app(github, app_key, clock)
    found = await app.repositories(INSTALLATION)
    assert [r["full_name"] for r in found] == ["acme/shop", "acme/billing"]
    assert (await app.installation(INSTALLATION))["account"]["login"] == "acme"


# --- Azure DevOps with Entra ID ----------------------------------------------------------------


class FakeCredential:
    """azure-identity's TokenCredential seam: tokens with a known expiry."""

    def __init__(self, fake: FakeServer, clock: Clock, lifetime_s: float = 3600) -> None:
        self.fake, self.clock, self.lifetime_s = fake, clock, lifetime_s
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes.append(scopes)
        token = f"eyJhbGciOiJSUzI1NiJ9.eyJuIjo{len(self.scopes)}fQ.sig{len(self.scopes)}"
        expires = self.clock() + self.lifetime_s
        self.fake.issued[token] = (0, None, expires)
        return AccessToken(token, int(expires))


@pytest.fixture
def ado(sample_repo: Path, clock: Clock) -> Iterator[FakeServer]:
    with serve(AzureDevOpsHandler, sample_repo, token="no-pat-here") as fake:
        fake.now = clock
        yield fake


ADO_REPO = RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop", project="Shop")


async def test_azure_devops_reads_with_an_entra_token_refreshed_before_expiry(
    ado: FakeServer, clock: Clock
) -> None:
    credential = FakeCredential(ado, clock)
    source = EntraTokenSource(credential, key="azure-devops:platform", clock=clock)
    client_ = AzureDevOpsClient(
        source,
        cache=ScopedMemoryCache(MemoryCache(), "org-1"),
        cache_scope="r1",
        base_url=f"{ado.url}/contoso",
        policy=FAST,
    )
    head = await client_.resolve_ref(ADO_REPO, "main")
    await client_.list_files(ADO_REPO, head)
    assert credential.scopes == [(AZURE_DEVOPS_SCOPE,)]  # cached between requests
    clock.at += 3600 - 60
    await client_.list_commits(ADO_REPO, ref="main", limit=2)
    await client_.aclose()
    assert len(credential.scopes) == 2
    assert ado.expired_sent == 0


async def test_an_entra_failure_is_a_clear_credential_error(ado: FakeServer, clock: Clock) -> None:
    class Refusing:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            raise RuntimeError("AADSTS7000215: Invalid client secret provided. secret=hunter2")

    source = EntraTokenSource(Refusing(), key="sp", clock=clock)
    with pytest.raises(BadCredentials) as caught:
        await source.token()
    assert "hunter2" not in str(caught.value)
