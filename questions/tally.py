"""The statuses of one portal's publishers over years, counted and filtered in SQL from the
cells (archive.cells), without building a row per publisher: what the board needs at 100,000
publishers. Each condition states questions.status's verdicts over a cell's facts:
- a publisher that did not exist in a year: `not_expected`;
- no report copy: `not_yet_due` up to the deadline, then `gone` or `unreachable` for the
  publisher a deleted or blocked page names (questions.page_faults), else `missing` or
  `unreachable` as the portal's searches since the deadline went (questions.evidence);
- a copy claiming a date by the deadline, or a dateless copy seen by its end: `on_time`;
- else a copy claiming a later date: `late`; else (dateless, seen after): `undated`.
Only over the archive as it stands now (the cells); `covered` says for which years.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session

from archive.cells import NONE
from archive.clock import day_end
from archive.models import Publisher, ReportCell, UtcDateTime
from questions.deadlines import DeadlineRules
from questions.evidence import Searches, searches
from questions.page_faults import page_faults
from questions.status import _deadlines

c = ReportCell
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
GAPS = ("missing", "not_yet_due", "unreachable", "gone")


@dataclass(frozen=True)
class YearFacts:
    """What the verdicts of one year rest on: the deadlines, and for a report not found, the
    portal's faults and searches."""

    year: int
    deadlines: dict[str, date]
    as_of: date
    gone: frozenset[int]
    blocked: frozenset[int]
    reachable: dict[str, bool]  # by kind: the portal searched cleanly since that deadline


def year_facts(
    session: Session, portal: str, year: int, as_of: date, rules: DeadlineRules
) -> YearFacts:
    deadlines = _deadlines(rules, year)
    faults = page_faults(session, year, [portal])
    runs = searches(session, [portal], set(deadlines.values()), None, faults.told_runs)
    reachable = {
        kind: (runs.get((portal, day)) or Searches(portal, day)).reachable
        for kind, day in deadlines.items()
    }
    return YearFacts(
        year, deadlines, as_of, frozenset(faults.gone), frozenset(faults.blocked), reachable
    )


def _existed(year: int) -> ColumnElement[bool]:
    return and_(
        or_(c.first_year.is_(None), c.first_year <= year),
        or_(c.last_year.is_(None), c.last_year >= year),
    )


def _by_kind(f: YearFacts, test: Any) -> ColumnElement[bool]:
    """OR over the kinds of `test(deadline)` for the cells of that kind."""
    return or_(*(and_(c.kind == k, test(d)) for k, d in f.deadlines.items()))


def _kinds(f: YearFacts, keep: Any, kind: Any = c.kind) -> ColumnElement[bool]:
    """The rows of the kinds `keep(kind, deadline)` holds for."""
    return kind.in_([k for k, d in f.deadlines.items() if keep(k, d)])


def _in_time(d: date) -> ColumnElement[bool]:
    """A dateless copy seen by the end of the deadline day."""
    end = literal(day_end(d), UtcDateTime())
    return and_(c.undated_doc.is_not(None), c.undated_seen < end)


def status_of(f: YearFacts, status: str) -> ColumnElement[bool]:
    """The cells of year `f.year` with `status` (of those that existed)."""
    if status in GAPS:
        return and_(c.claimed == NONE, c.reports == 0, _gap(f, status))
    if status == "late":
        return _by_kind(f, lambda d: and_(c.claimed > d.isoformat(), not_(_in_time(d))))
    if status == "undated":
        dateless = and_(c.claimed == NONE, c.undated_doc.is_not(None))
        return and_(dateless, _by_kind(f, lambda d: not_(_in_time(d))))
    if status == "on_time":
        dated = lambda d: and_(c.claimed != NONE, c.claimed <= d.isoformat())  # noqa: E731
        return and_(c.reports > 0, _by_kind(f, lambda d: or_(dated(d), _in_time(d))))
    raise ValueError(f"unknown status {status!r}")


def _gap(f: YearFacts, status: str, kind: Any = c.kind, pid: Any = c.publisher_id) -> Any:
    """Of the rows (cells, or publishers) with no report copy, those questions.status.missing
    gives `status`."""
    if status == "not_yet_due":
        return _kinds(f, lambda k, d: f.as_of <= d, kind)
    overdue = _kinds(f, lambda k, d: f.as_of > d, kind)
    named = pid.in_(sorted(f.gone | f.blocked))
    if status == "gone":
        return and_(overdue, pid.in_(sorted(f.gone)))
    reached = status == "missing"
    searched = _kinds(f, lambda k, d: f.as_of > d and f.reachable[k] == reached, kind)
    by_search = and_(searched, not_(named))
    if status == "missing":
        return by_search
    return or_(by_search, and_(overdue, pid.in_(sorted(f.blocked - f.gone))))


def _scope(stmt: S, portal: str, kind: str | None, ids: Any) -> S:
    stmt = stmt.where(c.portal == portal)
    if kind is not None:
        stmt = stmt.where(c.kind == kind)
    return stmt if ids is None else stmt.where(c.publisher_id.in_(ids))


def counts(
    session: Session, facts: YearFacts, portal: str, kind: str | None, ids: Any = None
) -> Counter[str]:
    """One year's cells of the portal's publishers (of `kind`, among `ids`) by status, but
    `on_time` and `not_expected`, which the caller has as what is left."""
    found: Counter[str] = Counter()
    for statuses, cells in (("late",), _dated(facts)), (("undated", *GAPS), c.claimed == NONE):
        stmt = select(*(func.count(case((status_of(facts, s), 1))) for s in statuses))
        stmt = stmt.where(c.year == facts.year, cells, _existed(facts.year))
        row = session.execute(_scope(stmt, portal, kind, ids)).one()
        found.update(dict(zip(statuses, row, strict=True)))
    return found


def _dated(f: YearFacts) -> ColumnElement[bool]:
    """The range of the key the late cells are in: claiming a date after the earliest deadline.
    Each status is read from its range, one statement each (an OR reads the whole year)."""
    return c.claimed > min(f.deadlines.values()).isoformat()


def _range(f: YearFacts, status: str) -> ColumnElement[bool]:
    if status == "late":
        return _dated(f)
    return c.claimed == NONE if status in (*GAPS, "undated") else c.reports > 0


def with_status(facts: list[YearFacts], status: str, portal: str, kind: str | None) -> Any:
    """The ids of the portal's publishers with `status` in any of the years (as a subquery)."""
    if not facts:
        return select(c.publisher_id).where(false())
    per_year = [
        _scope(
            select(c.publisher_id).where(
                c.year == f.year, _range(f, status), _existed(f.year), status_of(f, status)
            ),
            portal,
            kind,
            None,
        )
        for f in facts
    ]
    return union(*per_year) if len(per_year) > 1 else per_year[0]


# A year no document was archived for has no cells: every publisher that existed then has no
# report, and its status is the kind's and the portal's (or its own faults').


def bare_existed(year: int) -> ColumnElement[bool]:
    return and_(
        or_(Publisher.first_year.is_(None), Publisher.first_year <= year),
        or_(Publisher.last_year.is_(None), Publisher.last_year >= year),
    )


def bare_counts(
    session: Session, facts: YearFacts, portal: str, kind: str | None, ids: Any = None
) -> Counter[str]:
    """As `counts`, for a year with no cells."""
    stmt = select(
        *(func.count(case((_gap(facts, s, Publisher.kind, Publisher.id), 1))) for s in GAPS)
    )
    stmt = stmt.where(Publisher.portal == portal, bare_existed(facts.year))
    if kind is not None:
        stmt = stmt.where(Publisher.kind == kind)
    if ids is not None:
        stmt = stmt.where(Publisher.id.in_(ids))
    return Counter(dict(zip(GAPS, session.execute(stmt).one(), strict=True)))


def bare_with_status(facts: YearFacts, status: str) -> ColumnElement[bool]:
    """The publishers with `status` in a year with no cells (none but the gaps)."""
    if status not in GAPS:
        return false()
    return and_(bare_existed(facts.year), _gap(facts, status, Publisher.kind, Publisher.id))
