"""No SQL is built from strings: every statement is SQLAlchemy Core/ORM or a constant literal.

A statement made with an f-string, `%`, `+` or `.format` could carry a server's or a user's text
into the database; this walks the source of every package and names the line that does it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "archive",
    "questions",
    "ops",
    "crawler",
    "nianbao",
    "parsers",
    "scheduler",
    "replica",
    "web",
)
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "literal_column"}


def _built(node: ast.expr) -> bool:
    """An expression that assembles a string at run time."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"format", "join"}
    )


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def offenders(source: str, path: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _name(node.func) in SQL_CALLS and node.args):
            continue
        if _built(node.args[0]):
            found.append(f"{path}:{node.lineno}")
    return found


def test_the_check_catches_a_built_statement() -> None:
    assert offenders('conn.execute(text(f"SELECT * FROM t WHERE a = {x}"))', "x.py") == ["x.py:1"]
    assert offenders('cur.execute("SELECT " + col)', "x.py") == ["x.py:1"]
    assert offenders('conn.execute(text("SELECT 1"))', "x.py") == []


def test_no_sql_is_built_from_strings() -> None:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += offenders(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    assert found == []
