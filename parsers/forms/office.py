"""DOCX (python-docx), XLSX (openpyxl) and XLS (xlrd) -> text with tab-joined table rows."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from parsers.errors import CorruptFile
from parsers.grid import SpanCell, expand, render_rows
from parsers.model import Extracted
from parsers.rules.forms import MAX_SHEET_COLUMNS, MAX_SHEET_ROWS


def docx_text(raw: bytes) -> Extracted:
    """Paragraphs and tables in document order; merged cells expanded as in HTML."""
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        lines = list(_docx_blocks(document))
    except Exception as exc:  # noqa: BLE001 - zip, XML and python-docx errors on broken files
        raise CorruptFile("DOCX") from exc
    return Extracted("\n".join(lines), "docx")


def _docx_blocks(document: Any) -> Iterator[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = " ".join(block.text.split())
            if text:
                yield text
        elif isinstance(block, Table):
            yield from render_rows(_docx_grid(block))


def _docx_grid(table: Any) -> list[list[str]]:
    """python-docx repeats a merged cell in every grid column and row it covers, as grid.py does."""
    return [
        [_cell_text(c) for c in list(row.cells)[:MAX_SHEET_COLUMNS]]
        for row in table.rows[:MAX_SHEET_ROWS]
    ]


def _cell_text(cell: Any) -> str:
    # Paragraphs in a cell are one label split by Word: joined without a space.
    return "".join(" ".join(p.text.split()) for p in cell.paragraphs)


def xlsx_text(raw: bytes) -> Extracted:
    """Every sheet as a table, merged ranges expanded; cached formula values, not formulas."""
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
        lines = [line for sheet in book.worksheets for line in _xlsx_sheet(sheet)]
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors on broken files
        raise CorruptFile("XLSX") from exc
    return Extracted("\n".join(lines), "xlsx")


def _xlsx_sheet(sheet: Any) -> list[str]:
    rows = min(sheet.max_row or 0, MAX_SHEET_ROWS)
    cols = min(sheet.max_column or 0, MAX_SHEET_COLUMNS)
    merged = [(r.min_row - 1, r.min_col - 1, r.max_row - r.min_row + 1, r.max_col - r.min_col + 1)
              for r in sheet.merged_cells.ranges]  # fmt: skip
    values = [
        [cell_value(c) for c in row]
        for row in sheet.iter_rows(min_row=1, max_row=rows, max_col=cols, values_only=True)
    ]
    return render_rows(expand(_spanned(values, merged)))


def xls_text(raw: bytes) -> Extracted:
    """Every sheet of an Excel 97-2003 workbook, merged ranges expanded."""
    try:
        import xlrd

        book = xlrd.open_workbook(file_contents=raw, formatting_info=True)
        lines = [line for sheet in book.sheets() for line in _xls_sheet(sheet)]
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds on broken files
        raise CorruptFile("XLS") from exc
    return Extracted("\n".join(lines), "xls")


def _xls_sheet(sheet: Any) -> list[str]:
    rows = min(sheet.nrows, MAX_SHEET_ROWS)
    cols = min(sheet.ncols, MAX_SHEET_COLUMNS)
    values = [[cell_value(sheet.cell_value(r, c)) for c in range(cols)] for r in range(rows)]
    merged = [(r0, c0, r1 - r0, c1 - c0) for r0, r1, c0, c1 in sheet.merged_cells]
    return render_rows(expand(_spanned(values, merged)))


def _spanned(
    values: Sequence[Sequence[str]], merged: Sequence[tuple[int, int, int, int]]
) -> list[list[SpanCell]]:
    """A sheet's values with its merged ranges as (text, rowspan, colspan) cells, for grid.expand."""
    anchors = {(r, c): (rs, cs) for r, c, rs, cs in merged}
    covered = {
        (r + dr, c + dc)
        for r, c, rs, cs in merged
        for dr in range(min(rs, MAX_SHEET_ROWS))
        for dc in range(min(cs, MAX_SHEET_COLUMNS))
        if dr or dc
    }
    rows: list[list[SpanCell]] = []
    for r, row in enumerate(values):
        cells: list[SpanCell] = []
        for c, text in enumerate(row):
            if (r, c) in covered:
                continue
            rs, cs = anchors.get((r, c), (1, 1))
            cells.append((text, rs, cs))
        rows.append(cells)
    return rows


def cell_value(value: object) -> str:
    """A cell as printed: 120.0 -> '120', 24252.311082 -> '24252.311082', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")  # repr: the shortest digits that round-trip
    return " ".join(str(value).split())
