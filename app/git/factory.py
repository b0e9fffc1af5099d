"""Choosing the client for a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.git.azure_devops import AzureDevOpsClient
from app.git.cache import ResponseCache
from app.git.github import GitHubClient
from app.git.http import HttpPolicy
from app.git.local import LocalGitProvider
from app.git.safety import check_base_url
from app.git.tokens import InstallationTokenSource, TokenSource
from app.git.types import GitProvider, Provider, RepoRef
from app.settings import Settings


def policy_of(settings: Settings) -> HttpPolicy:
    return HttpPolicy(
        timeout_s=settings.git_timeout_s,
        max_wait_s=settings.git_max_wait_s,
        max_retries=settings.git_max_retries,
        concurrency=settings.git_concurrency,
    )


async def provider_for(
    repo: RepoRef,
    token: str | TokenSource | None,
    settings: Settings,
    *,
    cache: ResponseCache,
    cache_scope: str,
    transport: Any = None,
) -> GitProvider:
    multi_tenant = settings.mode == "multi_tenant"
    if repo.provider is Provider.LOCAL:
        return LocalGitProvider(Path(repo.base_url or "."), allowed=not multi_tenant)
    base_url = repo.base_url
    if isinstance(token, InstallationTokenSource):
        # Read where the platform's app lives (settings, not a tenant's choice).
        base_url = token.api_url
    elif base_url:
        await check_base_url(base_url, multi_tenant=multi_tenant)
    client_class: type[GitHubClient] | type[AzureDevOpsClient] = (
        GitHubClient if repo.provider is Provider.GITHUB else AzureDevOpsClient
    )
    return client_class(
        token,
        cache=cache,
        cache_scope=cache_scope,
        base_url=base_url,
        policy=policy_of(settings),
        transport=transport,
    )
