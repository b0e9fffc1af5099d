"""Benchmark: requests and time of a diagnosis-alike through each provider client.

A diagnosis-alike resolves a ref, lists the tree, fetches five files and lists the commits of
two paths: what the engine asks of a repository. It runs against the fake GitHub and Azure
DevOps servers on 127.0.0.1 (tests/fakes), cold (empty cache) and warm (a new client sharing
the cache, as a second worker would through PostgreSQL; the memory layer is used here).

Targets: warm sends at most one request, a conditional one; cold at most
1 + files + paths + 1 requests.

    .venv/bin/python benchmarks/git_providers.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db.models import Provider
from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import MemoryCache, ScopedMemoryCache
from app.git.github import GitHubClient
from app.git.types import RepoRef
from tests.fakes.git_servers import AzureDevOpsHandler, FakeServer, GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo

FILES = ["src/app/cart.py", "src/app/utils.py", "lib/utils.py", "README.md", "logo.png"]
PATHS = ["src/app/cart.py", "lib/utils.py"]
RUNS = 20


async def diagnosis_alike(client: GitHubClient | AzureDevOpsClient, repo: RepoRef) -> None:
    head = await client.resolve_ref(repo, "main")
    await client.list_files(repo, head)
    for path in FILES:
        await client.get_file_content(repo, path, head)
    for path in PATHS:
        await client.list_commits(repo, ref=head, path=path, limit=10)


def make(kind: str, fake: FakeServer, cache: ScopedMemoryCache) -> GitHubClient | AzureDevOpsClient:
    if kind == "github":
        return GitHubClient(fake.token, cache=cache, cache_scope="r", base_url=fake.url)
    return AzureDevOpsClient(
        fake.token, cache=cache, cache_scope="r", base_url=f"{fake.url}/contoso"
    )


async def measure(kind: str, fake: FakeServer, repo: RepoRef) -> None:
    cold_ms, warm_ms = [], []
    cold_requests = warm_requests = warm_conditional = 0
    for _ in range(RUNS):
        cache = ScopedMemoryCache(MemoryCache(), "org")
        before = len(fake.requests)
        started = time.perf_counter()
        await diagnosis_alike(make(kind, fake, cache), repo)
        cold_ms.append((time.perf_counter() - started) * 1000)
        cold_requests = len(fake.requests) - before
        before = len(fake.requests)
        started = time.perf_counter()
        await diagnosis_alike(make(kind, fake, cache), repo)
        warm_ms.append((time.perf_counter() - started) * 1000)
        warm = fake.requests[before:]
        warm_requests, warm_conditional = len(warm), sum(r.conditional for r in warm)
    cold_ms.sort()
    warm_ms.sort()
    budget = 1 + len(FILES) + len(PATHS) + 1
    print(
        f"{kind:12} cold: {cold_requests} requests (target <= {budget}), "
        f"median {cold_ms[len(cold_ms) // 2]:.1f} ms | warm: {warm_requests} request(s), "
        f"{warm_conditional} conditional (target <= 1), median {warm_ms[len(warm_ms) // 2]:.1f} ms"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        repo_dir = build_sample_repo(Path(root))
        with serve(GitHubHandler, repo_dir) as fake:
            await measure("github", fake, RepoRef(Provider.GITHUB, "acme", "shop"))
        with serve(AzureDevOpsHandler, repo_dir) as fake:
            await measure(
                "azure_devops", fake, RepoRef(Provider.AZURE_DEVOPS, "contoso", "shop", "Shop")
            )
    print(f"({RUNS} runs each; fake servers on 127.0.0.1 backed by a real git repository)")


if __name__ == "__main__":
    asyncio.run(main())
