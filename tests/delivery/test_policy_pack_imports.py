"""The policy pack runs in its own virtualenv with only pulumi and pulumi_policy: it must not
import anything else of this project's dependencies."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "infra" / "policy"
AVAILABLE = {"pulumi", "pulumi_policy", "infra"} | set(sys.stdlib_module_names)


def test_the_pack_imports_only_what_its_virtualenv_has() -> None:
    files = sorted(POLICY.glob("*.py"))
    assert {f.name for f in files} >= {"__main__.py", "pack.py", "rules.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in AVAILABLE, f"{path.name} imports {name}"
                if root == "infra":
                    assert name.startswith("infra.policy"), f"{path.name} imports {name}"
    requirements = (POLICY / "requirements.txt").read_text().splitlines()
    assert sorted(r.split("==")[0] for r in requirements if r and not r.startswith("#")) == [
        "pulumi",
        "pulumi-policy",
    ]
