"""The evidence behind a status: which crawls searched a portal and when.

A search is *clean* when its run ended `ok` and met no anti-bot challenge (`blocked` = 0), or met
only challenges recorded page by page (a *told* run, questions.page_faults: those pages are evidence
about their own publishers); a run that failed, or was blocked unrecorded, is no evidence that a
report is absent. Capture outcomes (`gone`, `blocked`) come from the crawler (crawler.outcomes).

`--as-of DATE` reads the archive as it stood at the end of DATE (`until`): a query that selects
runs, captures, documents or versions keeps only those finished, fetched or first seen before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, func, select
from sqlalchemy.orm import Session

from archive.clock import day_end, minute, utc
from archive.models import CrawlRun

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def until_end_of(as_of: date | None) -> datetime | None:
    """The cut of `--as-of DATE`: what was fetched from the end of DATE on did not exist yet."""
    return None if as_of is None else day_end(as_of)


def stood(stmt: S, column: SQLColumnExpression[Any], until: datetime | None) -> S:
    """`stmt` over the archive as it stood at `until`: rows whose `column` is before it."""
    return stmt if until is None else stmt.where(column < until)


@dataclass(frozen=True)
class Searches:
    """The runs of one portal as evidence about one deadline; `after` counts the runs finished
    after it, `clean_after` those of them that ran clean."""

    portal: str
    deadline: date
    runs: int = 0
    ok: int = 0
    failed: int = 0
    blocked: int = 0  # runs that met a challenge page
    first: datetime | None = None
    last: datetime | None = None
    last_clean: datetime | None = None
    last_clean_id: int | None = None
    after: int = 0
    clean_after: int = 0

    @property
    def reachable(self) -> bool:
        """Searched cleanly after the deadline, or, when not searched since, cleanly before."""
        return self.clean_after > 0 if self.after else self.last_clean is not None

    @cached_property
    def evidence(self) -> str:
        if not self.runs:
            return f"no crawl of {self.portal} recorded"
        text = f"searched by {self.runs} run{'s' if self.runs > 1 else ''} of {self.portal}"
        text += f" ({self.ok} ok, {self.failed} failed, {self.blocked} blocked)"
        if self.first and self.last:
            text += f", finished {minute(self.first)} to {minute(self.last)}"
        if self.after and not self.clean_after:
            return f"{text}; none of the {self.after} since the deadline {self.deadline} ran clean"
        if not self.after:
            return f"{text}; not searched since the deadline {self.deadline}"
        when = minute(self.last_clean) if self.last_clean else "?"
        return f"{text}; last clean search: run {self.last_clean_id} at {when}"


def searches(
    session: Session,
    portals: Iterable[str],
    deadlines: Iterable[date],
    until: datetime | None = None,
    told: Collection[int] = (),
) -> dict[tuple[str, date], Searches]:
    """Per portal and deadline, the portal's runs finished before `until`, and those finished
    after the deadline; the `told` runs (questions.page_faults) count as clean."""
    wanted, ends = set(portals), sorted(set(deadlines))
    if not wanted or not ends:
        return {}
    # Grouped in the order of ix_crawl_runs_portal_status_blocked_finished_at, so the scan needs
    # no sort and no table row: one query, whatever the number of deadlines. FILTER, not a CASE
    # per deadline: PostgreSQL tests it without building a value per run.
    after = [func.count().filter(CrawlRun.finished_at >= day_end(d)) for d in ends]
    stmt = select(
        CrawlRun.portal,
        CrawlRun.status,
        CrawlRun.blocked,
        func.count(),
        func.min(CrawlRun.finished_at),
        func.max(CrawlRun.finished_at),
        func.max(CrawlRun.id),
        *after,
    ).group_by(CrawlRun.portal, CrawlRun.status, CrawlRun.blocked)
    if len(wanted) <= _LISTED:
        stmt = stmt.where(CrawlRun.portal.in_(sorted(wanted)))
    groups: dict[str, list[_Group]] = {}
    for portal, status, blocked, runs, first, last, last_id, *n_after in session.execute(
        stood(stmt, CrawlRun.finished_at, until)
    ):
        if portal not in wanted:
            continue
        group = _Group(status, blocked, runs, _aware(first), _aware(last), last_id, n_after)
        groups.setdefault(portal, []).append(group)
    if told:
        _tell(session, groups, told, ends, until)
    return {
        (portal, d): _fold(portal, d, found, i)
        for portal, found in groups.items()
        for i, d in enumerate(ends)
    }


# Up to this many portals are named in the query (a range of the index each); more, as a
# year's question over a whole archive asks, are read in one pass over the index and the others
# dropped here: testing each run against a list of 150 portals cost PostgreSQL more than the
# whole grouped scan (bench/questions_bench.py).
_LISTED = 32


@dataclass(frozen=True)
class _Group:
    """Runs of one portal with one status and one count of challenge pages met; `told` when
    every challenge page they met is recorded (they are judged page by page)."""

    status: str
    blocked: int
    runs: int
    first: datetime | None
    last: datetime | None
    last_id: int
    after: list[int]
    told: bool = False

    @property
    def clean(self) -> bool:
        return self.status == "ok" and (not self.blocked or self.told)


def _tell(
    session: Session,
    groups: dict[str, list[_Group]],
    told: Collection[int],
    ends: list[date],
    until: datetime | None,
) -> None:
    """Moves each told run out of its group into a clean group of its own (a few runs)."""
    stmt = select(
        CrawlRun.id, CrawlRun.portal, CrawlRun.status, CrawlRun.blocked, CrawlRun.finished_at
    ).where(CrawlRun.id.in_(sorted(told)))
    for run_id, portal, status, blocked, finished in session.execute(stmt):
        found = groups.get(portal, [])
        at = next(
            (i for i, g in enumerate(found) if (g.status, g.blocked) == (status, blocked)), None
        )
        if at is None or finished is None or (until is not None and finished >= until):
            continue  # unfinished, or finished after the cut: in no group
        after = [int(finished >= day_end(d)) for d in ends]
        rest = replace(found[at], runs=found[at].runs - 1)
        rest = replace(rest, after=[a - b for a, b in zip(rest.after, after, strict=True)])
        found[at : at + 1] = [rest] if rest.runs else []
        found.append(_Group(status, blocked, 1, finished, finished, run_id, after, told=True))


def _fold(portal: str, deadline: date, groups: list[_Group], i: int) -> Searches:
    clean = sorted((g for g in groups if g.clean), key=lambda g: g.last or _EPOCH, reverse=True)
    firsts = [g.first for g in groups if g.first]
    lasts = [g.last for g in groups if g.last]
    return Searches(
        portal=portal,
        deadline=deadline,
        runs=sum(g.runs for g in groups),
        ok=sum(g.runs for g in groups if g.status == "ok"),
        failed=sum(g.runs for g in groups if g.status == "failed"),
        blocked=sum(g.runs for g in groups if g.blocked),
        first=min(firsts, default=None),
        last=max(lasts, default=None),
        last_clean=clean[0].last if clean else None,
        last_clean_id=clean[0].last_id if clean else None,
        after=sum(g.after[i] for g in groups),
        clean_after=sum(g.after[i] for g in clean),
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates lose the column type on SQLite (text comes back); put back UTC."""
    return None if value is None else utc(value)
