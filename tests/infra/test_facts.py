"""Every stack against the facts of Azure's documentation (see ``checks.py`` for sources)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.infra.checks import CHECKS
from tests.infra.conftest import Stack

ENVIRONMENTS = ("dev", "prod", "pr-123")


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_stack_matches_azure_documentation(
    stacks: dict[str, Stack], name: str, check: Callable[[Stack], None]
) -> None:
    check(stacks[name])
