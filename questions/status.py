"""Statuses of expected reports: missing (with the runs that searched), late and undated.

`missing` classifies every registered publisher that existed in a year and has no report for it:
`not_yet_due` until the deadline day has passed (the deadline day itself is on time), then `gone`
when its report's page was listed but deleted before nianbao could capture it, `unreachable` when
its report's page was blocked (questions.page_faults) or the portal was failing when searched,
`missing` when a clean search found nothing (a blocked page that names no publisher, such as a
listing page, is said in the evidence rather than making the whole portal unreachable).
`late` judges a report by the date it claims: 发布时间, else 成文日期; a report published more
than once counts from its first copy. A report whose copies claim no date is on time when nianbao
first saw one by the end of the deadline day, else `undated`: it may be late, nobody can tell when.
Every question takes `until` (questions.evidence.stood): the archive as it stood at that moment.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from archive import cells
from archive.cells import Scope
from archive.clock import day_end, minute, shanghai
from archive.models import PUBLISHER_KINDS, CrawlRun, Document, Publisher
from questions.copies import claimed_date
from questions.deadlines import DeadlineRules, deadline_for
from questions.evidence import Searches, searches, stood
from questions.page_faults import FaultPage, PageFaults, page_faults

__all__ = [
    "LateRow", "MissingRow", "Scope", "Timeliness", "UndatedRow", "late", "missing", "timeliness",
]  # fmt: skip
STATUSES = ("missing", "not_yet_due", "unreachable", "gone")
_BY_NAME = attrgetter("publisher")
_SHOWN_UNTOLD = 3  # untold blocked pages named in one evidence text; the rest counted


@dataclass(slots=True)
class MissingRow:
    """An expected report not found, with its status (one of `STATUSES`) and the evidence."""

    portal: str
    publisher: str
    kind: str
    year: int
    deadline: date
    status: str
    evidence: str


@dataclass(slots=True)
class LateRow:
    """A report claiming a date after its deadline; `published_at` is the date judged (发布时间,
    else 成文日期), `first_seen_at` when nianbao first fetched it. Not frozen: a frozen dataclass
    costs five times as much to build, and `late` may build tens of thousands."""

    portal: str
    publisher: str
    kind: str
    year: int
    deadline: date
    published_at: str
    first_seen_at: datetime
    days_late: int
    url: str


@dataclass(slots=True)
class UndatedRow:
    """A report that claims no date, first seen by nianbao only after its deadline: maybe late."""

    portal: str
    publisher: str
    kind: str
    year: int
    deadline: date
    first_seen_at: datetime  # Asia/Shanghai
    url: str
    evidence: str
    status: str = "undated"  # or "on_time", when first seen by the deadline


@dataclass(slots=True)
class Timeliness:
    """The reports of one year that are late, those that are undated, and those that claim no
    date but were seen in time (status `on_time`, with when they were first seen)."""

    late: list[LateRow]
    undated: list[UndatedRow]
    seen_in_time: list[UndatedRow]


def missing(
    session: Session,
    year: int,
    as_of: date,
    rules: DeadlineRules,
    until: datetime | None = None,
    scope: Scope | None = None,
) -> list[MissingRow]:
    """Every registered publisher (of `scope`) that existed in `year` and has no report for it,
    judged at `as_of`, over the archive as it stood at `until` (all of it when None)."""
    if cells.covered(session, year, until):
        stmt = cells.without_report(year, scope)
    else:  # --as-of, or a year no document was archived for: judged here
        stmt = select(Publisher.id, Publisher.portal, Publisher.name, Publisher.kind).where(
            _existed_in(year), ~_has_report(year, until)
        )
        stmt = cells.scoped(stmt, scope, Publisher.portal, Publisher.id)
    # Sorted here, not in SQL: walking the (portal, name) index jumps around the table.
    expected = sorted(session.connection().execute(stmt).all(), key=lambda r: (r[1], r[2]))
    deadlines = _deadlines(rules, year)
    overdue = [r for r in expected if as_of > deadlines[r[3]]]
    portals = [portal for _, portal, _, _ in overdue]
    faults = page_faults(session, year, portals, until)
    ends = {deadlines[kind] for _, _, _, kind in overdue}
    runs = searches(session, portals, ends, until, faults.told_runs)
    rows = []
    for pub_id, portal, name, kind in expected:
        deadline = deadlines[kind]
        search = runs.get((portal, deadline)) or Searches(portal, deadline)
        status, evidence = gap_verdict(pub_id, deadline, as_of, faults, search)
        rows.append(MissingRow(portal, name, kind, year, deadline, status, evidence))
    return rows


def gap_verdict(
    pub_id: int, deadline: date, as_of: date, faults: PageFaults, search: Searches
) -> tuple[str, str]:
    """(status, evidence) of a publisher with no report copy: not yet due, its page gone or
    blocked, else missing or unreachable as the portal's `search` by the deadline went. The one
    judgement of `missing` and the board (questions.board)."""
    if as_of <= deadline:
        return "not_yet_due", f"due {deadline}; as of {as_of} not yet overdue"
    if pub_id in faults.gone:
        return "gone", faults.gone[pub_id].evidence()
    if pub_id in faults.blocked:
        return "unreachable", faults.blocked[pub_id].evidence()
    status = "missing" if search.reachable else "unreachable"
    return status, search.evidence + _untold(faults.untold.get(search.portal, ()), search)


def _untold(pages: tuple[FaultPage, ...] | list[FaultPage], search: Searches) -> str:
    """The blocked pages naming no publisher that the search rests on, said, not blanketed."""
    if not pages:
        return ""
    since = day_end(search.deadline)
    # Pages of the runs since the deadline; when none ran, of the last clean one before it.
    shown = [
        p
        for p in pages
        if (p.fetched_at >= since if search.since else p.run_id == search.last_clean_id)
    ]
    if not shown:
        return ""
    more = len(shown) - _SHOWN_UNTOLD
    text = "; ".join(p.untold() for p in shown[:_SHOWN_UNTOLD])
    return f"; but {text}" + (f"; and {more} more such pages" if more > 0 else "")


def late(
    session: Session, year: int, rules: DeadlineRules, until: datetime | None = None
) -> list[LateRow]:
    """Matched reports of `year` whose earliest claimed date is after the deadline of their kind."""
    return timeliness(session, year, rules, until).late


def timeliness(
    session: Session,
    year: int,
    rules: DeadlineRules,
    until: datetime | None = None,
    scope: Scope | None = None,
) -> Timeliness:
    """The late reports of `year` (of `scope`'s publishers), and the undated ones: no copy claims
    a date, and nianbao first saw one only after the deadline. A copy seen by the deadline's end
    makes a report on time."""
    deadlines = _deadlines(rules, year)
    ends = {kind: day_end(day) for kind, day in deadlines.items()}
    if cells.covered(session, year, until):
        dated = cells.DatedCells(session, year, deadlines, scope)
        by_portal = _late_rows(dated, year, deadlines, ends, dated.moment)
        undated = cells.undated(session, year, deadlines, scope, dated.dateless_too)
        # A late cell's dateless copy (its claimed date in the fifth place): the late row tells
        # it, or, seen by the deadline, made the report on time (its row was left out above).
        told = {pid for pid, row in undated.items() if row[4] is not None}
    else:  # --as-of, or a year no document was archived for: judged here
        first, undated = _candidates(session, year, deadlines, until, scope)
        dateless = {pid: row[7] for pid, row in undated.items()}
        candidates = [
            (p, n, k, published or claimed, seen, url, dateless.get(pid))
            for pid, p, n, k, claimed, _, published, seen, url in first.values()
        ]
        by_portal = _late_rows([candidates], year, deadlines, ends, shanghai)
        told = set(first)
    rows = _in_order(by_portal)
    seen_in_time = {pid for pid, row in undated.items() if shanghai(row[7]) < ends[row[3]]}
    told |= seen_in_time  # in time, or dated
    unknown = [row for pid, row in undated.items() if pid not in told]
    in_time = [_seen_in_time(undated[pid], year, deadlines) for pid in seen_in_time]
    in_time.sort(key=attrgetter("portal", "publisher"))
    return Timeliness(rows, _undated_rows(session, year, deadlines, unknown, until), in_time)


def _late_rows(
    batches: Iterable[list[Any]],
    year: int,
    deadlines: dict[str, date],
    ends: dict[str, datetime],
    moment: Callable[[Any], datetime],
) -> dict[str, list[LateRow]]:
    """Each candidate judged against its kind's deadline, by portal, unsorted: (portal, name,
    kind, the date judged as shown (发布时间, else the claimed date: its first ten characters are
    the day), first seen (raw, read by `moment`), URL, when its dateless copy was first seen or
    None). A dateless copy seen by the deadline's end makes the report on time: no row."""
    due_day = {kind: day.toordinal() for kind, day in deadlines.items()}
    ordinals: dict[str, int] = {}  # a few hundred days among thousands of reports
    by_portal: dict[str, list[LateRow]] = {}
    row, day_of = LateRow, date.fromisoformat  # bound once: the loop runs 17,000 times
    with _gc_paused():
        for batch in batches:
            for portal, name, kind, published, seen, url, dateless in batch:
                if dateless is not None and shanghai(dateless) < ends[kind]:
                    continue
                day = published[:10]
                if (ordinal := ordinals.get(day)) is None:
                    ordinals[day] = ordinal = day_of(day).toordinal()
                late = row(
                    portal,
                    name,
                    kind,
                    year,
                    deadlines[kind],
                    published,
                    moment(seen),
                    ordinal - due_day[kind],
                    url,
                )
                if (rows := by_portal.get(portal)) is None:
                    by_portal[portal] = rows = []
                rows.append(late)
    return by_portal


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cycle collector held off while the rows are built: none of them can be part of a
    cycle, yet every 700 new objects it would walk the young ones, and at 17,000 rows that is a
    tenth of `late` (bench/questions_bench.py). Left as it was found (another thread may have
    paused it too)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _in_order(by_portal: dict[str, list[LateRow]]) -> list[LateRow]:
    """The rows by portal, then by name: each portal's few hundred sorted apart, which costs
    a third of sorting 17,000 by name and then by portal (bench/questions_bench.py)."""
    found: list[LateRow] = []
    for portal in sorted(by_portal):
        rows = by_portal[portal]
        rows.sort(key=_BY_NAME)
        found += rows
    return found


def _seen_in_time(row: Any, year: int, deadlines: dict[str, date]) -> UndatedRow:
    _, portal, name, kind, _, _, _, seen, url = row
    deadline, when = deadlines[kind], shanghai(seen)
    text = f"no date on its page; first seen {minute(when)}, by the deadline {deadline}"
    return UndatedRow(portal, name, kind, year, deadline, when, url, text, "on_time")


def _candidates(
    session: Session,
    year: int,
    deadlines: dict[str, date],
    until: datetime | None,
    scope: Scope | None,
) -> tuple[dict[int, Any], dict[int, Any]]:
    """Per publisher with no copy claiming a date on time: its earliest copy claiming a late
    date, and its first seen copy claiming none."""
    due = case({k: d.isoformat() for k, d in deadlines.items()}, value=Publisher.kind)
    claimed = claimed_date(Document)
    earlier = aliased(Document)
    # A copy published on time makes the publisher on time, whatever later copies say.
    on_time = select(earlier.id).where(
        earlier.publisher_id == Document.publisher_id,
        earlier.report_year == year,
        earlier.not_report.is_(None),
        claimed_date(earlier) <= due,
    )
    on_time = stood(on_time, earlier.first_seen_at, until)
    stmt = (
        select(
            Publisher.id,
            Publisher.portal,
            Publisher.name,
            Publisher.kind,
            claimed,
            Document.id,
            Document.published_at,
            # Raw, converted below only for the rows kept: the column type's own processing
            # costs more per row than the whole query does.
            type_coerce(Document.first_seen_at, String),
            Document.url,
        )
        .join(Publisher, Publisher.id == Document.publisher_id)
        # Implied by the per-kind test, but decided before the join.
        .where(Document.report_year == year, Document.not_report.is_(None))
        .where(or_(claimed > min(deadlines.values()).isoformat(), claimed.is_(None)))
        .where(or_(claimed > due, claimed.is_(None)), ~on_time.exists())
    )
    stmt = cells.scoped(stmt, scope, Publisher.portal, Publisher.id)
    # Core rows, not ORM ones, and plain tuples until the end: at 10,000 late reports the row
    # machinery would cost more than the query (bench/questions_bench.py).
    first: dict[int, Any] = {}
    undated: dict[int, Any] = {}
    for row in session.connection().execute(stood(stmt, Document.first_seen_at, until)).all():
        if row[4] is None:
            seen = undated.get(row[0])
            if seen is None or (row[7], row[5]) < (seen[7], seen[5]):
                undated[row[0]] = row  # the first seen copy
            continue
        known = first.get(row[0])
        if known is None or (row[4], row[5]) < (known[4], known[5]):
            first[row[0]] = row  # the earliest copy stands for the publisher
    return first, undated


def _undated_rows(
    session: Session,
    year: int,
    deadlines: dict[str, date],
    rows: list[Any],
    until: datetime | None,
) -> list[UndatedRow]:
    """Undated reports with what is known: when first seen, and the portal's last clean search
    before the deadline, which did not find it."""
    cells = {(row[1], deadlines[row[3]]) for row in rows}
    searched = {cell: _last_clean_before(session, *cell, until) for cell in cells}
    found = []
    for _, portal, name, kind, _, _, _, seen, url in rows:
        deadline = deadlines[kind]
        when = shanghai(seen)
        text = f"no date on its page; first seen {minute(when)}, after the deadline {deadline}"
        run = searched[(portal, deadline)]
        if run is None:
            text += f"; no clean search of {portal} before the deadline: when it went online"
            text += " is unknown"
        else:
            text += f"; the last clean search of {portal} before the deadline, run {run[0]}"
            text += f" at {minute(run[1])}, did not find it"
        found.append(UndatedRow(portal, name, kind, year, deadline, when, url, text))
    found.sort(key=attrgetter("portal", "publisher"))
    return found


def _last_clean_before(
    session: Session, portal: str, deadline: date, until: datetime | None
) -> tuple[int, datetime] | None:
    """The id and end of the last clean run of `portal` finished by the deadline's end."""
    last = min(day_end(deadline), until) if until is not None else day_end(deadline)
    stmt = (
        select(CrawlRun.id, CrawlRun.finished_at)
        .where(CrawlRun.portal == portal, CrawlRun.status == "ok", CrawlRun.blocked == 0)
        .where(CrawlRun.finished_at < last)
        .order_by(CrawlRun.finished_at.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row and row[1] else None


def _deadlines(rules: DeadlineRules, year: int) -> dict[str, date]:
    """The deadline of every publisher kind; a kind the rules miss fails here, by name."""
    return {kind: deadline_for(rules, year, kind) for kind in PUBLISHER_KINDS}


def _existed_in(year: int) -> ColumnElement[bool]:
    return and_(
        or_(Publisher.first_year.is_(None), Publisher.first_year <= year),
        or_(Publisher.last_year.is_(None), Publisher.last_year >= year),
    )


def _has_report(year: int, until: datetime | None) -> ColumnElement[bool]:
    # EXISTS (SELECT id ...), not EXISTS (SELECT * ...): the index alone answers it.
    # A page judged no report since it was archived (documents.not_report) is nobody's report.
    stmt = select(Document.id).where(
        Document.publisher_id == Publisher.id,
        Document.report_year == year,
        Document.not_report.is_(None),
    )
    return stood(stmt, Document.first_seen_at, until).exists()
