from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.issues.releases import Resolution, is_regression, release_is_later

RESOLVED = datetime(2026, 11, 30, 12, tzinfo=UTC)
BEFORE = RESOLVED - timedelta(days=1)
AFTER = RESOLVED + timedelta(hours=1)


def regresses(resolution: Resolution, release: str | None = None, commit: str | None = None,
              releases: dict[str, datetime] | None = None,
              commits: dict[str, datetime] | None = None) -> bool:  # fmt: skip
    return is_regression(
        resolution,
        release=release,
        commit=commit,
        releases_first_seen=releases or {},
        commits_first_seen=commits or {},
    )


def test_versions_compare_as_versions_not_as_text() -> None:
    in_12 = Resolution(RESOLVED, in_release="1.2")
    assert regresses(in_12, "1.3")
    assert regresses(in_12, "1.10")  # text order would say 1.10 < 1.2
    assert regresses(in_12, "v1.2.1")
    assert not regresses(in_12, "1.2")  # the same release: an old deployment
    assert not regresses(in_12, "1.2.0")  # the same version, spelled differently
    assert not regresses(in_12, "1.1.9")
    assert regresses(in_12, "1.3rc1")  # a pre-release of 1.3 is after 1.2
    assert not regresses(Resolution(RESOLVED, in_release="2.0"), "2.0rc1")


def test_names_that_are_not_versions_are_later_only_when_first_seen_after_resolving() -> None:
    in_blue = Resolution(RESOLVED, in_release="blue-42")
    assert not regresses(in_blue, "green-7", releases={"green-7": BEFORE})  # old deployment
    assert regresses(in_blue, "green-8", releases={"green-7": BEFORE})  # never seen before
    assert regresses(in_blue, "green-9", releases={"green-9": AFTER})
    assert not regresses(in_blue, "blue-42", releases={})
    assert release_is_later("2026.11.30-a", "1.2", first_seen={}, resolved_at=RESOLVED)


def test_an_occurrence_without_a_release_cannot_be_placed_after_the_fix() -> None:
    assert not regresses(Resolution(RESOLVED, in_release="1.2"), None, commit="abc1234")


def test_commits_regress_at_the_fix_or_when_first_seen_after_it() -> None:
    fix = "0123456789abcdef0123456789abcdef01234567"
    in_fix = Resolution(RESOLVED, in_commit=fix)
    assert regresses(in_fix, commit=fix[:7])  # the fix is deployed and it still fails
    assert regresses(in_fix, commit="feedface", commits={"deadbeef": BEFORE})
    assert not regresses(in_fix, commit="deadbeef", commits={"deadbeef": BEFORE})
    assert not regresses(in_fix, commit="deadbee", commits={"deadbeef00": BEFORE})
    assert not regresses(in_fix, commit=None)


def test_a_plain_resolve_reopens_on_any_occurrence() -> None:
    assert regresses(Resolution(RESOLVED))
    assert regresses(Resolution(RESOLVED), "1.0", releases={"1.0": BEFORE})
