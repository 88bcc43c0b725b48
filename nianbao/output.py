"""Render rows as a rich table, CSV or a JSON array with stable snake_case field names."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from archive.files import csv_cell, plain

FORMATS = ("table", "csv", "json")


def as_dicts(rows: Sequence[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
    """Dataclass rows (or dicts) reduced to `fields`, in that order, JSON-ready."""
    out = []
    for row in rows:
        is_row = dataclasses.is_dataclass(row) and not isinstance(row, type)
        data = dataclasses.asdict(row) if is_row else dict(row)
        out.append({f: plain(data.get(f)) for f in fields})
    return out


def render(
    rows: list[dict[str, Any]], fields: Sequence[str], fmt: str, title: str | None = None
) -> str:
    """The rows in the chosen format, as text ready to print."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
        return buffer.getvalue().rstrip("\n")
    return _table(rows, fields, title)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _table(rows: list[dict[str, Any]], fields: Sequence[str], title: str | None) -> str:
    table = Table(title=title, show_lines=False)
    for field in fields:
        table.add_column(field, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(f)) for f in fields))
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip("\n")
