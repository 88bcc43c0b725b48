"""Render rows as a table as wide as the terminal, CSV (optionally with a BOM for Excel) or a
JSON array with stable snake_case field names.

One time convention for people: ISO 8601 in Asia/Shanghai with its offset
(`2020-03-02T09:15+08:00`). Numbers stay numbers in JSON, exact decimals included.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.cells import cell_len, set_cell_size

from archive.clock import SHANGHAI
from archive.files import csv_cell, json_text, plain

FORMATS = ("table", "csv", "json")

BOM = "\ufeff"
GAP = "  "  # between columns: a table reads as columns, and copies into a spreadsheet
ELLIPSIS = "…"
# A column this narrow (ids, years, dates, timestamps, statuses) is a token: never cut.
TOKEN_WIDTH = 22
MIN_CUT = 8  # a cut column keeps at least this many cells, ellipsis included
# A cell of ASCII letters, digits and URL-less punctuation up to TOKEN_WIDTH: an id, a year, a
# date or timestamp, a status, a number. A column of them is cut only as a last resort.
_TOKEN = re.compile(rf"[\w:+\-.,/]{{0,{TOKEN_WIDTH}}}", re.ASCII)


def moment(value: datetime) -> str:
    """A moment for people and logs: Asia/Shanghai, to the minute, with the +08:00 offset."""
    return value.astimezone(SHANGHAI).isoformat(timespec="minutes")


def cli_value(value: Any) -> Any:
    """A JSON-ready value as the CLI prints it: moments in +08:00, exact decimals kept."""
    if isinstance(value, datetime):
        return moment(value) if value.tzinfo is not None else plain(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (list, tuple)):
        return [cli_value(v) for v in value]
    if isinstance(value, dict):
        return {k: cli_value(v) for k, v in value.items()}
    return plain(value)


def as_dicts(rows: Sequence[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
    """Dataclass rows (or dicts) reduced to `fields`, in that order, ready to render."""
    out = []
    for row in rows:
        is_row = dataclasses.is_dataclass(row) and not isinstance(row, type)
        data = dataclasses.asdict(row) if is_row else dict(row)
        out.append({f: cli_value(data.get(f)) for f in fields})
    return out


def to_json(data: Any) -> str:
    """JSON text where a Decimal is a number with its exact digits (archive.files.json_text)."""
    return json_text(data, cli_value)


def render(
    rows: list[dict[str, Any]],
    fields: Sequence[str],
    fmt: str,
    title: str | None = None,
    *,
    bom: bool = False,
    width: int | None = None,
) -> str:
    """The rows in the chosen format, as text ready to print; `width` defaults to the
    terminal's (COLUMNS, else the terminal; unbounded without one)."""
    if fmt == "json":
        return to_json(rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
        return (BOM if bom else "") + buffer.getvalue().rstrip("\n")
    return table(rows, fields, title, width or terminal_width())


# When the table goes to a file or a pipe there is no terminal to fit: nothing is cut, so a grep
# or a redirect keeps every value whole.
UNBOUNDED = 1_000_000


def terminal_width() -> int:
    """COLUMNS when set, else the terminal's width, else (no terminal) unbounded."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(20, int(columns))
    if not sys.stdout.isatty():
        return UNBOUNDED
    return max(20, shutil.get_terminal_size().columns)


def cell_text(value: Any) -> str:
    """A value as one line of a table cell."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    return " ".join(str(value).split())


def table(rows: list[dict[str, Any]], fields: Sequence[str], title: str | None, width: int) -> str:
    """Columns fitted to `width` display cells (CJK characters count two): token columns
    (ids, dates, timestamps) keep their width, long ones are cut with an ellipsis, and no
    cell wraps, so a URL or a timestamp is never split."""
    cells = [[cell_text(row.get(f)) for f in fields] for row in rows]
    widths = fit([cell_len(f) for f in fields], cells, width)
    lines = [fit_line(title, width)] if title else []
    lines.append(_line(list(fields), widths))
    lines.append(GAP.join("─" * w for w in widths))
    lines += [_line(row, widths) for row in cells]
    if not rows:
        lines.append("(none)")
    return "\n".join(fit_line(line, width) for line in lines)


def natural_width(rows: list[dict[str, Any]], fields: Sequence[str]) -> int:
    """How wide the table of `rows` is when no column is cut."""
    cells = [[cell_text(row.get(f)) for f in fields] for row in rows]
    natural = [max([cell_len(f), *(cell_len(r[i]) for r in cells)]) for i, f in enumerate(fields)]
    return sum(natural) + len(GAP) * (len(fields) - 1)


def fit(heads: list[int], cells: list[list[str]], width: int) -> list[int]:
    """Each column's width: its natural width if all fit; else the widest text columns are
    narrowed first (never below MIN_CUT), token columns (ids, dates, timestamps, statuses) only
    when that is not enough."""
    natural = [max([h, *(cell_len(r[i]) for r in cells)]) for i, h in enumerate(heads)]
    room = width - len(GAP) * (len(natural) - 1)
    if sum(natural) <= room:
        return natural
    tokens = [all(_TOKEN.fullmatch(r[i]) for r in cells) for i in range(len(natural))]
    floors = [n if token else min(n, MIN_CUT) for n, token in zip(natural, tokens, strict=True)]
    widths = _cap(natural, floors, room)
    return widths if sum(widths) <= room else _cap(natural, [1] * len(natural), room)


def _cap(natural: list[int], floors: list[int], room: int) -> list[int]:
    """The widest cap on every column (each kept at least at its floor) that fits `room`."""
    widths = natural
    for cap in range(max(natural), 0, -1):
        widths = [min(n, max(cap, f)) for n, f in zip(natural, floors, strict=True)]
        if sum(widths) <= room:
            break
    return widths


def fit_line(text: str | None, width: int) -> str:
    """One line cut to `width` display cells, with an ellipsis where it was cut."""
    text = (text or "").rstrip()
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + ELLIPSIS


def _line(values: list[str], widths: list[int]) -> str:
    return GAP.join(_pad(v, w) for v, w in zip(values, widths, strict=True)).rstrip()


def _pad(text: str, width: int) -> str:
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + ELLIPSIS
    return set_cell_size(text, width)
