"""`local-pre2019`: any other statistics table (e.g. Fujian's 本年度 / 历年累计 columns).

Keys are local.<label>.<column>, the label as printed with whitespace removed.
"""

from __future__ import annotations

import re

from parsers import runtogether
from parsers.model import Check, Figure, Provenance
from parsers.rowtext import Row, compact, split_row, value_of
from parsers.rules.core import (
    FORM_CELLS,
    FORM_RUN_TOGETHER,
    FORM_TEXT_ROW,
    LOCAL_COLUMNS,
    LOCAL_HEADER_SOURCE,
    LOCAL_HEADLINE,
    LOCAL_LOOSE_COLUMNS,
    LOCAL_MAX_ROWS,
)

_HEADER_RE = re.compile(LOCAL_HEADER_SOURCE)
_LINE_RE = re.compile(r"[^\n]+")
_COLUMNS = tuple((re.compile(p), name) for p, name in LOCAL_COLUMNS)
_LOOSE = tuple((re.compile(p), name) for p, name in LOCAL_LOOSE_COLUMNS)
_HEADLINE = tuple((key, re.compile(p)) for key, p in LOCAL_HEADLINE)
MAX_LABEL = 60
# 本年度 and 累计 printed with nothing between them ('主动公开政府信息数110'): 累计 ≥ 本年度.
_RUN_COLUMNS = ["year", "cumulative"]
_RUN_LAYOUT = runtogether.Layout((2,), summed=False, ascending=True)


def parse_local(text: str) -> tuple[list[Figure], list[Check]]:
    """local.* figures of the first table whose header names 历年累计; findings about cells
    run together that could not be split."""
    lines = [(m.start(), m.end()) for m in _LINE_RE.finditer(text)]
    for i, (start, end) in enumerate(lines):
        if _HEADER_RE.search(text[start:end]):
            columns = _columns(text[start:end])
            return _rows(text, lines[i + 1 : i + 1 + LOCAL_MAX_ROWS], columns)
    return [], []


def _columns(header: str) -> list[str]:
    """Column names from the header line, after its first (label) cell."""
    cells = header.split("\t") if "\t" in header else header.split()
    if len(cells) < 2:  # pasted without separators: '指标本年度历年累计'
        return [name for _, name in sorted(_known_columns(header))]
    return [_column_name(compact(c)) for c in cells[1:] if compact(c)]


def _known_columns(header: str) -> list[tuple[int, str]]:
    return [(m.start(), name) for rx, name in _LOOSE for m in rx.finditer(header)]


def _column_name(printed: str) -> str:
    return next((name for rx, name in _COLUMNS if rx.search(printed)), printed)


def _rows(
    text: str, lines: list[tuple[int, int]], columns: list[str]
) -> tuple[list[Figure], list[Check]]:
    found: dict[str, Figure] = {}
    findings: list[Check] = []
    for start, end in lines:
        line = text[start:end].strip()
        row = split_row(line)
        if not row.values or len(row.label) > MAX_LABEL:
            if len(compact(line)) > MAX_LABEL:
                break  # prose again: the table has ended
            continue
        start += len(text[start:end]) - len(text[start:end].lstrip())
        if columns == _RUN_COLUMNS and _glued(line, row):
            prov = Provenance(line, start, start + len(line), form=FORM_RUN_TOGETHER)
            findings += _run(row, prov, found)
            continue
        form = FORM_CELLS if row.cells else FORM_TEXT_ROW
        prov = Provenance(line, start, start + len(line), form=form)
        for column, token in zip(columns, row.values[-len(columns) :], strict=False):
            number = 0 if token is None else value_of(token)
            key = f"local.{row.joined}.{column}"
            if number is not None and key not in found:
                found[key] = Figure(key, number, prov, blank=token is None)
    return list(found.values()), findings


def _glued(line: str, row: Row) -> bool:
    """One number right after the label, no space between: a text row whose cells ran together."""
    token = row.values[0] if len(row.values) == 1 and not row.cells else None
    return token is not None and token.isdigit() and not line[: -len(token)][-1:].isspace()


def _run(row: Row, prov: Provenance, found: dict[str, Figure]) -> list[Check]:
    """本年度 and 累计 from one run, when only one split has 累计 ≥ 本年度; else a finding."""
    keys = tuple(f"local.{row.joined}.{c}" for c in _RUN_COLUMNS)
    run = runtogether.Run(row.joined, keys, row.values[0] or "", _RUN_LAYOUT)
    cells, findings = runtogether.recover([run], {}, ())
    for key, value in cells.items():
        found.setdefault(key, Figure(key, value, prov))
    return findings


def headline_from_local(figures: list[Figure]) -> list[Figure]:
    """Headline figures from the rows whose label names them (the `year` column)."""
    out: dict[str, Figure] = {}
    for f in figures:
        label, _, column = f.key.removeprefix("local.").rpartition(".")
        if column != "year":
            continue
        for key, rx in _HEADLINE:
            if key not in out and rx.search(label):
                out[key] = Figure(key, f.value, f.provenance, f.blank)
    return list(out.values())
