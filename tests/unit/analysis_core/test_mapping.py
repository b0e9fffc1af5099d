from __future__ import annotations

import pytest

from app.analysis.mapping import (
    CodeMapping,
    RepoIndex,
    map_paths,
    match_frame,
    normalise_frame_path,
)

REPO = RepoIndex.build(
    [
        "src/shader.c",
        "src/render.c",
        "src/main.c",
        "services/api/app/cart.py",
        "services/worker/app/cart.py",
        "web/src/components/Cart.tsx",
        "Shop/Cart.cs",
        "README.md",
        "lib/utils.py",
        "tests/utils.py",
    ]
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/app/src/shader.c", "/app/src/shader.c"),
        ("C:\\build\\Shop\\Cart.cs", "/build/Shop/Cart.cs"),
        ("webpack:///./src/components/Cart.tsx", "src/components/Cart.tsx"),
        ("file:///srv/app/cart.py", "/srv/app/cart.py"),
        ("https://cdn.example/app.js?v=3#L1", "cdn.example/app.js"),
        ("./src//main.c", "src/main.c"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise_frame_path(raw) == expected


def test_relative_frame_maps_and_teaches_nothing_new() -> None:
    found, rule = match_frame("src/shader.c", REPO)
    assert found.repo_path == "src/shader.c"
    assert rule == CodeMapping("", "")


def test_deployment_prefix_is_stripped_and_learned() -> None:
    matches, rules = map_paths(["/opt/render/src/shader.c", "/opt/render/src/main.c"], REPO)
    assert matches["/opt/render/src/shader.c"].repo_path == "src/shader.c"
    assert matches["/opt/render/src/main.c"].method == "learned"
    assert rules == [CodeMapping("/opt/render/", "")]


def test_longest_unique_suffix_wins_and_ties_stay_unmapped() -> None:
    found, _ = match_frame("/srv/services/worker/app/cart.py", REPO)
    assert found.repo_path == "services/worker/app/cart.py"
    ambiguous, _ = match_frame("/srv/app/cart.py", REPO)
    assert ambiguous.repo_path is None
    assert ambiguous.method.startswith("ambiguous")
    assert match_frame("utils.py", REPO)[0].repo_path is None


def test_windows_and_bundler_paths() -> None:
    assert match_frame("C:\\agent\\_work\\1\\s\\Shop\\Cart.cs", REPO)[0].repo_path == "Shop/Cart.cs"
    webpack = match_frame("webpack:///./src/components/Cart.tsx", REPO)[0]
    assert webpack.repo_path == "web/src/components/Cart.tsx"


def test_a_learned_rule_from_an_earlier_diagnosis_is_applied_first() -> None:
    learned = [CodeMapping("/srv/", "services/api/")]
    found, rule = match_frame("/srv/app/cart.py", REPO, learned)
    assert (found.repo_path, found.method, rule) == ("services/api/app/cart.py", "learned", None)


@pytest.mark.parametrize("raw", ["../../etc/passwd", "/etc/passwd", "", "src/../../../etc/shadow"])
def test_paths_outside_the_repository_never_map(raw: str) -> None:
    found, _ = match_frame(raw, REPO)
    assert found.repo_path is None


def test_an_ambiguous_frame_is_resolved_by_a_rule_its_neighbours_teach() -> None:
    # "/deploy/utils.py" ties lib/utils.py and tests/utils.py; the rule "/deploy/" -> "" that
    # its neighbour teaches points at a root-level utils.py the repository lacks: unmapped.
    matches, rules = map_paths(["/deploy/utils.py", "/deploy/src/main.c"], REPO)
    assert rules == [CodeMapping("/deploy/", "")]
    assert matches["/deploy/utils.py"].repo_path is None
    # Here the neighbour's rule "/srv/" -> "pkg/a/" settles the tie.
    index = RepoIndex.build(["pkg/a/utils.py", "pkg/b/utils.py", "pkg/a/cart.py"])
    matches, rules = map_paths(["/srv/utils.py", "/srv/cart.py"], index)
    assert rules == [CodeMapping("/srv/", "pkg/a/")]
    assert matches["/srv/utils.py"].repo_path == "pkg/a/utils.py"
    assert matches["/srv/utils.py"].method == "learned"
