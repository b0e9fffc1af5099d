"""The expand/contract guard over the real migrations, and over migrations written wrong."""

from __future__ import annotations

from pathlib import Path

from scripts.migration_guard import load, main, refusals

HEADER = """
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}
{extra}

def upgrade() -> None:
{body}

def downgrade() -> None:
    op.drop_table("anything_goes_here")
"""


def _write(tmp: Path, rev: str, down: str | None, body: str, extra: str = "") -> None:
    (tmp / f"{rev}.py").write_text(HEADER.format(rev=rev, down=repr(down), body=body, extra=extra))


def test_the_repositorys_migrations_pass() -> None:
    revisions = load()
    assert len(revisions) >= 4
    assert refusals(revisions) == []
    assert main([]) == 0


def test_drops_and_renames_in_upgrade_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "0001", None, '    op.create_table("t", sa.Column("a", sa.Text))')
    _write(tmp_path, "0002", "0001", '    op.drop_column("t", "a")')
    _write(tmp_path, "0003", "0002",
           '    op.alter_column("t", "a", new_column_name="b")')  # fmt: skip
    _write(tmp_path, "0004", "0003", '    op.execute("ALTER TABLE t RENAME COLUMN a TO b")')
    _write(tmp_path, "0005", "0004", '    op.execute("""\n    DROP   TABLE t\n    """)')
    problems = refusals(load(tmp_path))
    assert [p.split(" ")[0] for p in problems] == ["0002.py", "0003.py", "0004.py", "0005.py"]
    assert "drop_column" in problems[0] and "new_column_name" in problems[1]
    assert main([str(tmp_path)]) == 1


def test_a_contract_step_of_an_earlier_expand_is_allowed(tmp_path: Path) -> None:
    _write(tmp_path, "0001", None, '    op.add_column("t", sa.Column("b", sa.Text))')
    _write(tmp_path, "0002", "0001", '    op.drop_column("t", "a")', 'contract_of = "0001"')
    _write(tmp_path, "0003", "0002", '    op.drop_table("old")', 'contract_of = "0009"')
    problems = refusals(load(tmp_path))
    assert len(problems) == 1 and problems[0].startswith("0003.py")
    assert "not an earlier revision" in problems[0]
