"""Tables as grids: spans expanded, rendered as tab-joined lines (the form every reader takes).

A spanning cell is repeated in every grid position it covers: each row then carries its full
label ('（三）不予公开' beside '1.属于国家秘密'), and a value spanning the columns of a one-column
item (gov2021's 本年处理决定数量) still sits in the row's last cell. Readers drop repeated labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

SpanCell = tuple[str, int, int]  # (text, rowspan, colspan)
MAX_COLUMNS = 200


def expand(rows: Iterable[Sequence[SpanCell]]) -> Iterator[list[str]]:
    """Rows of (text, rowspan, colspan) -> the grid's rows of texts with every span filled in.

    A generator: a caller bounding its output (htmltext's text limits) stops the expansion too.
    """
    carried: dict[int, tuple[str, int]] = {}  # column -> (text, rows still to cover)
    for row in rows:
        out: list[str] = []
        cells = list(row)
        while cells or _carried_at(carried, len(out)):
            col = len(out)
            if col >= MAX_COLUMNS:
                break
            if col in carried:
                text, left = carried[col]
                out.append(text)
                _decrement(carried, col, text, left)
                continue
            if not cells:
                out.append("")  # a gap before a cell carried down from an earlier row
                continue
            text, rowspan, colspan = cells.pop(0)
            for offset in range(colspan):
                out.append(text)
                if rowspan > 1:
                    carried[col + offset] = (text, rowspan - 1)
        yield out


def _carried_at(carried: dict[int, tuple[str, int]], col: int) -> bool:
    return bool(carried) and max(carried) >= col


def _decrement(carried: dict[int, tuple[str, int]], col: int, text: str, left: int) -> None:
    if left <= 1:
        del carried[col]
    else:
        carried[col] = (text, left - 1)


def render_rows(grid: Iterable[Sequence[str]]) -> list[str]:
    """One line per row, cells joined by tabs, empty rows skipped.

    Trailing empty cells are kept: a row whose last cells are blank must still show them.
    """
    return [line for line in map(render_row, grid) if line is not None]


def render_row(row: Sequence[str]) -> str | None:
    """One row as a tab-joined line; None for a row with no text."""
    cells = [c.replace("\t", " ").replace("\n", " ").strip() for c in row]
    return "\t".join(cells) if any(cells) else None
