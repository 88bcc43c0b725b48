"""The board: per portal, publishers × years, each cell a status from archive.status.

The statuses are `archive.status.missing`'s and `late`'s, never decided here; a cell with a
report that neither lists is `on_time` when the report states a date, else `undated` (no date
to judge by). A publisher that did not exist in a year has no cell (`not_expected`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.deadlines import DeadlineRules, deadline_for
from archive.models import Document, Publisher
from archive.status import LateRow, MissingRow, late, missing

PAGE_SIZE = 100
# status -> (Chinese, English): every cell shows the words, not the colour alone.
STATUSES = {
    "on_time": ("按时", "on time"),
    "late": ("逾期", "late"),
    "missing": ("未发布", "missing"),
    "not_yet_due": ("未到期", "not yet due"),
    "undated": ("未注明日期", "undated"),
    "unreachable": ("无法访问", "unreachable"),
    "gone": ("已删除", "gone"),
    "not_expected": ("不适用", "not expected"),
}
BOARD_FIELDS = (
    "portal", "publisher", "kind", "year", "deadline", "status", "days_late",
    "published_at", "report_id", "url", "evidence",
)  # fmt: skip


@dataclass(frozen=True)
class BoardQuery:
    """What the board shows; every field comes from the query string, so a view can be shared."""

    portal: str
    first: int
    last: int
    status: str | None = None
    kind: str | None = None
    page: int = 1

    def params(self, page: int | None = None) -> dict[str, object]:
        """The query string's parameters (for links to this view, another page or format)."""
        return {
            "portal": self.portal,
            "from": self.first,
            "to": self.last,
            "status": self.status,
            "kind": self.kind,
            "page": page if page and page > 1 else None,
        }


@dataclass(frozen=True)
class Cell:
    status: str
    deadline: date | None = None
    days_late: int | None = None
    published_at: str | None = None
    report_id: int | None = None
    url: str | None = None
    evidence: str | None = None


@dataclass
class BoardRow:
    publisher_id: int
    name: str
    kind: str
    cells: dict[int, Cell] = field(default_factory=dict)


@dataclass
class Board:
    query: BoardQuery
    years: list[int]
    rows: list[BoardRow]  # this page's
    total: int  # rows over every page
    pages: int
    counts: dict[int, Counter[str]]  # per year, over every page


def build_board(session: Session, q: BoardQuery, rules: DeadlineRules, as_of: date) -> Board:
    """The board of one portal over a year range, filtered and paginated."""
    years = list(range(q.first, q.last + 1))
    rows = _publishers(session, q)
    reports = _reports(session, q)
    for year in years:
        gaps = {
            r.publisher: r for r in missing(session, year, as_of, rules) if r.portal == q.portal
        }
        overdue = {r.publisher: r for r in late(session, year, rules) if r.portal == q.portal}
        for row, (first, last) in rows:
            row.cells[year] = _cell(row, year, first, last, gaps, overdue, reports, rules)
    kept = [row for row, _ in rows if q.status is None or _has(row, q.status)]
    counts = {y: Counter(row.cells[y].status for row in kept) for y in years}
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    start = (min(q.page, pages) - 1) * PAGE_SIZE
    return Board(q, years, kept[start : start + PAGE_SIZE], len(kept), pages, counts)


def board_records(board: Board) -> list[dict[str, object]]:
    """One record per cell of the board's page, in BOARD_FIELDS order (for CSV and JSON)."""
    return [
        {
            "portal": board.query.portal,
            "publisher": row.name,
            "kind": row.kind,
            "year": year,
            "deadline": cell.deadline,
            "status": cell.status,
            "days_late": cell.days_late,
            "published_at": cell.published_at,
            "report_id": cell.report_id,
            "url": cell.url,
            "evidence": cell.evidence,
        }
        for row in board.rows
        for year, cell in row.cells.items()
    ]


def _has(row: BoardRow, status: str) -> bool:
    return any(cell.status == status for cell in row.cells.values())


def _publishers(session: Session, q: BoardQuery) -> list[tuple[BoardRow, tuple[int, int]]]:
    stmt = select(Publisher).where(Publisher.portal == q.portal).order_by(Publisher.name)
    if q.kind:
        stmt = stmt.where(Publisher.kind == q.kind)
    return [
        (BoardRow(p.id, p.name, p.kind), (p.first_year or 0, p.last_year or 9999))
        for p in session.scalars(stmt)
    ]


def _reports(session: Session, q: BoardQuery) -> dict[tuple[int, int], tuple[int, str | None, str]]:
    """(publisher id, year) -> (id, claimed date, url) of its earliest copy, as `late` judges."""
    stmt = (
        select(
            Document.id,
            Document.publisher_id,
            Document.report_year,
            Document.published_at,
            Document.written_date,
            Document.url,
        )
        .join(Publisher, Publisher.id == Document.publisher_id)
        .where(Publisher.portal == q.portal, Document.report_year.between(q.first, q.last))
    )
    found: dict[tuple[int, int], tuple[int, str | None, str]] = {}
    for doc_id, pub_id, year, published, written, url in session.execute(stmt):
        if pub_id is None or year is None:
            continue  # the join and the range rule both out; said for the type checker
        claimed = published or written
        known = found.get((pub_id, year))
        if known is None or (claimed or "~", doc_id) < (known[1] or "~", known[0]):
            found[(pub_id, year)] = (doc_id, claimed, url)
    return found


def _cell(
    row: BoardRow,
    year: int,
    first: int,
    last: int,
    gaps: dict[str, MissingRow],
    overdue: dict[str, LateRow],
    reports: dict[tuple[int, int], tuple[int, str | None, str]],
    rules: DeadlineRules,
) -> Cell:
    if not first <= year <= last:
        return Cell("not_expected", evidence=f"{row.name} did not exist in {year}")
    deadline = deadline_for(rules, year, row.kind)
    if row.name in gaps:
        gap = gaps[row.name]
        return Cell(gap.status, gap.deadline, evidence=gap.evidence)
    report = reports.get((row.publisher_id, year))
    if row.name in overdue:
        lr = overdue[row.name]
        doc_id = report[0] if report else None
        evidence = f"claims {lr.published_at}, due {lr.deadline}: {lr.days_late} days late"
        return Cell("late", lr.deadline, lr.days_late, lr.published_at, doc_id, lr.url, evidence)
    if report is None:
        return Cell("not_expected", deadline, evidence="no report and not listed as missing")
    doc_id, claimed, url = report
    if claimed is None:
        return Cell("undated", deadline, None, None, doc_id, url, "the report states no date")
    evidence = f"claims {claimed}, due {deadline}: on time"
    return Cell("on_time", deadline, 0, claimed, doc_id, url, evidence)
