"""The board: per portal, publishers × years, each cell a status from questions.status.

The statuses are `questions.status.missing`'s and `timeliness`'s, never decided here: a report
that claims no date is `undated` when nianbao first saw it after the deadline, `on_time` when it
saw it by then; a report that no answer lists is `on_time`. A publisher that did not exist in a year has no cell (`not_expected`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Select, func, or_, select, union
from sqlalchemy.orm import Session

from archive.cells import covered
from archive.models import Document, Publisher
from questions.cache import AnswerCache, fingerprint
from questions.deadlines import DeadlineRules, deadline_for
from questions.status import LateRow, MissingRow, Scope, UndatedRow, missing, timeliness
from questions.tally import YearFacts, bare_counts, bare_with_status, with_status, year_facts
from questions.tally import counts as counts_of

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
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
    years: tuple[int, int]  # the years it existed (0 and 9999 when open-ended)
    cells: dict[int, Cell] = field(default_factory=dict)


@dataclass
class Board:
    query: BoardQuery
    years: list[int]
    rows: list[BoardRow]  # this page's
    total: int  # rows over every page
    pages: int
    counts: dict[int, Counter[str]]  # per year, over every page


def build_board(
    session: Session, q: BoardQuery, rules: DeadlineRules, as_of: date, cache: AnswerCache
) -> Board:
    """The board of one portal over a year range, filtered and paginated. Only the page's cells
    are built (questions.status's answers for its publishers); the status filter and the counts
    per year are SQL over the statuses' cells (questions.tally), never a row per publisher."""
    years = list(range(q.first, q.last + 1))
    mark = fingerprint(session)
    key = ("facts", q.portal, q.first, q.last, as_of)
    facts = cache.get(session, key, lambda: _facts(session, q, years, as_of, rules), mark)
    ids = None if q.status is None else _with_status(q, facts)
    total = _count(session, q, ids)
    pages = max(1, -(-total // PAGE_SIZE))
    page = _publishers(session, q, (min(q.page, pages) - 1) * PAGE_SIZE, ids)
    _fill(session, q, page, years, as_of, rules)
    counted = ("counts", q.portal, q.kind, q.first, q.last, q.status, as_of)
    compute = lambda: _counts(session, q, years, facts, ids, total)  # noqa: E731
    return Board(q, years, page, total, pages, cache.get(session, counted, compute, mark))


# The ids of the publishers a status filter keeps, as a subquery.
_Ids = Select[Any] | CompoundSelect[Any]
# Per year: whether the cells cover it, and what its verdicts rest on (questions.tally).
_Facts = dict[int, tuple[bool, YearFacts]]


def _facts(
    session: Session, q: BoardQuery, years: list[int], as_of: date, rules: DeadlineRules
) -> _Facts:
    return {
        y: (covered(session, y, None), year_facts(session, q.portal, y, as_of, rules))
        for y in years
    }


def _with_status(q: BoardQuery, facts: _Facts) -> _Ids:
    """The ids of the portal's publishers with a cell of the status, in SQL."""
    assert q.status is not None
    if q.status == "not_expected":
        spans = or_(Publisher.first_year > q.first, Publisher.last_year < q.last)
        return _of_portal(select(Publisher.id).where(spans), q)
    stmt = with_status([f for ok, f in facts.values() if ok], q.status, q.portal, q.kind)
    bare = [bare_with_status(f, q.status) for ok, f in facts.values() if not ok]
    if not bare:
        return stmt
    return union(stmt, _of_portal(select(Publisher.id).where(or_(*bare)), q))


# One year's answers for the page's publishers, by (portal, publisher): missing, late, and the
# reports that claim no date (`undated`, or `on_time` when first seen by the deadline).
_Key = tuple[str, str]
_Year = tuple[dict[_Key, MissingRow], dict[_Key, LateRow], dict[_Key, UndatedRow]]


def _year(session: Session, year: int, as_of: date, rules: DeadlineRules, scope: Scope) -> _Year:
    """`missing` and `timeliness` of one year for `scope`, by (portal, publisher)."""
    gaps = {(r.portal, r.publisher): r for r in missing(session, year, as_of, rules, None, scope)}
    told = timeliness(session, year, rules, None, scope)
    dateless = {(r.portal, r.publisher): r for r in [*told.undated, *told.seen_in_time]}
    return gaps, {(r.portal, r.publisher): r for r in told.late}, dateless


def _fill(
    session: Session,
    q: BoardQuery,
    rows: list[BoardRow],
    years: list[int],
    as_of: date,
    rules: DeadlineRules,
) -> None:
    if not rows:
        return
    scope = Scope(q.portal, tuple(row.publisher_id for row in rows))
    reports = _reports(session, q, [row.publisher_id for row in rows])
    for year in years:
        gaps, overdue, dateless = _year(session, year, as_of, rules, scope)
        for row in rows:
            key = (q.portal, row.name)
            row.cells[year] = _cell(
                row, year, gaps.get(key), overdue.get(key), dateless.get(key), reports, rules
            )


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


def _publishers(session: Session, q: BoardQuery, offset: int, ids: _Ids | None) -> list[BoardRow]:
    """One page of the portal's publishers (among `ids`) by name, from `offset`."""
    stmt = _of_portal(
        select(
            Publisher.id, Publisher.name, Publisher.kind, Publisher.first_year, Publisher.last_year
        ),
        q,
    )
    if ids is not None:
        stmt = stmt.where(Publisher.id.in_(ids))
    stmt = stmt.order_by(Publisher.name).offset(offset).limit(PAGE_SIZE)
    return [
        BoardRow(pid, name, kind, (first or 0, last or 9999))
        for pid, name, kind, first, last in session.execute(stmt)
    ]


def _of_portal(stmt: S, q: BoardQuery) -> S:
    stmt = stmt.where(Publisher.portal == q.portal)
    return stmt.where(Publisher.kind == q.kind) if q.kind else stmt


def _count(session: Session, q: BoardQuery, ids: _Ids | None) -> int:
    stmt = _of_portal(select(func.count(Publisher.id)), q)
    if ids is not None:
        stmt = stmt.where(Publisher.id.in_(ids))
    return session.scalar(stmt) or 0


def _counts(
    session: Session,
    q: BoardQuery,
    years: list[int],
    facts: _Facts,
    ids: _Ids | None,
    total: int,
) -> dict[int, Counter[str]]:
    """Per year, the cells of every page by status, counted in SQL (questions.tally)."""
    existed = _existed_counts(session, q, years, ids)
    counts = {}
    for year in years:
        ok, f = facts[year]
        tally = (counts_of if ok else bare_counts)(session, f, q.portal, q.kind, ids)
        tally["not_expected"] = total - existed[year]
        tally["on_time"] = existed[year] - sum(n for s, n in tally.items() if s != "not_expected")
        counts[year] = +tally + Counter({"on_time": 0})
    return counts


def _in(span: tuple[int, int] | None, year: int) -> bool:
    return span is None or span[0] <= year <= span[1]


def _existed_counts(
    session: Session, q: BoardQuery, years: list[int], ids: _Ids | None
) -> dict[int, int]:
    stmt = _of_portal(
        select(Publisher.first_year, Publisher.last_year, func.count(Publisher.id)), q
    ).group_by(Publisher.first_year, Publisher.last_year)
    if ids is not None:
        stmt = stmt.where(Publisher.id.in_(ids))
    spans = session.execute(stmt).all()
    return {y: sum(n for f, la, n in spans if _in((f or 0, la or 9999), y)) for y in years}


def _reports(
    session: Session, q: BoardQuery, publisher_ids: list[int]
) -> dict[tuple[int, int], tuple[int, str | None, str]]:
    """(publisher id, year) -> (id, claimed date, url) of its earliest copy, as `late` judges."""
    if not publisher_ids:
        return {}
    stmt = select(
        Document.id,
        Document.publisher_id,
        Document.report_year,
        Document.published_at,
        Document.written_date,
        Document.url,
    ).where(
        Document.publisher_id.in_(publisher_ids),
        Document.report_year.between(q.first, q.last),
        Document.not_report.is_(None),  # judged no report since: nobody's report
    )
    found: dict[tuple[int, int], tuple[int, str | None, str]] = {}
    for doc_id, pub_id, year, published, written, url in session.execute(stmt):
        if pub_id is None or year is None:
            continue  # ruled out by the query; said for the type checker
        claimed = published or written
        known = found.get((pub_id, year))
        if known is None or (claimed or "~", doc_id) < (known[1] or "~", known[0]):
            found[(pub_id, year)] = (doc_id, claimed, url)
    return found


def _cell(
    row: BoardRow,
    year: int,
    gap: MissingRow | None,
    lr: LateRow | None,
    dateless: UndatedRow | None,
    reports: dict[tuple[int, int], tuple[int, str | None, str]],
    rules: DeadlineRules,
) -> Cell:
    if not _in(row.years, year):
        return Cell("not_expected", evidence=f"{row.name} did not exist in {year}")
    deadline = deadline_for(rules, year, row.kind)
    if gap is not None:
        return Cell(gap.status, gap.deadline, evidence=gap.evidence)
    report = reports.get((row.publisher_id, year))
    if lr is not None:
        doc_id = report[0] if report else None
        evidence = f"claims {lr.published_at}, due {lr.deadline}: {lr.days_late} days late"
        return Cell("late", lr.deadline, lr.days_late, lr.published_at, doc_id, lr.url, evidence)
    if dateless is not None:  # no date claimed: judged by when nianbao first saw it
        doc_id = report[0] if report else None
        days = 0 if dateless.status == "on_time" else None
        return Cell(dateless.status, deadline, days, None, doc_id, dateless.url, dateless.evidence)
    if report is None:
        return Cell("not_expected", deadline, evidence="no report and not listed as missing")
    doc_id, claimed, url = report
    if claimed is None:
        return Cell("undated", deadline, None, None, doc_id, url, "the report states no date")
    evidence = f"claims {claimed}, due {deadline}: on time"
    return Cell("on_time", deadline, 0, claimed, doc_id, url, evidence)
