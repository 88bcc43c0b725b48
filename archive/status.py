"""Statuses of expected reports: missing (with the runs that searched) and late (with both dates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from archive.deadlines import DeadlineRules, deadline_for
from archive.models import PUBLISHER_KINDS, CrawlRun, Document, Publisher

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
# report year and needs no tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def local(moment: datetime) -> datetime:
    """An aware datetime in Asia/Shanghai, the zone every date of the interface is given in."""
    return moment.astimezone(SHANGHAI)


@dataclass(frozen=True)
class MissingRow:
    """An expected report not found: `missing`, `not_yet_due` or `unreachable`, with evidence."""

    portal: str
    publisher: str
    kind: str
    year: int
    deadline: date
    status: str
    evidence: str


@dataclass(frozen=True)
class LateRow:
    """A report claiming a date after its deadline; `published_at` is the date judged (发布时间,
    else 成文日期), `first_seen_at` when nianbao first fetched it."""

    portal: str
    publisher: str
    kind: str
    year: int
    deadline: date
    published_at: str
    first_seen_at: datetime
    days_late: int
    url: str


@dataclass
class _Searches:
    """The runs of one portal, summarised as the evidence of a search."""

    portal: str
    by_status: dict[str, int] = field(default_factory=dict)
    finished: list[datetime] = field(default_factory=list)

    @property
    def any_ok(self) -> bool:
        return self.by_status.get("ok", 0) > 0

    @cached_property
    def evidence(self) -> str:
        total = sum(self.by_status.values())
        if total == 0:
            return f"no crawl of {self.portal} recorded"
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.by_status.items()))
        text = f"searched by {total} run{'s' if total > 1 else ''} of {self.portal} ({statuses})"
        if not self.finished:
            return text + ", none finished"
        return f"{text}, finished {_minute(min(self.finished))} to {_minute(max(self.finished))}"


def missing(session: Session, year: int, as_of: date, rules: DeadlineRules) -> list[MissingRow]:
    """Every registered publisher that existed in `year` and has no report for it."""
    # Sorted here, not in SQL: walking the (portal, name) index jumps around the table.
    stmt = select(Publisher.portal, Publisher.name, Publisher.kind).where(
        _existed_in(year), ~_has_report(year)
    )
    searches = _searches(session)
    deadlines = _deadlines(rules, year)
    rows = []
    for portal, name, kind in sorted(tuple(row) for row in session.execute(stmt)):
        search = searches.get(portal) or _Searches(portal)
        status = _status(as_of, deadlines[kind], search)
        rows.append(MissingRow(portal, name, kind, year, deadlines[kind], status, search.evidence))
    return rows


def _deadlines(rules: DeadlineRules, year: int) -> dict[str, date]:
    """The deadline of every publisher kind; a kind the rules miss fails here, by name."""
    return {kind: deadline_for(rules, year, kind) for kind in PUBLISHER_KINDS}


def _status(as_of: date, deadline: date, search: _Searches) -> str:
    if as_of <= deadline:
        return "not_yet_due"  # the deadline day itself is still on time
    return "missing" if search.any_ok else "unreachable"


def _existed_in(year: int) -> ColumnElement[bool]:
    return and_(
        or_(Publisher.first_year.is_(None), Publisher.first_year <= year),
        or_(Publisher.last_year.is_(None), Publisher.last_year >= year),
    )


def _has_report(year: int) -> ColumnElement[bool]:
    return exists().where(Document.publisher_id == Publisher.id, Document.report_year == year)


def _searches(session: Session) -> dict[str, _Searches]:
    stmt = select(
        CrawlRun.portal,
        CrawlRun.status,
        func.count(),
        func.min(CrawlRun.finished_at),
        func.max(CrawlRun.finished_at),
    ).group_by(CrawlRun.portal, CrawlRun.status)
    found: dict[str, _Searches] = {}
    for portal, status, count, first, last in session.execute(stmt):
        search = found.setdefault(portal, _Searches(portal))
        search.by_status[status] = count
        search.finished.extend(d for d in (first, last) if d is not None)
    return found


def late(session: Session, year: int, rules: DeadlineRules) -> list[LateRow]:
    """Matched reports of `year` whose earliest claimed date is after the deadline of their kind."""
    deadlines = _deadlines(rules, year)
    due = case({k: d.isoformat() for k, d in deadlines.items()}, value=Publisher.kind)
    claimed = _claimed(Document)
    earlier = aliased(Document)
    # A copy published on time makes the publisher on time, whatever later copies say.
    on_time = exists().where(
        earlier.publisher_id == Document.publisher_id,
        earlier.report_year == year,
        _claimed(earlier) <= due,
    )
    stmt = (
        select(
            Publisher.id,
            Publisher.portal,
            Publisher.name,
            Publisher.kind,
            Document.published_at,
            Document.first_seen_at,
            Document.url,
            claimed,
        )
        .join(Publisher, Publisher.id == Document.publisher_id)
        # Implied by the per-kind test, but it drops most on-time reports before the join.
        .where(Document.report_year == year, claimed > min(deadlines.values()).isoformat())
        .where(claimed > due, ~on_time)
        .order_by(claimed, Document.id)
    )
    rows: dict[int, LateRow] = {}
    for pub_id, portal, name, kind, published, seen, url, day in session.execute(stmt):
        if pub_id not in rows:  # the earliest copy stands for the publisher
            rows[pub_id] = LateRow(
                portal=portal,
                publisher=name,
                kind=kind,
                year=year,
                deadline=deadlines[kind],
                published_at=published or day,
                first_seen_at=local(seen),
                days_late=(date.fromisoformat(day) - deadlines[kind]).days,
                url=url,
            )
    return sorted(rows.values(), key=lambda r: (r.portal, r.publisher))


def _claimed(doc: type[Document]) -> ColumnElement[str]:
    """The date a report claims: its 发布时间's day, else its 成文日期 (ISO text compares as dates)."""
    return func.coalesce(func.substr(doc.published_at, 1, 10), doc.written_date)


def _minute(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%dT%H:%M")
