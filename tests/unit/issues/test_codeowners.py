from __future__ import annotations

import pytest

from app.issues.codeowners import owner_matches_email, owners_in_repository, owners_of, parse

# GitHub's documented example file, shortened (docs: "About code owners", "Example of a
# CODEOWNERS file").
EXAMPLE = """
# This is a comment.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
\\#notes.md @hash-owner
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ["@global-owner1", "@global-owner2"]),
        ("src/app.js", ["@js-owner"]),  # inline comment dropped
        ("cmd/main.go", ["docs@example.com"]),
        ("notes/a.txt", ["@octo-org/octocats"]),
        ("build/logs/today.log", ["@octocat"]),  # **/logs is the last match
        ("docs/getting-started.md", ["@doctocat"]),  # /docs/ comes after docs/*
        ("scripts/deploy.sh", ["@doctocat", "@octocat"]),
        ("deep/down/logs/x.log", ["@octocat"]),
        ("apps/web/index.ts", ["@octocat"]),
        ("apps/github/app.py", []),  # a matching line without owners: no owners
        ("#notes.md", ["@hash-owner"]),
    ],
)
def test_the_last_matching_pattern_decides(path: str, owners: list[str]) -> None:
    assert owners_of(parse(EXAMPLE), path) == owners


def test_patterns_follow_githubs_rules() -> None:
    rules = parse("docs/*  @a\nsrc/ @b\n/top.py @c\n**/logs @d\nlib/**/x.py @e\n*.py @f\n")
    assert owners_of(rules, "docs/a.md") == ["@a"]
    assert owners_of(rules, "docs/build/b.md") == []  # docs/* is one level only
    assert owners_of(rules, "pkg/src/m.rs") == ["@b"]  # a trailing slash: any depth
    assert owners_of(rules, "top.py") == ["@f"]
    assert owners_of(parse("/top.py @c"), "top.py") == ["@c"]
    assert owners_of(parse("/top.py @c"), "sub/top.py") == []  # anchored
    assert owners_of(parse("top.py @c"), "sub/top.py") == ["@c"]  # not anchored
    assert owners_of(parse("lib/**/x.py @e"), "lib/a/b/x.py") == ["@e"]
    assert owners_of(parse("lib/**/x.py @e"), "lib/x.py") == ["@e"]
    assert owners_of(parse("!secret.py @x\n[ab].py @y"), "secret.py") == []  # unsupported


def test_owners_map_to_people_by_email_only() -> None:
    assert owner_matches_email("Dev@Example.com", "dev@example.com")
    assert not owner_matches_email("@dev", "dev@example.com")
    assert owner_matches_email("@dev", "dev@users.noreply.github.com")
    assert owner_matches_email("@dev", "123+dev@users.noreply.github.com")
    assert not owner_matches_email("@org/dev", "dev@users.noreply.github.com")


class Files:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.reads: list[str] = []

    async def list_paths(self, sha: str) -> dict[str, int | None]:
        return {p: len(b) for p, b in self.files.items()}

    async def read(self, path: str, sha: str) -> bytes:
        self.reads.append(path)
        return self.files[path]


async def test_the_first_codeowners_location_is_read() -> None:
    files = Files({"CODEOWNERS": b"* @root", ".github/CODEOWNERS": b"*.py @py", "app/x.py": b""})
    assert await owners_in_repository(files, "sha", "app/x.py") == (".github/CODEOWNERS", ["@py"])
    assert files.reads == [".github/CODEOWNERS"]
    none = Files({"app/x.py": b""})
    assert await owners_in_repository(none, "sha", "app/x.py") is None
    assert none.reads == []
