from __future__ import annotations

import pytest

from app.cli_diagnose import UsageError, provider_repo
from app.db.models import Provider


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/shop", (Provider.GITHUB, "acme", None, "shop", None)),
        ("https://github.com/acme/shop.git", (Provider.GITHUB, "acme", None, "shop", None)),
        ("https://ghe.example.com/acme/shop/tree/main",
         (Provider.GITHUB, "acme", None, "shop", "https://ghe.example.com/api/v3")),
        ("https://dev.azure.com/contoso/Shop/_git/shop",
         (Provider.AZURE_DEVOPS, "contoso", "Shop", "shop", None)),
        ("https://contoso.visualstudio.com/Shop/_git/shop",
         (Provider.AZURE_DEVOPS, "contoso", "Shop", "shop", "https://contoso.visualstudio.com")),
        ("https://ado.example.com/tfs/DefaultCollection/Shop/_git/shop",
         (Provider.AZURE_DEVOPS, "tfs/DefaultCollection", "Shop", "shop",
          "https://ado.example.com/tfs/DefaultCollection")),
    ],
)  # fmt: skip
def test_provider_urls(url: str, expected: tuple[object, ...]) -> None:
    repo = provider_repo(url, None)
    assert (repo.provider, repo.owner, repo.project, repo.name, repo.base_url) == expected


@pytest.mark.parametrize("url", ["https://github.com/acme", "https://dev.azure.com/contoso/_git"])
def test_incomplete_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        provider_repo(url, None)
