"""DOCX (python-docx), XLSX (openpyxl) and XLS (xlrd) -> text with tab-joined table rows."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

from parsers.errors import CorruptFile, LimitExceeded, ParseError
from parsers.forms.zipcheck import check_zip
from parsers.grid import SpanCell, expand, render_rows
from parsers.model import Extracted
from parsers.rules.limits import (
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_SHEETS,
    MAX_TEXT_LINES,
    ZIP_READ_CHUNK,
)

# <mergeCell ref="A1:B2"/> in a worksheet's XML (after its rows: found by scanning the stream).
_MERGE_RE = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^<>]*?\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"'
)
_MERGE_OVERLAP = 256  # longer than any mergeCell element: a match cut by a chunk is found whole


def docx_text(raw: bytes) -> Extracted:
    """Paragraphs and tables in document order; merged cells expanded as in HTML.

    Raises LimitExceeded for a zip bomb (zipcheck.py) or over MAX_TEXT_LINES lines.
    """
    check_zip(raw, "DOCX")
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        lines = list(islice(_docx_blocks(document), MAX_TEXT_LINES + 1))
    except (ParseError, MemoryError):  # a limit's own error; memory is the caller's to see
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and python-docx errors on broken files
        raise CorruptFile("DOCX") from exc
    if len(lines) > MAX_TEXT_LINES:
        raise LimitExceeded("DOCX", len(lines), "lines or more", MAX_TEXT_LINES, "MAX_TEXT_LINES")
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
    """Every sheet as a table, merged ranges expanded; cached formula values, not formulas.

    Sheets are streamed (openpyxl read_only), so MAX_SHEET_ROWS applies before a sheet is read
    whole; a zip bomb is refused first (zipcheck.py).
    """
    check_zip(raw, "XLSX")
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheets = book.worksheets[:MAX_SHEETS]
            lines = [line for sheet in sheets for line in _xlsx_sheet(sheet, book._archive)]
        finally:
            book.close()
    except (ParseError, MemoryError):  # a limit's own error; memory is the caller's to see
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors on broken files
        raise CorruptFile("XLSX") from exc
    return Extracted("\n".join(lines), "xlsx")


def _xlsx_sheet(sheet: Any, archive: zipfile.ZipFile) -> list[str]:
    from openpyxl.cell.read_only import EMPTY_CELL

    rows = [list(row) for row in sheet.iter_rows(max_row=MAX_SHEET_ROWS, max_col=MAX_SHEET_COLUMNS)]
    merged = _merged_ranges(archive, sheet._worksheet_path)
    # As wide as its widest row's last cell or merged range (read_only pads rows to max_col).
    width = max(
        [_last_cell(row, EMPTY_CELL) for row in rows]
        + [min(c + cs, MAX_SHEET_COLUMNS) for r, c, _, cs in merged if r < len(rows)]
        + [0]
    )
    values = [[cell_value(c.value) for c in row[:width]] for row in rows]
    merged = _clipped(merged, len(values), width)
    return render_rows(expand(_spanned(values, merged)))


def _last_cell(row: Sequence[Any], empty: Any) -> int:
    for i in range(len(row), 0, -1):
        if row[i - 1] is not empty:
            return i
    return 0


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges as (row, col, rowspan, colspan), 0-based, read off its stream."""
    from openpyxl.utils import column_index_from_string

    found: list[tuple[int, int, int, int]] = []
    carry = b""
    with archive.open(path) as stream:
        while chunk := stream.read(ZIP_READ_CHUNK):
            window = carry + chunk
            last = len(window) - _MERGE_OVERLAP
            for m in _MERGE_RE.finditer(window):
                c0, r0, c1, r1 = m.groups()
                col0, col1 = (
                    column_index_from_string(c0.decode()),
                    column_index_from_string(c1.decode()),
                )
                found.append((int(r0) - 1, col0 - 1, int(r1) - int(r0) + 1, col1 - col0 + 1))
                last = max(last, m.end())
            carry = window[max(last, 0) :]
    return found


def _clipped(
    merged: Sequence[tuple[int, int, int, int]], rows: int, cols: int
) -> list[tuple[int, int, int, int]]:
    """Merges inside the grid read, clipped to it; no more cells covered than the grid has."""
    kept, area = [], 0
    for r, c, rs, cs in merged:
        if not (0 <= r < rows and 0 <= c < cols) or rs < 1 or cs < 1:
            continue
        rs, cs = min(rs, rows - r), min(cs, cols - c)
        area += rs * cs
        if area > rows * cols:
            break  # ranges overlap: junk, the rest are ignored
        kept.append((r, c, rs, cs))
    return kept


def xls_text(raw: bytes) -> Extracted:
    """Every sheet of an Excel 97-2003 workbook, merged ranges expanded."""
    try:
        import xlrd

        book = xlrd.open_workbook(file_contents=raw, formatting_info=True)
        lines = [line for sheet in book.sheets() for line in _xls_sheet(sheet)]
    except MemoryError:
        raise
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
