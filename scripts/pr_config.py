"""Give a PR stack dev's configuration on every run, keeping the stack's own secrets provider.

    python scripts/pr_config.py pr-<number>

``Pulumi.dev.yaml`` is committed after ``pulumi stack init dev --secrets-provider
azurekeyvault://…/pulumi-dev``, so besides ``config:`` it names dev's key (``secretsprovider``,
``encryptedkey``), which the PR identity cannot use. A PR stack takes dev's ``config:`` block
and keeps the ``secretsprovider``/``encryptedkey`` of its own ``Pulumi.pr-<n>.yaml`` (written by
``pulumi stack select --create --secrets-provider …`` for a new stack, or restored by ``pulumi
config refresh`` for an existing one). Exit 2 with a message when that cannot be done safely.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OWN_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return data if isinstance(data, dict) else {}


def merge(stack: str, root: Path = ROOT) -> Path:
    if not re.fullmatch(r"pr-[1-9][0-9]*", stack):
        raise ValueError(f"{stack!r} is not a PR stack (pr-<number>)")
    dev = _load(root / "Pulumi.dev.yaml")
    config = dev.get("config") or {}
    secure = [k for k, v in config.items() if isinstance(v, dict) and "secure" in v]
    if secure:
        raise ValueError(
            f"Pulumi.dev.yaml has secure values ({', '.join(secure)}), encrypted with dev's key: "
            "a PR stack cannot read them; keep dev's configuration plain"
        )
    target = root / f"Pulumi.{stack}.yaml"
    own = {k: v for k, v in _load(target).items() if k in OWN_KEYS}
    target.write_text(yaml.safe_dump(own | {"config": config}, sort_keys=False))
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/pr_config.py pr-<number>", file=sys.stderr)
        return 2
    try:
        path = merge(argv[0])
    except ValueError as error:
        print(f"pr_config: {error}", file=sys.stderr)
        return 2
    print(
        f"pr_config: {path.name} has dev's configuration and its own secrets key", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
