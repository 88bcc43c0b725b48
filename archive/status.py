"""Statuses of expected reports: missing (with the runs that searched), late (with both dates).

`missing` classifies every registered publisher that existed in a year and has no report for it:
`not_yet_due` until the deadline day has passed (the deadline day itself is on time), then `gone`
when its report's page was listed but deleted before nianbao could capture it, `missing` when a
clean search found nothing, `unreachable` when the portal was failing or blocked when searched.
`late` judges a report by the date it claims: 发布时间, else 成文日期; a report published more
than once counts from its first copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from archive.copies import claimed_date
from archive.deadlines import DeadlineRules, deadline_for
from archive.evidence import SHANGHAI, Searches, gone_pages, local, searches, shanghai
from archive.models import PUBLISHER_KINDS, Document, Publisher

__all__ = ["SHANGHAI", "LateRow", "MissingRow", "late", "local", "missing"]
STATUSES = ("missing", "not_yet_due", "unreachable", "gone")


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


def missing(session: Session, year: int, as_of: date, rules: DeadlineRules) -> list[MissingRow]:
    """Every registered publisher that existed in `year` and has no report for it."""
    stmt = select(Publisher.id, Publisher.portal, Publisher.name, Publisher.kind).where(
        _existed_in(year), ~_has_report(year)
    )
    # Sorted here, not in SQL: walking the (portal, name) index jumps around the table.
    expected = sorted(session.connection().execute(stmt).all(), key=lambda r: (r[1], r[2]))
    deadlines = _deadlines(rules, year)
    overdue = [r for r in expected if as_of > deadlines[r[3]]]
    portals = [portal for _, portal, _, _ in overdue]
    runs = searches(session, portals, {deadlines[kind] for _, _, _, kind in overdue})
    gone = gone_pages(session, year, portals)
    rows = []
    for pub_id, portal, name, kind in expected:
        deadline = deadlines[kind]
        if as_of <= deadline:
            status, evidence = "not_yet_due", f"due {deadline}; as of {as_of} not yet overdue"
        elif pub_id in gone:
            status, evidence = "gone", gone[pub_id].evidence()
        else:
            search = runs.get((portal, deadline)) or Searches(portal, deadline)
            status = "missing" if search.reachable else "unreachable"
            evidence = search.evidence
        rows.append(MissingRow(portal, name, kind, year, deadline, status, evidence))
    return rows


def late(session: Session, year: int, rules: DeadlineRules) -> list[LateRow]:
    """Matched reports of `year` whose earliest claimed date is after the deadline of their kind."""
    deadlines = _deadlines(rules, year)
    due = case({k: d.isoformat() for k, d in deadlines.items()}, value=Publisher.kind)
    claimed = claimed_date(Document)
    earlier = aliased(Document)
    # A copy published on time makes the publisher on time, whatever later copies say.
    on_time = (
        select(earlier.id)
        .where(
            earlier.publisher_id == Document.publisher_id,
            earlier.report_year == year,
            claimed_date(earlier) <= due,
        )
        .exists()
    )
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
        # Implied by the per-kind test, but decided from the index alone, before the join.
        .where(Document.report_year == year, claimed > min(deadlines.values()).isoformat())
        .where(claimed > due, ~on_time)
    )
    # Core rows, not ORM ones, and plain tuples until the end: at 10,000 late reports the row
    # machinery would cost more than the query (bench/questions_bench.py).
    first: dict[int, Any] = {}
    for row in session.connection().execute(stmt).all():
        known = first.get(row[0])
        if known is None or (row[4], row[5]) < (known[4], known[5]):
            first[row[0]] = row  # the earliest copy stands for the publisher
    due_day = {kind: day.toordinal() for kind, day in deadlines.items()}
    rows = [
        LateRow(
            portal,
            name,
            kind,
            year,
            deadlines[kind],
            published or day,
            shanghai(seen),
            date.fromisoformat(day).toordinal() - due_day[kind],
            url,
        )
        for _, portal, name, kind, day, _, published, seen, url in first.values()
    ]
    rows.sort(key=attrgetter("portal", "publisher"))
    return rows


def _deadlines(rules: DeadlineRules, year: int) -> dict[str, date]:
    """The deadline of every publisher kind; a kind the rules miss fails here, by name."""
    return {kind: deadline_for(rules, year, kind) for kind in PUBLISHER_KINDS}


def _existed_in(year: int) -> ColumnElement[bool]:
    return and_(
        or_(Publisher.first_year.is_(None), Publisher.first_year <= year),
        or_(Publisher.last_year.is_(None), Publisher.last_year >= year),
    )


def _has_report(year: int) -> ColumnElement[bool]:
    # EXISTS (SELECT id ...), not EXISTS (SELECT * ...): the index alone answers it.
    return (
        select(Document.id)
        .where(Document.publisher_id == Publisher.id, Document.report_year == year)
        .exists()
    )
