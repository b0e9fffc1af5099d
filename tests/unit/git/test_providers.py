"""The three providers against one real repository: the same answers (a shared contract),
then each client's own behaviour against the fake API servers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.diffs import Hunk
from app.git.factory import provider_for
from app.git.github import GitHubClient
from app.git.http import HttpPolicy
from app.git.local import LocalGitProvider
from app.git.types import (
    BadCredentials,
    GitProvider,
    PathNotFound,
    Provider,
    ProviderUnavailable,
    RateLimited,
    RefNotFound,
    Refused,
    RepoRef,
    RepositoryNotFound,
)
from app.settings import Settings
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve

TOKEN = "t0k3n-secret"
FAST = HttpPolicy(timeout_s=5, max_wait_s=2, max_retries=2)


def github_ref(fake: FakeServer) -> RepoRef:
    return RepoRef(Provider.GITHUB, "acme", "shop", base_url=fake.url)


def ado_ref(fake: FakeServer) -> RepoRef:
    return RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop", project="Shop")


def local_ref(repo: Path) -> RepoRef:
    return RepoRef(Provider.LOCAL, "", "shop", base_url=str(repo))


def cache() -> ScopedMemoryCache:
    return ScopedMemoryCache(MemoryCache(), "org-1")


@pytest.fixture
def github(sample_repo: Path) -> Iterator[FakeServer]:
    with serve(GitHubHandler, sample_repo) as fake:
        yield fake


@pytest.fixture
def ado(sample_repo: Path) -> Iterator[FakeServer]:
    with serve(AzureDevOpsHandler, sample_repo) as fake:
        yield fake


def github_client(fake: FakeServer, token: str = TOKEN, **kw: object) -> GitHubClient:
    return GitHubClient(
        token, cache=kw.pop("cache", None) or cache(), cache_scope="r1", base_url=fake.url,
        policy=FAST,
    )  # fmt: skip


def ado_client(fake: FakeServer, token: str = TOKEN) -> AzureDevOpsClient:
    return AzureDevOpsClient(
        token, cache=cache(), cache_scope="r1", base_url=f"{fake.url}/contoso", policy=FAST
    )


@pytest.fixture(params=["local", "github", "azure_devops"])
async def provider(
    request: pytest.FixtureRequest, sample_repo: Path
) -> AsyncIterator[tuple[GitProvider, RepoRef]]:
    if request.param == "local":
        yield LocalGitProvider(sample_repo), local_ref(sample_repo)
        return
    handler = GitHubHandler if request.param == "github" else AzureDevOpsHandler
    with serve(handler, sample_repo) as fake:
        if request.param == "github":
            yield github_client(fake), github_ref(fake)
        else:
            yield ado_client(fake), ado_ref(fake)


# --- the shared contract --------------------------------------------------------------------


async def test_contract_same_files_contents_and_history(
    provider: tuple[GitProvider, RepoRef], sample_repo: Path
) -> None:
    client, repo = provider
    head = await client.resolve_ref(repo, "main")
    assert head == (sample_repo / ".git/refs/heads/main").read_text().strip()
    assert await client.resolve_ref(repo, "v1.0") == head
    files = {f.path for f in await client.list_files(repo, head)}
    assert {"src/app/cart.py", "lib/utils.py", "logo.png", "big.txt"} <= files
    assert "deep/d0/d1/d2/d3/d4/d5/f5.txt" in files
    assert not any(p.endswith("/") or p in ("src", "deep") for p in files)
    cart = await client.get_file_content(repo, "src/app/cart.py", head)
    assert cart.splitlines()[11] == b"total = sum(prices)"
    logo = await client.get_file_content(repo, "logo.png", "main")
    assert logo == (sample_repo / "logo.png").read_bytes()  # binary, byte for byte
    big = await client.get_file_content(repo, "big.txt", head)
    assert len(big) == (sample_repo / "big.txt").stat().st_size > 1024 * 1024
    commits = await client.list_commits(repo, ref=head, path="src/app/cart.py", limit=10)
    assert [c.message for c in commits] == [
        "Tidy cart comments",
        "Sum the prices",
        "Initial version",
    ]
    assert commits[0].author_name == "Grace Dev"
    assert commits[0].date is not None and commits[0].date.tzinfo is not None
    recent = await client.list_commits(
        repo, ref=head, path="src/app/cart.py", since=datetime.now(UTC) - timedelta(days=60)
    )
    assert len(recent) == 2
    summed = commits[1]
    changes = await client.changed_lines(repo, summed.sha, "src/app/cart.py")
    assert changes == [Hunk(old_start=12, old_count=1, new_start=12, new_count=1)]
    detail = await client.get_commit(repo, summed.sha)
    assert detail.files == ("src/app/cart.py",)
    blamed = await client.blame_line(repo, head, "src/app/cart.py", 12)
    if repo.provider is Provider.AZURE_DEVOPS:
        assert blamed is None  # no blame API: the engine checks diffs instead
    else:
        assert blamed is not None and blamed.sha == summed.sha
        assert blamed.message == "Sum the prices" and blamed.author_name == "Grace Dev"


async def test_contract_errors(provider: tuple[GitProvider, RepoRef]) -> None:
    client, repo = provider
    with pytest.raises(RefNotFound):
        await client.resolve_ref(repo, "no-such-branch")
    with pytest.raises(RefNotFound):
        await client.resolve_ref(repo, "--output=/tmp/x")
    with pytest.raises(Refused):
        await client.get_file_content(repo, "../../etc/passwd", "main")
    with pytest.raises(PathNotFound):
        await client.get_file_content(repo, "src/app/missing.py", "main")


# --- GitHub ---------------------------------------------------------------------------------


async def test_github_warm_diagnosis_sends_one_conditional_request(github: FakeServer) -> None:
    shared = cache()
    client = github_client(github, cache=shared)
    repo = github_ref(github)

    async def diagnosis_alike(c: GitHubClient) -> None:
        head = await c.resolve_ref(repo, "main")
        await c.list_files(repo, head)
        for path in ("src/app/cart.py", "src/app/utils.py", "lib/utils.py", "README.md"):
            await c.get_file_content(repo, path, head)
        for path in ("src/app/cart.py", "lib/utils.py"):
            await c.list_commits(repo, ref=head, path=path, limit=5)

    await diagnosis_alike(client)
    assert github.sent() == 1 + 1 + 4 + 2
    before = len(github.requests)
    await diagnosis_alike(github_client(github, cache=shared))  # a new worker, same cache
    warm = github.requests[before:]
    assert len(warm) == 1 and warm[0].conditional and warm[0].status == 304


async def test_github_truncated_tree_is_walked_not_cut(github: FakeServer) -> None:
    github.truncate_trees = True
    client = github_client(github)
    files = {f.path for f in await client.list_files(github_ref(github), "main")}
    assert "deep/d0/d1/d2/d3/d4/d5/f5.txt" in files
    assert "src/app/cart.py" in files


async def test_github_large_files_come_from_the_blobs_api(github: FakeServer) -> None:
    client = github_client(github)
    content = await client.get_file_content(github_ref(github), "big.txt", "main")
    assert len(content) > 1024 * 1024
    assert any("/git/blobs/" in r.path for r in github.requests)
    assert not any("/contents/big.txt" in r.path for r in github.requests)


async def test_github_commit_pages_follow_the_link_header(github: FakeServer) -> None:
    client = github_client(github)
    commits = await client.list_commits(github_ref(github), ref="main", limit=4)
    assert len(commits) == 4
    first = await client.list_commits(github_ref(github), ref="main", limit=1)
    assert first[0].sha == commits[0].sha


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, BadCredentials), (403, RepositoryNotFound), (404, RepositoryNotFound)],
)
async def test_github_errors_are_typed(
    github: FakeServer, status: int, expected: type[Exception]
) -> None:
    github.fail_next = [(status, {}, b'{"message": "nope"}')]
    with pytest.raises(expected):
        await github_client(github).list_files(github_ref(github), "a" * 40)


async def test_a_wrong_token_is_bad_credentials(github: FakeServer) -> None:
    with pytest.raises(BadCredentials, match="rejected the token"):
        await github_client(github, token="wrong").resolve_ref(github_ref(github), "main")


async def test_an_unknown_repository(github: FakeServer) -> None:
    repo = RepoRef(Provider.GITHUB, "acme", "nope", base_url=github.url)
    with pytest.raises(RepositoryNotFound, match="acme/nope was not found"):
        await github_client(github).list_files(repo, "a" * 40)


async def test_retry_after_is_honoured_then_the_request_succeeds(github: FakeServer) -> None:
    github.fail_next = [(429, {"Retry-After": "1"}, b"{}"), (502, {}, b"bad gateway")]
    sha = await github_client(github).resolve_ref(github_ref(github), "main")
    assert len(sha) == 40
    assert [r.status for r in github.requests] == [429, 502, 200]


async def test_a_long_rate_limit_stops_early_and_says_until_when(github: FakeServer) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 1800
    github.fail_next = [
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}, b"{}")
    ]
    client = github_client(github)
    with pytest.raises(RateLimited) as caught:
        await client.resolve_ref(github_ref(github), "main")
    assert caught.value.until is not None
    assert abs(caught.value.until.timestamp() - reset) < 5
    assert caught.value.transient
    # The next call does not hammer the provider: it fails at once.
    with pytest.raises(RateLimited):
        await client.resolve_ref(github_ref(github), "main")
    assert github.sent() == 1


async def test_an_exhausted_budget_blocks_before_sending(github: FakeServer) -> None:
    github.rate_remaining = 1  # this answer says 0 remain, resetting in an hour
    client = github_client(github)
    await client.resolve_ref(github_ref(github), "main")
    with pytest.raises(RateLimited):
        await client.list_files(github_ref(github), "main")
    assert github.sent() == 1


async def test_requests_per_token_are_bounded(github: FakeServer) -> None:
    github.delay_s = 0.05
    client = GitHubClient(
        TOKEN,
        cache=cache(),
        cache_scope="r",
        base_url=github.url,
        policy=HttpPolicy(concurrency=2),
    )
    repo = github_ref(github)
    await asyncio.gather(*(client.get_commit(repo, "main") for _ in range(8)))
    assert github.sent() == 8
    assert github.max_in_flight == 2


async def test_an_unreachable_provider_is_unavailable() -> None:
    client = GitHubClient(
        TOKEN, cache=cache(), cache_scope="r", base_url="http://127.0.0.1:9", policy=FAST
    )
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        await client.resolve_ref(RepoRef(Provider.GITHUB, "a", "b"), "main")


async def test_responses_over_the_cap_are_refused(github: FakeServer) -> None:
    client = GitHubClient(
        TOKEN,
        cache=cache(),
        cache_scope="r",
        base_url=github.url,
        policy=HttpPolicy(max_bytes=512),
    )
    with pytest.raises(Refused, match="more than 512 bytes"):
        await client.list_files(github_ref(github), "main")


async def test_the_token_never_appears_in_errors_reprs_or_logs(
    github: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = github_client(github)
    seen: list[str] = [repr(client), repr(client.http)]
    for status in (401, 403, 404, 500):
        github.fail_next = [(status, {}, b"{}")] * 3
        try:
            await client.list_files(github_ref(github), "b" * 40)
        except Exception as exc:
            seen += [str(exc), repr(exc), str(exc.__cause__), str(exc.__context__)]
    seen += [r.getMessage() for r in caplog.records]
    assert all(TOKEN not in text for text in seen)


# --- Azure DevOps ---------------------------------------------------------------------------


async def test_azure_devops_pat_is_basic_with_an_empty_user(ado: FakeServer) -> None:
    client = ado_client(ado)
    assert len(await client.resolve_ref(ado_ref(ado), "main")) == 40
    with pytest.raises(BadCredentials):
        await ado_client(ado, token="wrong").resolve_ref(ado_ref(ado), "main")


async def test_azure_devops_entra_token_is_a_bearer(sample_repo: Path) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl"
    with serve(AzureDevOpsHandler, sample_repo, token=jwt) as fake:
        client = ado_client(fake, token=jwt)
        assert len(await client.resolve_ref(ado_ref(fake), "main")) == 40


async def test_azure_devops_throttling_retry_after(ado: FakeServer) -> None:
    ado.fail_next = [(429, {"Retry-After": "1", "X-RateLimit-Delay": "1"}, b"")]
    assert len(await ado_client(ado).resolve_ref(ado_ref(ado), "main")) == 40


async def test_azure_devops_warm_path_reuses_everything(ado: FakeServer) -> None:
    shared = cache()
    repo = ado_ref(ado)
    for _ in range(2):
        client = AzureDevOpsClient(
            TOKEN, cache=shared, cache_scope="r1", base_url=f"{ado.url}/contoso", policy=FAST
        )
        head = await client.resolve_ref(repo, "main")
        await client.list_files(repo, head)
        await client.get_file_content(repo, "src/app/cart.py", head)
        await client.list_commits(repo, ref=head, path="src/app/cart.py")
    warm = ado.requests[4:]
    # The branch is revalidated (refs answer with an ETag); the rest is addressed by SHA.
    assert len(warm) == 1 and warm[0].conditional


# --- where clients may go -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/api/v3",
        "https://10.1.2.3/tfs",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://localhost/api/v3",
        "http://github.example.com/api/v3",
    ],
)
async def test_multi_tenant_refuses_internal_base_urls(url: str) -> None:
    settings = Settings(mode="multi_tenant", auth_provider="dev")
    repo = RepoRef(Provider.GITHUB, "a", "b", base_url=url)
    with pytest.raises(Refused):
        await provider_for(repo, TOKEN, settings, cache=cache(), cache_scope="r")


async def test_single_tenant_may_use_a_local_server(github: FakeServer) -> None:
    client = await provider_for(
        github_ref(github), TOKEN, Settings(), cache=cache(), cache_scope="r"
    )
    assert len(await client.resolve_ref(github_ref(github), "main")) == 40


async def test_local_checkouts_are_refused_in_multi_tenant_mode(sample_repo: Path) -> None:
    with pytest.raises(Refused, match="single-tenant"):
        await provider_for(
            local_ref(sample_repo),
            None,
            Settings(mode="multi_tenant", auth_provider="dev"),
            cache=cache(),
            cache_scope="r",
        )


async def test_without_blame_the_engine_finds_the_line_in_the_newest_diffs(ado: FakeServer) -> None:
    from app.analysis.engine import RepoContext, diagnose
    from app.analysis.sources import ProviderSource

    log = (
        "Traceback (most recent call last):\n"
        '  File "/srv/shop/src/app/cart.py", line 12, in total\n'
        "    total = sum(prices)\n"
        "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
    )
    source = ProviderSource(ado_client(ado), ado_ref(ado))
    report = (await diagnose({"content": log}, repo=RepoContext(source, "main"))).report
    assert [(c.message, c.touches_culprit_line) for c in report.suspect_commits[:2]] == [
        ("Tidy cart comments", False),
        ("Sum the prices", True),
    ]
    assert any("/filediffs" in r.path for r in ado.requests)
