"""The statuses' facts kept as the archive changes: one cell per publisher x covered year
(archive.models.ReportCell, kept by migration 0008's triggers on documents and publishers).

`missing` and `late` over the whole archive read one year of cells: the publishers with no
report copy, and those whose earliest claimed date is after the earliest deadline or who claim
none, each from one range of the cells' key. The cells hold facts, not verdicts: the deadlines
are settings, applied at each question. They are the archive as it stands now, so a question
cut at a moment (`--as-of`, `until`) takes questions.status's computed path instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from archive.models import ReportCell, ReportYear, url_indexed

Candidates = tuple[dict[int, Any], dict[int, Any]]
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
NONE = ""  # `claimed` of a cell no copy of which claims a date
BY_PUBLISHER = "ix_report_cells_publisher_id_year"
# A late candidate: the nine columns of questions.status's rows, then when its dateless copy was
# first seen (if any), all of them in the index ix_report_cells_late (archive.models). First
# sights are read raw, as questions.status reads them: converted only for the rows kept.
_DATED = (
    ReportCell.publisher_id,
    ReportCell.portal,
    ReportCell.name,
    ReportCell.kind,
    ReportCell.claimed,
    ReportCell.claimed_doc,
    ReportCell.published_at,
    type_coerce(ReportCell.seen, String),
    ReportCell.url,
    type_coerce(ReportCell.undated_seen, String),
)
_WHO = (ReportCell.portal, ReportCell.publisher_id)
# A dateless copy, in the same nine places (no claimed date, no 发布时间).
_UNDATED = (
    ReportCell.publisher_id,
    ReportCell.portal,
    ReportCell.name,
    ReportCell.kind,
    null(),
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


def without_report(year: int, scope: Scope | None) -> Select[int, str, str, str]:
    """The publishers that existed in `year` with no report copy of it."""
    c = ReportCell
    return scoped(
        select(c.publisher_id, c.portal, c.name, c.kind).where(
            c.year == year,
            c.claimed == NONE,
            c.reports == 0,
            or_(c.first_year.is_(None), c.first_year <= year),
            or_(c.last_year.is_(None), c.last_year >= year),
        ),
        scope,
        c.portal,
        c.publisher_id,
    )


def candidates(
    session: Session, year: int, deadlines: dict[str, date], scope: Scope | None
) -> Candidates:
    """As questions.status._candidates: per publisher with no copy claiming a date on time, its
    earliest copy claiming a late date, and its first seen copy claiming none; rows of
    (publisher id, portal, name, kind, claimed, document id, 发布时间, first seen raw, url)."""
    c = ReportCell
    due = case({k: d.isoformat() for k, d in deadlines.items()}, value=c.kind)
    earliest = min(deadlines.values()).isoformat()
    # Two ranges of the key, one statement each (an OR of them reads the whole year): cells
    # claiming a date after the earliest deadline, and cells claiming none with a dateless copy.
    # The dated ones read only the columns ix_report_cells_late holds; `undated_seen` says which
    # of them also have a dateless copy, whose URL is read after (seldom: a few cells).
    late = (c.year == year, c.claimed > earliest, c.claimed > due)
    dated = select(*_DATED).where(*late)
    dateless = select(*_UNDATED).where(
        c.year == year, c.claimed == NONE, c.undated_doc.is_not(None)
    )
    if scope is not None and scope.publisher_ids is not None:
        # A page of publishers: their cells by publisher, not the year's range.
        dated = dated.with_hint(c, f"INDEXED BY {BY_PUBLISHER}", "sqlite")
    conn = session.connection()
    first: dict[int, Any] = {}
    both = False
    for stmt in _by_url_length(dated, conn.dialect.name):
        for row in conn.execute(scoped(stmt, scope, *_WHO)).all():
            first[row[0]] = row
            both = both or row[9] is not None
    arms = [dateless, select(*_UNDATED).where(*late, c.undated_doc.is_not(None))]
    undated: dict[int, Any] = {}
    for arm in arms[: 2 if both else 1]:
        undated.update((row[0], row) for row in conn.execute(scoped(arm, scope, *_WHO)))
    return first, undated


def _by_url_length(stmt: S, dialect: str) -> list[S]:
    """On PostgreSQL, the cells whose URL ix_report_cells_late holds, then those it cannot (a
    btree row is at most ~2.7 KB): each statement reads one index. SQLite needs no split: its
    table is in the key's order."""
    if dialect != "postgresql":
        return [stmt]
    return [stmt.where(url_indexed()), stmt.where(url_indexed(False))]
