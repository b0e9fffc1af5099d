"""Expand/contract guard: a migration's upgrade may not drop or rename what the previous
release still reads (tables, columns, views, functions), because during a deploy the old
release keeps serving on the migrated schema until the swap.

Such a step is allowed only in a revision that declares itself the contract step of an
earlier expand, with a module attribute ``contract_of = "<revision of the expand>"``: by then
the release that stopped reading the old shape is the one in production.

``python scripts/migration_guard.py [versions dir]`` prints each refusal; exit 1 if any.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"
_DESTRUCTIVE_CALLS = {"drop_table", "drop_column", "rename_table"}
_DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN|VIEW|FUNCTION|TYPE)|RENAME\s+(TO|COLUMN)|ALTER\s+TABLE\s+\S+\s+RENAME)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Revision:
    path: Path
    revision: str
    down_revision: str | None
    contract_of: str | None
    destructive: tuple[str, ...]


def _constant(tree: ast.Module, name: str) -> str | None:
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
                return None
    return None


def destructive_steps(tree: ast.Module) -> list[str]:
    """What ``upgrade()`` drops or renames, as ``line: what``."""
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
    found: list[str] = []
    for node in ast.walk(upgrade) if upgrade else ():
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name in _DESTRUCTIVE_CALLS:
            found.append(f"{node.lineno}: {name}")
        elif name == "alter_column" and any(k.arg == "new_column_name" for k in node.keywords):
            found.append(f"{node.lineno}: alter_column(new_column_name=...)")
        elif name == "execute" and node.args:
            text = "".join(
                part.value
                for part in ast.walk(node.args[0])
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
            if match := _DESTRUCTIVE_SQL.search(text):
                found.append(f"{node.lineno}: SQL {' '.join(match.group(0).split())}")
    return found


def load(versions: Path = VERSIONS) -> dict[str, Revision]:
    revisions: dict[str, Revision] = {}
    for path in sorted(versions.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        revision = _constant(tree, "revision")
        if revision is None:
            continue
        revisions[revision] = Revision(
            path=path,
            revision=revision,
            down_revision=_constant(tree, "down_revision"),
            contract_of=_constant(tree, "contract_of"),
            destructive=tuple(destructive_steps(tree)),
        )
    return revisions


def _ancestors(revisions: dict[str, Revision], revision: str) -> set[str]:
    seen: set[str] = set()
    current = revisions[revision].down_revision
    while current and current in revisions and current not in seen:
        seen.add(current)
        current = revisions[current].down_revision
    return seen


def refusals(revisions: dict[str, Revision]) -> list[str]:
    problems: list[str] = []
    for rev in revisions.values():
        if not rev.destructive:
            continue
        where = f"{rev.path.name} (revision {rev.revision})"
        if rev.contract_of is None:
            problems.append(
                f"{where} drops or renames what the previous release reads "
                f"({'; '.join(rev.destructive)}): split it into an expand step and a later "
                f'contract step that sets contract_of = "<expand revision>"'
            )
        elif rev.contract_of not in _ancestors(revisions, rev.revision):
            problems.append(
                f"{where}: contract_of = {rev.contract_of!r} is not an earlier revision"
            )
    return problems


def main(argv: list[str]) -> int:
    versions = Path(argv[0]) if argv else VERSIONS
    problems = refusals(load(versions))
    for problem in problems:
        print(f"migration guard: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
