"""The board: per portal, publishers × years, each cell a status from questions.status.

The statuses are `questions.status.missing`'s and `timeliness`'s: a report that claims no date is
`undated` when nianbao first saw it after the deadline, `on_time` when it saw it by then; a report
that no answer lists is `on_time`. A publisher that did not exist in a year has no cell
(`not_expected`). For a year the cells cover (archive.cells), a page's answers are read from its
publishers' cells with the year's facts and questions.status's own evidence texts, the rows those
functions would give (tests/test_board.py holds them to it); for another year they are asked.
At 100,000 publishers (bench/web_bench.py) the counts per year and the status filters never build
a row per publisher: SQL counts, or sets of ids, over migration 0010's index (questions.tally).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Select, String, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from archive.cells import NONE
from archive.clock import day_end, shanghai
from archive.db import raw_rows
from archive.models import Document, Publisher, ReportCell, ReportYear
from questions.cache import AnswerCache, fingerprint
from questions.deadlines import DeadlineRules, deadline_for
from questions.evidence import Searches
from questions.status import (
    LateRow,
    MissingRow,
    Scope,
    UndatedRow,
    _seen_in_time,
    _undated_rows,
    gap_verdict,
    missing,
    timeliness,
)
from questions.tally import (
    COUNTED,
    YearFacts,
    bare_counts,
    bare_sets,
    status_sets,
    year_facts,
)
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
    are built, from its publishers' cells (one indexed read); the counts per year are SQL over
    the cells' index (questions.tally), and a status filter set operations over the ids of the
    publishers with each status (never a row object per publisher)."""
    years = list(range(q.first, q.last + 1))
    mark = fingerprint(session)
    key = ("facts", q.portal, q.first, q.last, as_of)
    facts = cache.get(session, key, lambda: _facts(session, q, years, as_of, rules), mark)
    roster = cache.get(session, ("roster", q.portal, q.kind), lambda: _roster(session, q), mark)

    def everyone() -> int:  # a count over the portal's index: read only when needed
        return cache.get(session, ("total", q.portal, q.kind), lambda: _total(session, q), mark)

    if q.status is None:
        total, chosen = everyone(), None
        counted = ("counts", q.portal, q.kind, q.first, q.last, as_of)
        compute = lambda: _counts(session, q, facts, roster, total)  # noqa: E731
        counts = cache.get(session, counted, compute, mark)
    else:
        status = q.status
        known = ("sets", q.portal, q.kind, q.first, q.last, as_of)
        sets = cache.get(session, known, lambda: _sets(session, q, facts), mark)

        def among() -> tuple[Kept, dict[int, Counter[str]]]:
            chosen = _chosen(q, status, sets, roster, everyone)
            return chosen, _counts_among(years, sets, roster, chosen, status)

        kept = ("kept", q.portal, q.kind, q.first, q.last, status, as_of)
        chosen, counts = cache.get(session, kept, among, mark)
        total = chosen.size
    pages = max(1, -(-total // PAGE_SIZE))
    page = _publishers(session, q, (min(q.page, pages) - 1) * PAGE_SIZE, chosen)
    _fill(session, q, page, years, facts, as_of, rules)
    return Board(q, years, page, total, pages, counts)


# Per year: whether the cells cover it, and what its verdicts rest on (questions.tally).
_Facts = dict[int, tuple[bool, YearFacts]]
# Per (year, status): the ids of the publishers with a cell of that status (questions.tally).
_Sets = dict[tuple[int, str], set[int]]


def _facts(
    session: Session, q: BoardQuery, years: list[int], as_of: date, rules: DeadlineRules
) -> _Facts:
    # The years the cells cover (archive.cells.covered), in one query.
    stmt = select(ReportYear.year).where(ReportYear.year.between(q.first, q.last))
    known = set(session.scalars(stmt))
    facts = year_facts(session, q.portal, years, as_of, rules)
    return {y: (y in known, facts[y]) for y in years}


@dataclass(frozen=True)
class Roster:
    """The portal's publishers (of the kind) that did not exist in every year, with their years
    (a few: the rest existed throughout)."""

    spans: tuple[tuple[int, int, int], ...]  # (id, first year or 0, last year or 9999)
    _absent: dict[int, frozenset[int]] = field(default_factory=dict, compare=False)
    # The spans by first year and by last year: a year's absent are a slice of each.
    _order: list[tuple[list[int], list[int]]] = field(default_factory=list, compare=False)

    def absent(self, year: int) -> frozenset[int]:
        """The publishers that did not exist in `year` (kept: asked for every year, often)."""
        if year not in self._absent:
            if not self._order:
                for end in (1, 2):
                    ordered = sorted(self.spans, key=itemgetter(end))
                    self._order.append(([s[end] for s in ordered], [s[0] for s in ordered]))
            (firsts, by_first), (lasts, by_last) = self._order
            later = by_first[bisect_right(firsts, year) :]  # first year after `year`
            ended = by_last[: bisect_left(lasts, year)]  # last year before it
            self._absent[year] = frozenset(later).union(ended)
        return self._absent[year]


@dataclass(frozen=True)
class Kept:
    """The publishers a status filter keeps: `ids`, or with `but` every publisher of the portal
    (of the kind) but `ids` (`on_time` keeps most: its complement is the smaller set); `size`
    of them."""

    ids: AbstractSet[int]
    size: int
    but: bool = False

    def __contains__(self, pid: int) -> bool:
        return (pid in self.ids) != self.but

    def among(self, ids: AbstractSet[int]) -> int:
        """How many of `ids` (publishers of the portal, of the kind) are kept."""
        common = len(self.ids & ids) if len(self.ids) < len(ids) else len(ids & self.ids)
        return len(ids) - common if self.but else common


def _total(session: Session, q: BoardQuery) -> int:
    """How many publishers the portal has (of the kind)."""
    return session.scalar(_of_portal(select(func.count()).select_from(Publisher), q)) or 0


def _roster(session: Session, q: BoardQuery) -> Roster:
    # ix_publishers_limited's condition, word for word: a few rows, not the portal's all.
    limited = or_(Publisher.first_year.is_not(None), Publisher.last_year.is_not(None))
    stmt = _of_portal(select(Publisher.id, Publisher.first_year, Publisher.last_year), q)
    found = raw_rows(session, stmt.where(limited))
    spans = tuple((pid, first or 0, last or 9999) for pid, first, last in found)
    return Roster(spans)


def _counts(
    session: Session, q: BoardQuery, facts: _Facts, roster: Roster, total: int
) -> dict[int, Counter[str]]:
    """Per year, the cells of every page by status, counted in SQL (questions.tally)."""
    tallies = counts_of(session, [f for ok, f in facts.values() if ok], q.portal, q.kind)
    for year, (ok, f) in facts.items():
        if not ok:
            tallies[year] = bare_counts(session, f, q.portal, q.kind)
    return {year: _finish(tallies[year], total, total - len(roster.absent(year))) for year in facts}


def _finish(tally: Counter[str], total: int, existed: int) -> Counter[str]:
    """A year's counts with what is left: `not_expected` (did not exist), `on_time` (existed,
    and no other status)."""
    tally["not_expected"] = total - existed
    tally["on_time"] = existed - sum(n for s, n in tally.items() if s != "not_expected")
    return +tally + Counter({"on_time": 0})


def _sets(session: Session, q: BoardQuery, facts: _Facts) -> _Sets:
    sets = status_sets(session, [f for ok, f in facts.values() if ok], q.portal, q.kind)
    for ok, f in facts.values():
        if not ok:
            sets.update(bare_sets(session, f, q.portal, q.kind))
    return sets


def _chosen(
    q: BoardQuery, status: str, sets: _Sets, roster: Roster, everyone: Callable[[], int]
) -> Kept:
    """The portal's publishers (of the kind) with a cell of `status`."""
    years = range(q.first, q.last + 1)
    if status == "not_expected":
        ids = {pid for pid, first, last in roster.spans if first > q.first or last < q.last}
        return Kept(ids, len(ids))
    if status != "on_time":
        ids = set().union(*(sets.get((y, status), ()) for y in years))
        return Kept(ids, len(ids))
    # on time: existed, and none of the other statuses, in some year; its complement is those
    # with another status in every year, narrowed year by year from the first year's (a few).
    never: set[int] | None = None
    for y in years:
        other = [roster.absent(y), *(ids for (year, _), ids in sets.items() if year == y)]
        if never is None:
            never = set().union(*other)
        else:
            never = {pid for pid in never if any(pid in ids for ids in other)}
        if not never:
            break
    never = never or set()
    return Kept(never, everyone() - len(never), but=True)


def _counts_among(
    years: list[int], sets: _Sets, roster: Roster, chosen: Kept, status: str
) -> dict[int, Counter[str]]:
    """Per year, the cells of the `chosen` publishers (those with a cell of `status`) by
    status: a year's cells of `status` are all theirs, counted without a set operation."""
    counts = {}
    kept = chosen.size
    for y in years:
        tally: Counter[str] = Counter()
        for s in COUNTED:
            ids: AbstractSet[int] = sets.get((y, s), frozenset())
            tally[s] = len(ids) if s == status else chosen.among(ids)
        counts[y] = _finish(tally, kept, kept - chosen.among(roster.absent(y)))
    return counts


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
    facts: _Facts,
    as_of: date,
    rules: DeadlineRules,
) -> None:
    """The page's cells: of a covered year from the page's cells (one indexed read for every
    year), as questions.status answers them; of another year, from questions.status itself."""
    if not rows:
        return
    ids = [row.publisher_id for row in rows]
    reports = _reports(session, q, ids)
    found = _page_cells(session, ids, [y for y in years if facts[y][0]])
    for year in years:
        ok, f = facts[year]
        if ok:
            answers = _answers(session, f, q, rows, found)
        else:
            gaps, overdue, dateless = _year(
                session, year, as_of, rules, Scope(q.portal, tuple(ids))
            )
            keys = {row.publisher_id: (q.portal, row.name) for row in rows}
            answers = {
                pid: (gaps.get(key), overdue.get(key), dateless.get(key))
                for pid, key in keys.items()
            }
        for row in rows:
            row.cells[year] = _cell(row, year, *answers[row.publisher_id], reports, rules)


def _page_cells(session: Session, ids: list[int], years: list[int]) -> dict[tuple[int, int], Any]:
    """The cells of the page's publishers in the covered years, by (publisher id, year)."""
    if not years:
        return {}
    c = ReportCell
    stmt = select(
        c.publisher_id,
        c.year,
        c.kind,
        c.claimed,
        c.reports,
        c.claimed_doc,
        c.published_at,
        # Raw, as questions.status reads them (archive.cells.candidates).
        type_coerce(c.seen, String),
        c.url,
        c.undated_doc,
        type_coerce(c.undated_seen, String),
        c.undated_url,
    )
    # A range of years, not a list: with a list SQLite, without statistics, reads each year's
    # cells by the primary key instead of the page's by ix_report_cells_publisher_id_year.
    stmt = stmt.where(c.publisher_id.in_(ids), c.year.between(min(years), max(years)))
    return {(row[0], row[1]): row for row in raw_rows(session, stmt)}


_Answer = tuple[MissingRow | None, LateRow | None, UndatedRow | None]


def _answers(
    session: Session,
    f: YearFacts,
    q: BoardQuery,
    rows: list[BoardRow],
    found: dict[tuple[int, int], Any],
) -> dict[int, _Answer]:
    """What `missing` and `timeliness` answer for the page's publishers in covered year
    `f.year`, read from their cells with the year's facts: the same rows, evidence and all."""
    answers: dict[int, _Answer] = {}
    unknown: list[tuple[Any, ...]] = []  # dateless, seen after the deadline: `undated`
    for row in rows:
        cell = found.get((row.publisher_id, f.year))
        answers[row.publisher_id] = (None, None, None)
        if cell is None:
            continue
        _, year, kind, claimed, reports, doc, published, seen, url, undated, first_seen, where = (
            cell
        )
        deadline = f.deadlines[kind]
        if claimed == NONE and reports == 0:
            answers[row.publisher_id] = (_gap(f, q.portal, row, deadline), None, None)
            continue
        dated = claimed != NONE and claimed > deadline.isoformat()
        if not dated and claimed != NONE:
            continue  # a date claimed by the deadline: on time, no answer lists it
        dateless = (
            (row.publisher_id, q.portal, row.name, kind, None, undated, None, first_seen, where)
            if undated is not None
            else None
        )
        if dateless is not None and shanghai(first_seen) < day_end(deadline):
            answers[row.publisher_id] = (None, None, _seen_in_time(dateless, f.year, f.deadlines))
        elif dated:
            days = date.fromisoformat(claimed).toordinal() - deadline.toordinal()
            late = LateRow(
                q.portal,
                row.name,
                kind,
                f.year,
                deadline,
                published or claimed,
                shanghai(seen),
                days,
                url,
            )
            answers[row.publisher_id] = (None, late, None)
        elif dateless is not None:
            unknown.append(dateless)
    if unknown:
        by_name = {row.name: row.publisher_id for row in rows}
        for told in _undated_rows(session, f.year, f.deadlines, unknown, None):
            answers[by_name[told.publisher]] = (None, None, told)
    return answers


def _gap(f: YearFacts, portal: str, row: BoardRow, deadline: date) -> MissingRow:
    """`missing`'s row for a publisher with no report copy (questions.status.gap_verdict)."""
    search = f.searches.get(deadline) or Searches(portal, deadline)
    status, evidence = gap_verdict(row.publisher_id, deadline, f.as_of, f.faults, search)
    return MissingRow(portal, row.name, row.kind, f.year, deadline, status, evidence)


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


def _publishers(
    session: Session, q: BoardQuery, offset: int, chosen: Kept | None
) -> list[BoardRow]:
    """One page of the portal's publishers (among `chosen`) by name, from `offset`."""
    columns = (
        Publisher.id, Publisher.name, Publisher.kind, Publisher.first_year, Publisher.last_year
    )  # fmt: skip
    if chosen is None:
        stmt = _of_portal(select(*columns), q).order_by(Publisher.name)
        found = session.execute(stmt.offset(offset).limit(PAGE_SIZE)).all()
    elif not chosen.but and len(chosen.ids) <= _FEW:  # a few: sorted by name from their rows
        stmt = select(*columns).where(Publisher.id.in_(sorted(chosen.ids)))
        stmt = stmt.order_by(Publisher.name)
        found = session.execute(stmt.offset(offset).limit(PAGE_SIZE)).all()
    else:
        picked = _walk(session, q, chosen, offset)
        rank = {pid: i for i, pid in enumerate(picked)}
        stmt = select(*columns).where(Publisher.id.in_(picked))
        found = sorted(session.execute(stmt).all(), key=lambda r: rank[r[0]])
    return [
        BoardRow(pid, name, kind, (first or 0, last or 9999))
        for pid, name, kind, first, last in found
    ]


_FEW = 2000  # a filter keeping at most this many publishers reads only their rows
_BATCH = 512  # the walk's first batch of ids: a first page of a filter that keeps many


def _walk(session: Session, q: BoardQuery, chosen: Kept, offset: int) -> list[int]:
    """A page of `chosen`: the portal's ids in name order (an index alone, read as the
    driver's own rows) until the page is full, in growing batches, each after the name the last
    ended at (looked up by its id: no batch re-reads the ones before, as an OFFSET would):
    PostgreSQL's driver fetches a statement's every row first, 100,000 ids for a first page.
    Ids only, no names. A page past the middle is walked from the last name back: a last page
    reads as few ids as a first."""
    backward = 2 * offset + PAGE_SIZE > chosen.size
    if backward:  # from the end: past the kept after the page, then the page's
        end = min(offset + PAGE_SIZE, chosen.size)
        offset, want = chosen.size - end, end - offset
    else:
        want = PAGE_SIZE
    picked: list[int] = []
    ids, but = chosen.ids, chosen.but  # `pid in chosen`, without a call for each row
    name = Publisher.name.desc() if backward else Publisher.name
    stmt = _of_portal(select(Publisher.id), q).order_by(name)
    after, batch = None, _BATCH
    while True:
        step = stmt
        if after is not None:  # the name as a value: a subquery's is unknown to the planner
            last = session.scalar(select(Publisher.name).where(Publisher.id == after))
            step = stmt.where(Publisher.name < last if backward else Publisher.name > last)
        rows = raw_rows(session, step.limit(batch))
        for (pid,) in rows:
            if (pid in ids) != but:
                if offset:
                    offset -= 1
                elif len(picked) < want:
                    picked.append(pid)
        if len(picked) == want or len(rows) < batch:
            return picked[::-1] if backward else picked
        after, batch = rows[-1][0], min(batch * 4, 32768)


def _of_portal(stmt: S, q: BoardQuery) -> S:
    stmt = stmt.where(Publisher.portal == q.portal)
    return stmt.where(Publisher.kind == q.kind) if q.kind else stmt


def _in(span: tuple[int, int] | None, year: int) -> bool:
    return span is None or span[0] <= year <= span[1]


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
