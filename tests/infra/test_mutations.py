"""Every misconfiguration of the mutation harness is caught, and the unmutated stacks pass."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Stack
from tests.infra.mutations import MUTATIONS, Mutation, caught_by, mutate, report, run


@pytest.mark.parametrize("name", ["dev", "prod", "pr-123"])
def test_the_declared_stacks_pass_every_check_and_policy(
    stacks: dict[str, Stack], name: str
) -> None:
    assert caught_by(stacks[name]) == []


def test_the_harness_covers_the_issue_and_more() -> None:
    assert len(MUTATIONS) >= 15
    assert len({m.description for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.description for m in MUTATIONS])
def test_each_misconfiguration_is_caught(stacks: dict[str, Stack], mutation: Mutation) -> None:
    original = stacks[mutation.stack]
    assert caught_by(mutate(original, mutation)), mutation.description
    assert caught_by(original) == [], "the mutation leaked into the shared stack"


def test_the_figure(stacks: dict[str, Stack], capsys: pytest.CaptureFixture[str]) -> None:
    results = run(stacks)
    text = report(results)
    with capsys.disabled():
        print("\nmutation harness: " + text.splitlines()[-1])
    assert text.endswith(f"caught {len(MUTATIONS)}/{len(MUTATIONS)}")
