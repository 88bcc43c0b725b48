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

from collections import Counter, defaultdict
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
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from archive.cells import NONE
from archive.clock import day_end
from archive.db import raw_cursor, raw_rows
from archive.models import Publisher, ReportCell, UtcDateTime
from questions.deadlines import DeadlineRules
from questions.evidence import Searches, searches
from questions.page_faults import PageFaults, page_faults
from questions.status import _deadlines

c = ReportCell
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
GAPS = ("missing", "not_yet_due", "unreachable", "gone")


@dataclass(frozen=True)
class YearFacts:
    """What the verdicts of one year rest on: the deadlines, and for a report not found, the
    portal's faults and searches (kept whole: a board page's evidence is theirs)."""

    year: int
    deadlines: dict[str, date]
    as_of: date
    gone: frozenset[int]
    blocked: frozenset[int]
    reachable: dict[str, bool]  # by kind: the portal searched cleanly since that deadline
    faults: PageFaults
    searches: dict[date, Searches]  # by deadline


def year_facts(
    session: Session, portal: str, years: list[int], as_of: date, rules: DeadlineRules
) -> dict[int, YearFacts]:
    """Each year's facts. The portal's searches are one query for all the years whose faults
    tell the same runs (usually none), not one a year: a search's verdict on a deadline is its
    own, whatever other deadlines are asked with it (questions.evidence.searches)."""
    faults = {year: page_faults(session, year, [portal]) for year in years}
    deadlines = {year: _deadlines(rules, year) for year in years}
    by_told: dict[frozenset[int], list[int]] = {}
    for year in years:
        by_told.setdefault(faults[year].told_runs, []).append(year)
    facts = {}
    for told, group in by_told.items():
        days = {day for year in group for day in deadlines[year].values()}
        runs = searches(session, [portal], days, None, told)
        for year in group:
            due, found = deadlines[year], faults[year]
            by_day = {day: runs.get((portal, day)) or Searches(portal, day) for day in due.values()}
            reachable = {kind: by_day[day].reachable for kind, day in due.items()}
            gone, blocked = frozenset(found.gone), frozenset(found.blocked)
            facts[year] = YearFacts(year, due, as_of, gone, blocked, reachable, found, by_day)
    return facts


def _existed(year: int) -> ColumnElement[bool]:
    return and_(
        or_(c.first_year.is_(None), c.first_year <= year),
        or_(c.last_year.is_(None), c.last_year >= year),
    )


def _due(f: YearFacts, kind: str | None = None) -> dict[date, list[str]]:
    """The kinds (or `kind`) by deadline: kinds due the same day share every verdict's test."""
    due: dict[date, list[str]] = {}
    for k, d in sorted(f.deadlines.items()):
        if kind is None or k == kind:
            due.setdefault(d, []).append(k)
    return due


def _in_time(d: date) -> ColumnElement[bool]:
    """A dateless copy seen by the end of the deadline day."""
    end = literal(day_end(d), UtcDateTime())
    return and_(c.undated_doc.is_not(None), c.undated_seen < end)


def status_at(f: YearFacts, status: str, d: date) -> ColumnElement[bool]:
    """The cells of year `f.year` of a kind due on `d` with `status` (of those that existed):
    what depends on the kind is decided here, so the SQL is small."""
    if status in GAPS:
        return and_(c.claimed == NONE, c.reports == 0, _gap_at(f, status, d, c.publisher_id))
    if status == "late":
        return and_(c.claimed > d.isoformat(), not_(_in_time(d)))
    if status == "undated":
        return and_(c.claimed == NONE, c.undated_doc.is_not(None), not_(_in_time(d)))
    if status == "on_time":
        dated = and_(c.claimed != NONE, c.claimed <= d.isoformat())
        return and_(c.reports > 0, or_(dated, _in_time(d)))
    raise ValueError(f"unknown status {status!r}")


def _gap(f: YearFacts, status: str, kind: Any, pid: Any) -> ColumnElement[bool]:
    """Of the rows (cells, or publishers) with no report copy, those questions.status.missing
    gives `status`."""
    return or_(*(and_(kind.in_(ks), _gap_at(f, status, d, pid)) for d, ks in _due(f).items()))


def _gap_at(f: YearFacts, status: str, d: date, pid: Any) -> ColumnElement[bool]:
    """`_gap` for the rows of a kind due on `d`."""
    if f.as_of <= d:
        return true() if status == "not_yet_due" else false()
    if status == "gone":
        return _among(pid, f.gone)
    named = _among(pid, f.gone | f.blocked)
    reached = f.searches[d].reachable
    if status == "missing":
        return not_(named) if reached else false()
    if status == "unreachable":
        return or_(false() if reached else not_(named), _among(pid, f.blocked - f.gone))
    return false()  # not_yet_due, once overdue


def _among(pid: Any, ids: frozenset[int]) -> ColumnElement[bool]:
    # An empty IN is a subquery in SQLAlchemy's SQL, run for each row; a constant is not.
    return pid.in_(sorted(ids)) if ids else false()


# The counts and the status filters read, per year, two ranges of ix_report_cells_board
# (migration 0010) that hold every cell not on time: the dates after the earliest deadline (late,
# but for a later deadline of the cell's kind, or a dateless copy seen in time) and '' (no copy
# claims a date: the gaps and the undated), index-only. An OR of them would read the whole year;
# a cell of neither range claims a date by its deadline: on time.
COUNTED = ("late", "undated", *GAPS)


def _arms(f: YearFacts, kind: str | None) -> list[tuple[ColumnElement[bool], tuple[str, ...]]]:
    """The ranges of year `f.year`'s cells (of `kind`), and the statuses found in each."""
    earliest = min(_due(f, kind)).isoformat()
    return [(c.claimed > earliest, ("late",)), (c.claimed == NONE, ("undated", *GAPS))]


def _status(f: YearFacts, status: str, kind: str | None) -> ColumnElement[bool]:
    """The cells of year `f.year` (of `kind`) with `status`, of those that existed; no test of
    the kind when the kinds shown are all due the same day."""
    due = _due(f, kind)
    if len(due) == 1:
        return status_at(f, status, next(iter(due)))
    return or_(*(and_(c.kind.in_(ks), status_at(f, status, d)) for d, ks in due.items()))


def _of_year(stmt: S, f: YearFacts, portal: str, kind: str | None, rng: ColumnElement[bool]) -> S:
    stmt = stmt.where(c.portal == portal, c.year == f.year, rng, _existed(f.year))
    return stmt if kind is None else stmt.where(c.kind == kind)


def _coded(
    f: YearFacts, kind: str | None, found: tuple[str, ...]
) -> tuple[ColumnElement[int], ColumnElement[bool]]:
    """A range's status as its index in COUNTED (NULL for on time), and a condition the rows
    read must meet: numbers, since plain integers are the rows a driver reads fastest."""
    if len(found) == 1:  # the dated range: a plain condition, no CASE for each row
        return literal_column(str(COUNTED.index(found[0]))), _status(f, found[0], kind)
    code = case(*((_status(f, s, kind), literal_column(str(COUNTED.index(s)))) for s in found))
    return code, true()  # the '' range is small: its few on-time rows are skipped as read


# A count's key: the year (from the first shown) times 8 plus the status's index in COUNTED.
_YEAR = 8


def counts(
    session: Session, facts: list[YearFacts], portal: str, kind: str | None
) -> dict[int, Counter[str]]:
    """Per year, the cells of the portal's publishers (of `kind`) by status, but `on_time` and
    `not_expected`, which the caller has as what is left: one statement, an arm per range."""
    tallies: dict[int, Counter[str]] = {f.year: Counter() for f in facts}
    if not facts:
        return tallies
    base = min(f.year for f in facts)
    arms = []
    for f in facts:
        for rng, found in _arms(f, kind):
            code, has = _coded(f, kind, found)
            key: Any = literal_column(str(_YEAR * (f.year - base))) + code
            stmt = select(key, func.count()).where(has)
            if len(found) > 1:
                stmt = stmt.group_by(literal_column("1"))
            arms.append(_of_year(stmt, f, portal, kind, rng))
    for start in range(0, len(arms), _COMPOUND):
        for key, n in raw_rows(session, union_all(*arms[start : start + _COMPOUND])):
            if key is not None:
                tallies[base + key // _YEAR][COUNTED[key % _YEAR]] += n
    return tallies


# SQLite's limit on the arms of a compound statement is 500.
_COMPOUND = 400


def status_sets(
    session: Session, facts: list[YearFacts], portal: str, kind: str | None
) -> dict[tuple[int, str], set[int]]:
    """Per (year, status), the ids of the portal's publishers (of `kind`) whose cell has that
    status, for every status but `on_time` and `not_expected`: what a status filter, and the
    counts of the publishers it keeps, are set operations over. On PostgreSQL one statement
    (_PG_SETS), on SQLite `year_status_sets`."""
    if facts and session.connection().dialect.name == "postgresql":
        return _pg_status_sets(session, facts, portal, kind)
    return year_status_sets(session, facts, portal, kind)


def year_status_sets(
    session: Session, facts: list[YearFacts], portal: str, kind: str | None
) -> dict[tuple[int, str], set[int]]:
    """`status_sets` in SQL built per year: the dated range holds most of these cells, all
    late: a statement a year, read as plain ids into a set; the '' ranges, a few, one statement
    with each row's year and status."""
    sets: dict[tuple[int, str], set[int]] = {}
    blank: list[Any] = []
    for f in facts:
        (dated, late), (empty, found) = _arms(f, kind)
        stmt = select(c.publisher_id).where(_status(f, late[0], kind))
        sets[(f.year, late[0])] = _ids(session, _of_year(stmt, f, portal, kind, dated))
        code, _ = _coded(f, kind, found)
        labelled: tuple[Any, ...] = (literal_column(str(f.year)).label("year"), code.label("code"))
        blank.append(_of_year(select(*labelled, c.publisher_id), f, portal, kind, empty))
    for start in range(0, len(blank), _COMPOUND):
        coded = _coded_ids(session, union_all(*blank[start : start + _COMPOUND]))
        sets.update(((y, COUNTED[k]), ids) for (y, k), ids in coded.items())
    return sets


# PostgreSQL sends the ids as one array a statement or group (array_agg): a row for each id
# costs its server and the driver several times the index scan (bench/web_bench.py). SQLite's
# rows cost no more than a string of them would: read one at a time.


def _ids(session: Session, stmt: Any) -> set[int]:
    """The ids a statement of one column selects."""
    if session.connection().dialect.name == "postgresql":
        ids = stmt.subquery().c[0]
        ((found,),) = raw_rows(session, select(func.array_agg(ids)))
        return set(found or ())
    with raw_cursor(session, stmt) as rows:
        return {pid for (pid,) in rows}


def _coded_ids(session: Session, stmt: Any) -> dict[tuple[int, int], set[int]]:
    """The ids of a statement of (year, status code, id) rows by year and code, but those whose
    code is NULL (a dateless copy seen in time: on time)."""
    found: dict[tuple[int, int], set[int]] = defaultdict(set)
    if session.connection().dialect.name == "postgresql":
        year, code, ids = stmt.subquery().c
        grouped = select(year, code, func.array_agg(ids)).where(code.is_not(None))
        for y, k, pids in raw_rows(session, grouped.group_by(year, code)):
            found[(y, k)].update(pids)
        return found
    with raw_cursor(session, stmt) as rows:
        for y, k, pid in rows:
            if k is not None:
                found[(y, k)].add(pid)
    return found


# On PostgreSQL the status sets of every year are one statement of constant text, its years'
# facts as arrays: a year's two ranges of ix_report_cells_board are read for each element of
# `years` (a nested loop over them); a cell's deadline, its day's end and the search verdict
# are looked up in arrays by the year's ordinal and the kind's position in `kinds` (NULL for a
# kind not shown: no status). It states `status_at` and `_gap_at` cell by cell
# (tests/test_board.py holds the two to the same sets); a fault is named by
# year * 2**32 + publisher id. One statement in place of one per year and one for the ''
# ranges (bench/web_bench.py: 13 round trips, and building the per-year SQL cost the app more
# CPU than reading the ids); array lookups, not a join per cell (a join cost ~25 ms of 55).
_PG_SETS = text(
    """
SELECT y.year, s.code, s.ids
FROM unnest(CAST(:years AS INTEGER[]), CAST(:earliest AS VARCHAR[]))
    WITH ORDINALITY AS y(year, earliest, i)
CROSS JOIN LATERAL (
    SELECT CAST(:c_late AS INTEGER) AS code, array_agg(c.publisher_id) AS ids
    FROM report_cells AS c
    WHERE c.portal = :portal AND c.year = y.year AND c.claimed > y.earliest
      AND (CAST(:kind AS VARCHAR) IS NULL OR c.kind = :kind)
      AND (c.first_year IS NULL OR c.first_year <= y.year)
      AND (c.last_year IS NULL OR c.last_year >= y.year)
      AND c.claimed > (CAST(:due AS VARCHAR[]))[y.i][array_position(CAST(:kinds AS VARCHAR[]), c.kind)]
      AND NOT (c.undated_doc IS NOT NULL AND c.undated_seen
        < (CAST(:day_end AS TIMESTAMPTZ[]))[y.i][array_position(CAST(:kinds AS VARCHAR[]), c.kind)])
    UNION ALL
    SELECT b.code, array_agg(b.publisher_id) FILTER (WHERE b.code IS NOT NULL)
    FROM (
        SELECT CASE
            WHEN c.undated_doc IS NOT NULL AND NOT (c.undated_doc IS NOT NULL AND c.undated_seen
                < (CAST(:day_end AS TIMESTAMPTZ[]))[y.i][c.k])
                THEN CAST(:c_undated AS INTEGER)
            WHEN c.reports <> 0 THEN NULL
            WHEN NOT (CAST(:overdue AS BOOLEAN[]))[y.i][c.k]
                THEN CAST(:c_not_yet_due AS INTEGER)
            WHEN CAST(c.year AS BIGINT) * 4294967296 + c.publisher_id
                = ANY(CAST(:gone AS BIGINT[])) THEN CAST(:c_gone AS INTEGER)
            WHEN CAST(c.year AS BIGINT) * 4294967296 + c.publisher_id
                = ANY(CAST(:blocked AS BIGINT[])) THEN CAST(:c_unreachable AS INTEGER)
            WHEN (CAST(:reachable AS BOOLEAN[]))[y.i][c.k] THEN CAST(:c_missing AS INTEGER)
            ELSE CAST(:c_unreachable AS INTEGER)
        END AS code, c.publisher_id
        FROM (
            SELECT c.year, c.reports, c.undated_doc, c.undated_seen, c.publisher_id,
                array_position(CAST(:kinds AS VARCHAR[]), c.kind) AS k
            FROM report_cells AS c
            WHERE c.portal = :portal AND c.year = y.year AND c.claimed = :none
              AND (CAST(:kind AS VARCHAR) IS NULL OR c.kind = :kind)
              AND (c.first_year IS NULL OR c.first_year <= y.year)
              AND (c.last_year IS NULL OR c.last_year >= y.year)
            OFFSET 0
        ) AS c
        WHERE (CAST(:due AS VARCHAR[]))[y.i][c.k] IS NOT NULL
    ) AS b
    GROUP BY b.code
) AS s
"""
)


def _pg_status_sets(
    session: Session, facts: list[YearFacts], portal: str, kind: str | None
) -> dict[tuple[int, str], set[int]]:
    """`status_sets` on PostgreSQL, in one statement (_PG_SETS)."""
    kinds = sorted({k for f in facts for ks in _due(f, kind).values() for k in ks})
    at = {k: i for i, k in enumerate(kinds)}
    empty: list[Any] = [None] * len(kinds)
    due, end, overdue, reachable = ([list(empty) for _ in facts] for _ in range(4))
    gone: list[int] = []
    blocked: list[int] = []
    for i, f in enumerate(facts):
        for d, ks in _due(f, kind).items():
            for k in ks:
                due[i][at[k]], end[i][at[k]] = d.isoformat(), day_end(d)
                overdue[i][at[k]], reachable[i][at[k]] = f.as_of > d, f.searches[d].reachable
        gone += [(f.year << 32) + pid for pid in f.gone]
        blocked += [(f.year << 32) + pid for pid in f.blocked - f.gone]
    params: dict[str, Any] = {f"c_{s}": i for i, s in enumerate(COUNTED)}
    params.update(
        portal=portal,
        kind=kind,
        none=NONE,
        years=[f.year for f in facts],
        earliest=[min(_due(f, kind)).isoformat() for f in facts],
        kinds=kinds,
        due=due,
        day_end=end,
        overdue=overdue,
        reachable=reachable,
        gone=gone,
        blocked=blocked,
    )
    sets: dict[tuple[int, str], set[int]] = {(f.year, "late"): set() for f in facts}
    for year, code, ids in raw_rows(session, _PG_SETS, params):
        if code is not None and ids:
            sets[(year, COUNTED[code])] = set(ids)
    return sets


# A year no document was archived for has no cells: every publisher that existed then has no
# report, and its status is the kind's and the portal's (or its own faults').


def bare_existed(year: int) -> ColumnElement[bool]:
    return and_(
        or_(Publisher.first_year.is_(None), Publisher.first_year <= year),
        or_(Publisher.last_year.is_(None), Publisher.last_year >= year),
    )


def _bare(stmt: S, facts: YearFacts, portal: str, kind: str | None) -> S:
    stmt = stmt.where(Publisher.portal == portal, bare_existed(facts.year))
    return stmt if kind is None else stmt.where(Publisher.kind == kind)


def bare_counts(session: Session, facts: YearFacts, portal: str, kind: str | None) -> Counter[str]:
    """As `counts`, for a year with no cells."""
    stmt = select(
        *(func.count(case((_gap(facts, s, Publisher.kind, Publisher.id), 1))) for s in GAPS)
    )
    row = session.execute(_bare(stmt, facts, portal, kind)).one()
    return Counter(dict(zip(GAPS, row, strict=True)))


def bare_sets(
    session: Session, facts: YearFacts, portal: str, kind: str | None
) -> dict[tuple[int, str], set[int]]:
    """As `status_sets`, for a year with no cells (none but the gaps)."""
    label = case(*((_gap(facts, s, Publisher.kind, Publisher.id), literal(s)) for s in GAPS))
    stmt = _bare(select(label, Publisher.id), facts, portal, kind)
    sets: dict[tuple[int, str], set[int]] = {}
    for status, pid in session.execute(stmt):
        if status is not None:
            sets.setdefault((facts.year, status), set()).add(pid)
    return sets
