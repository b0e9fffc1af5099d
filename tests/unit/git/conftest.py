from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.git import http
from tests.fakes.sample_repo import build_sample_repo


@pytest.fixture(scope="session")
def sample_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_repo(tmp_path_factory.mktemp("git"))


@pytest.fixture(autouse=True)
def _fresh_rate_limit_state() -> Iterator[None]:
    """The per-token limiter is process-wide by design; tests start from a clean slate."""
    http._blocked_until.clear()
    http._semaphores.clear()
    yield
    http._blocked_until.clear()
    http._semaphores.clear()
