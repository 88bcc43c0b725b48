"""Imports flow one way. The record (archive) knows only the parsers; the questions
(questions) and the operations (ops: leases, health, alerts, backfill plans) read the record; the
crawler writes it under ops' leases; the scheduler composes crawler and ops; web answers questions
and only nianbao imports it; replica stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {
    "parsers",
    "archive",
    "questions",
    "ops",
    "crawler",
    "scheduler",
    "nianbao",
    "replica",
    "web",
}
# What each package may import of ours, besides itself.
ALLOWED = {
    "parsers": set(),
    "replica": set(),
    "archive": {"parsers"},
    "questions": {"archive", "parsers"},
    "ops": {"archive", "parsers"},
    "crawler": {"ops", "archive", "parsers"},
    "scheduler": {"crawler", "ops", "archive", "parsers"},
    "web": {"questions", "ops", "archive", "parsers"},
    "nianbao": {"scheduler", "crawler", "questions", "ops", "archive", "parsers", "replica", "web"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every `import x` / `from x import` in one file (absolute imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_one_way(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_packages(path) - ALLOWED[package] - {package}
    }
    assert not wrong, sorted(wrong)


def test_the_checker_sees_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from archive.db import make_engine\nimport crawler.job\n", encoding="utf-8")
    assert imported_packages(bad) == {"archive", "crawler"}


# A status (on time, late, missing, not yet due, undated, unreachable, gone) is computed in one
# place: these are the functions it is made of, and only `questions/` may call them.
STATUS_MAKERS = {"deadline_for", "searches", "day_end", "page_faults"}


def test_no_module_outside_questions_computes_a_status() -> None:
    wrong = set()
    for package in sorted(OURS - {"questions"}):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    used = {alias.name for alias in node.names} & STATUS_MAKERS
                    wrong.update(f"{path.relative_to(ROOT)} imports {name}" for name in used)
    assert not wrong, sorted(wrong)
