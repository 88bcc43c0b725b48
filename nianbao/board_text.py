"""`nianbao status`: the web view's board (questions.board) drawn as text, fitted to the terminal.

The cells are questions.board's, built from questions.status's answers; this module only words them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rich.cells import cell_len
from sqlalchemy.orm import Session

from nianbao.output import cell_text, fit_line, natural_width, table, terminal_width
from questions.board import BoardQuery, BoardRow, board_records, build_board
from questions.cache import AnswerCache
from questions.deadlines import DeadlineRules

# status -> (words, short words for a narrow terminal); `late` adds its days.
WORDS = {
    "on_time": ("on time", "ok"),
    "late": ("late", "L"),
    "missing": ("missing", "MISS"),
    "not_yet_due": ("not yet due", "due"),
    "undated": ("undated", "?"),
    "unreachable": ("unreachable", "unr"),
    "gone": ("gone", "gone"),
    "not_expected": ("", ""),
}
LEGEND = (
    "ok on time · L12 late 12 days · MISS missing · due not yet due · ? undated · unr unreachable"
)


@dataclass
class PortalBoard:
    """One portal's board over every page of questions.board's."""

    portal: str
    years: list[int]
    rows: list[BoardRow] = field(default_factory=list)
    counts: dict[int, Counter[str]] = field(default_factory=dict)
    records: list[dict[str, object]] = field(default_factory=list)


def status_records(
    session: Session,
    rules: DeadlineRules,
    portal: str,
    years: list[int],
    kind: str | None,
    as_of: date,
) -> PortalBoard:
    """Every page of the portal's board, as the web view builds it."""
    cache = AnswerCache()
    board = PortalBoard(portal, years)
    page, pages = 1, 1
    while page <= pages:
        query = BoardQuery(portal, years[0], years[-1], None, kind, page)
        built = build_board(session, query, rules, as_of, cache)
        board.rows += built.rows
        board.records += board_records(built)
        board.counts, pages, page = built.counts, built.pages, page + 1
    return board


def status_table(board: PortalBoard, width: int | None = None) -> str:
    """The board as text: a publisher per line, a year per column, counts per year below."""
    width = width or terminal_width()
    fields, rows = _grid(board, short=False)
    short = natural_width(rows, fields) > width
    if short:
        fields, rows = _grid(board, short=True)
    text = table(rows + _counts(board, short), fields, f"status {board.portal}", width)
    return "\n".join([text, *_legend(width)] if short else [text])


def _legend(width: int) -> list[str]:
    """The short words' legend, broken between entries to fit the terminal."""
    lines = [""]
    for entry in LEGEND.split(" · "):
        joined = f"{lines[-1]} · {entry}" if lines[-1] else entry
        if cell_len(joined) <= width or not lines[-1]:
            lines[-1] = joined
        else:
            lines.append(entry)
    return [fit_line(line, width) for line in lines]


def _counts(board: PortalBoard, short: bool) -> list[dict[str, Any]]:
    """A row per status that occurs: how many cells of each year have it (over every page)."""
    shown = [s for s in WORDS if s != "not_expected"]
    present = [s for s in shown if any(c.get(s) for c in board.counts.values())]
    return [
        {
            "publisher": f"= {WORDS[s][1 if short else 0]}",
            **{str(y): board.counts.get(y, Counter()).get(s, 0) for y in board.years},
        }
        for s in present
    ]


def _grid(board: PortalBoard, short: bool) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    fields = ("publisher", *(str(y) for y in board.years))
    rows = [
        {"publisher": row.name, **{str(y): _word(row, y, short) for y in board.years}}
        for row in board.rows
    ]
    return fields, rows


def _word(row: BoardRow, year: int, short: bool) -> str:
    cell = row.cells.get(year)
    if cell is None:
        return ""
    words = WORDS.get(cell.status, (cell.status, cell.status))[1 if short else 0]
    if cell.status == "late" and cell.days_late is not None:
        return f"{words}{cell.days_late}" if short else f"{words} {cell.days_late}"
    return cell_text(words)
