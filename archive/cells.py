"""The statuses' facts kept as the archive changes: one cell per publisher x covered year
(archive.models.ReportCell, kept by migration 0008's triggers on documents and publishers).

`missing` and `late` over the whole archive read one year of cells: the publishers with no
report copy, and those whose earliest claimed date is after the earliest deadline or who claim
none, each from one range of the cells' key. The cells hold facts, not verdicts: the deadlines
are settings, applied at each question. They are the archive as it stands now, so a question
cut at a moment (`--as-of`, `until`) takes questions.status's computed path instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.clock import shanghai_from_naive, shanghai_from_text
from archive.db import raw_cursor
from archive.models import ReportCell, ReportYear, url_indexed

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
NONE = ""  # `claimed` of a cell no copy of which claims a date
BY_PUBLISHER = "ix_report_cells_publisher_id_year"


def _dated(dialect: str) -> tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]:
    """A late candidate in the seven places questions.status builds its row from, all of them
    held by the index ix_report_cells_late: portal, name, kind, the date judged as the row shows
    it (the 发布时间, else the claimed 成文日期; its first ten characters are the claimed day),
    first sight, URL, and when its dateless copy was first seen, if it has one (a dateless copy
    seen by the deadline makes the report on time)."""
    c = ReportCell
    return (c.portal, c.name, c.kind, func.coalesce(c.published_at, c.claimed),
            _raw_moment(c.seen, dialect), c.url, _raw_moment(c.undated_seen, dialect))  # fmt: skip


_WHO = (ReportCell.portal, ReportCell.publisher_id)
# A dateless copy, in questions.status's nine places (no 发布时间; the claimed date only when
# the cell claims one, a dated late candidate: see `undated`).
_UNDATED = (
    ReportCell.publisher_id,
    ReportCell.portal,
    ReportCell.name,
    ReportCell.kind,
    case((ReportCell.claimed != NONE, ReportCell.claimed)),
    ReportCell.undated_doc,
    null(),
    type_coerce(ReportCell.undated_seen, String),
    ReportCell.undated_url,
)


@dataclass(frozen=True)
class Scope:
    """Some publishers only: one portal's, or of those, the ids given (a page of the board)."""

    portal: str
    publisher_ids: tuple[int, ...] | None = None

    def where(self, portal: ColumnElement[str], pid: ColumnElement[int]) -> ColumnElement[bool]:
        if self.publisher_ids is None:
            return portal == self.portal
        return and_(portal == self.portal, pid.in_(self.publisher_ids))


def scoped(stmt: S, scope: Scope | None, portal: Any, pid: Any) -> S:
    return stmt if scope is None else stmt.where(scope.where(portal, pid))


def covered(session: Session, year: int, until: datetime | None) -> bool:
    """Whether the cells answer for `year`: the archive as it stands now, a year of documents."""
    if until is not None:
        return False
    return session.scalar(select(ReportYear.year).where(ReportYear.year == year)) is not None


# The predicate of ix_report_cells_gaps (archive.models), as literals: PostgreSQL proves a partial
# index from constants, and psycopg's prepared statements would bind parameters.
_NO_CLAIM: ColumnElement[str] = literal_column("''")
_NO_COPY: ColumnElement[int] = literal_column("0")


def without_report(year: int, scope: Scope | None) -> Select[int, str, str, str]:
    """The publishers that existed in `year` with no report copy of it (on PostgreSQL read from
    ix_report_cells_gaps alone)."""
    c = ReportCell
    return scoped(
        select(c.publisher_id, c.portal, c.name, c.kind).where(
            c.year == year,
            c.claimed == _NO_CLAIM,
            c.reports == _NO_COPY,
            or_(c.first_year.is_(None), c.first_year <= year),
            or_(c.last_year.is_(None), c.last_year >= year),
        ),
        scope,
        c.portal,
        c.publisher_id,
    )


_BATCH = 1000
_DATELESS = itemgetter(6)


class DatedCells:
    """The cells of `year` claiming a date after their kind's deadline (`dated`), streamed as the
    driver's tuples in `_dated`'s seven places, 1,000 at a time, each batch built into rows
    before the next is read, not 17,000 tuples held at once (a quarter more time on a busy machine,
    bench/questions_bench.py). Once read, `dateless_too` says whether one had a dateless copy.
    `moment` reads a raw first sight in Asia/Shanghai, chosen once for the dialect's one form
    (archive.clock.shanghai asks each value which form it is: a tenth of the rows' cost)."""

    moment: Callable[[Any], datetime]

    def __init__(
        self, session: Session, year: int, deadlines: dict[str, date], scope: Scope | None
    ) -> None:
        self._session = session
        self._stmts = dated(session.connection(), year, deadlines, scope)
        self.dateless_too = False
        postgres = session.connection().dialect.name == "postgresql"
        self.moment = shanghai_from_naive if postgres else shanghai_from_text

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        """Batches of rows: psycopg hands rows over one at a time in Python, a batch in C."""
        for stmt in self._stmts:
            with raw_cursor(self._session, stmt) as cursor:
                while batch := cursor.fetchmany(_BATCH):
                    self.dateless_too = self.dateless_too or any(map(_DATELESS, batch))
                    yield batch


def undated(
    session: Session,
    year: int,
    deadlines: dict[str, date],
    scope: Scope | None,
    dateless_too: bool,
) -> dict[int, Any]:
    """Per publisher, the first seen copy claiming no date, in questions.status's nine places:
    of the cells claiming none; and of the late dated ones when `dateless_too` (seldom), told
    apart by their fifth place, the date the cell claims (None for the cells claiming none)."""
    c = ReportCell
    arms = [
        select(*_UNDATED).where(c.year == year, c.claimed == NONE, c.undated_doc.is_not(None)),
        select(*_UNDATED).where(*_late(year, deadlines), c.undated_doc.is_not(None)),
    ]
    conn = session.connection()
    found: dict[int, Any] = {}
    for arm in arms[: 2 if dateless_too else 1]:
        found.update((row[0], row) for row in conn.execute(scoped(arm, scope, *_WHO)))
    return found


def dated(
    conn: Connection, year: int, deadlines: dict[str, date], scope: Scope | None = None
) -> list[Select[*tuple[Any, ...]]]:
    """The statements of the cells claiming a date after their kind's deadline, reading only
    the columns ix_report_cells_late holds. One range of the key: `claimed` after the earliest
    deadline (an OR with the dateless range would read the whole year)."""
    stmt = select(*_dated(conn.dialect.name)).where(*_late(year, deadlines))
    if scope is not None and scope.publisher_ids is not None:
        # A page of publishers: their cells by publisher, not the year's range.
        stmt = stmt.with_hint(ReportCell, f"INDEXED BY {BY_PUBLISHER}", "sqlite")
    return [scoped(s, scope, *_WHO) for s in _by_url_length(stmt, conn.dialect.name)]


def _late(year: int, deadlines: dict[str, date]) -> tuple[ColumnElement[bool], ...]:
    c = ReportCell
    due = case({k: d.isoformat() for k, d in deadlines.items()}, value=c.kind)
    return (c.year == year, c.claimed > min(deadlines.values()).isoformat(), c.claimed > due)


def _raw_moment(moment: InstrumentedAttribute[datetime | None], dialect: str) -> ColumnElement[Any]:
    """A moment read raw, converted only for the rows kept (archive.clock.shanghai): SQLite's
    text; on PostgreSQL a timestamp without time zone, in UTC, which psycopg reads 3x faster than
    a timestamptz (whose time zone it applies to each)."""
    if dialect == "postgresql":
        return func.timezone("UTC", moment)
    return type_coerce(moment, String)


def _by_url_length(stmt: S, dialect: str) -> list[S]:
    """On PostgreSQL, the cells whose URL ix_report_cells_late holds, then those it cannot (a
    btree row is at most ~2.7 KB): each statement reads one index. SQLite needs no split: its
    table is in the key's order."""
    if dialect != "postgresql":
        return [stmt]
    return [stmt.where(url_indexed()), stmt.where(url_indexed(False))]
