"""A small real git repository for the provider tests: nested folders, a binary file, a file
over 1 MB, two files of the same name, and a history that edits one file several times."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.git_history import commit_env

CART_V1 = "".join(f"# cart line {n}\n" for n in range(1, 41))


def _commit(repo: Path, message: str, when: datetime) -> None:
    env = commit_env("Grace Dev", "grace@example.com", when)
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, env=env, check=True)


def build_sample_repo(root: Path) -> Path:
    repo = root / "shop"
    (repo / "src/app").mkdir(parents=True)
    (repo / "lib").mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    now = datetime.now(UTC)
    (repo / "src/app/cart.py").write_text(CART_V1)
    (repo / "src/app/utils.py").write_text("def helper():\n    return 1\n")
    (repo / "lib/utils.py").write_text("def other():\n    return 2\n")
    (repo / "README.md").write_text("# shop\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    for depth in range(6):
        folder = repo / "deep" / "/".join(f"d{i}" for i in range(depth + 1))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{depth}.txt").write_text(f"depth {depth}\n")
    _commit(repo, "Initial version", now - timedelta(days=90))
    lines = CART_V1.splitlines(keepends=True)
    lines[11] = "total = sum(prices)\n"
    (repo / "src/app/cart.py").write_text("".join(lines))
    _commit(repo, "Sum the prices", now - timedelta(days=30))
    (repo / "big.txt").write_text("x" * 80 + "\n" * 1 + ("y" * 99 + "\n") * 12_000)
    _commit(repo, "Add a big fixture", now - timedelta(days=20))
    lines[29] = "# tidied\n"
    (repo / "src/app/cart.py").write_text("".join(lines))
    _commit(repo, "Tidy cart comments", now - timedelta(days=3))
    subprocess.run(["git", "tag", "v1.0"], cwd=repo, check=True)
    return repo
