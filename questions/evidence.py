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

from sqlalchemy import Select, SQLColumnExpression, func, or_, select
from sqlalchemy.orm import Session

from archive.clock import day_end, minute, utc
from archive.models import CrawlRun, RunTally

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
    """The runs of one portal as evidence about one deadline: whether any finished after it
    (`since`), and any of those clean (`clean_since`); when none of them ran clean, how many
    ran (`unclean_since`, else 0: counting the clean ones would read every run since)."""

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
    since: bool = False
    clean_since: bool = False
    unclean_since: int = 0

    @property
    def reachable(self) -> bool:
        """Searched cleanly after the deadline, or, when not searched since, cleanly before."""
        return self.clean_since if self.since else self.last_clean is not None

    @cached_property
    def evidence(self) -> str:
        if not self.runs:
            return f"no crawl of {self.portal} recorded"
        text = f"searched by {self.runs} run{'s' if self.runs > 1 else ''} of {self.portal}"
        text += f" ({self.ok} ok, {self.failed} failed, {self.blocked} blocked)"
        if self.first and self.last:
            text += f", finished {minute(self.first)} to {minute(self.last)}"
        if self.since and not self.clean_since:
            return (
                f"{text}; none of the {self.unclean_since} since the deadline {self.deadline} "
                "ran clean"
            )
        if not self.since:
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
    after the deadline; the `told` runs (questions.page_faults) count as clean. The archive as
    it stands is read from the runs' tallies (archive.models.RunTally: a few rows a portal,
    however many nights it was crawled); a cut at `until`, from the runs themselves."""
    wanted, ends = set(portals), sorted(set(deadlines))
    if not wanted or not ends:
        return {}
    if until is None:
        groups = _tallied(session, wanted, ends)
    else:
        groups = _counted(session, wanted, ends, until)
    if told:
        _tell(session, groups, told, ends, until)
    return {
        (portal, d): _fold(portal, d, found, i)
        for portal, found in groups.items()
        for i, d in enumerate(ends)
    }


# Up to this many portals are named in a query (a range of the index each); more, as a year's
# question over a whole archive asks, are read in one pass and the others dropped here: testing
# each run against a list of 150 portals cost PostgreSQL more than the whole grouped scan
# (bench/questions_bench.py).
_LISTED = 32


def _of(stmt: S, column: SQLColumnExpression[str], wanted: set[str]) -> S:
    return stmt.where(column.in_(sorted(wanted))) if len(wanted) <= _LISTED else stmt


@dataclass(frozen=True)
class _Group:
    """Runs of one portal with one status and one count of challenge pages met; `told` when
    every challenge page they met is recorded (they are judged page by page). `after`: how
    many finished after each deadline, counted only where it is said: for the groups that did
    not run clean, of a portal not searched cleanly since some deadline (None: not counted)."""

    status: str
    blocked: int
    runs: int
    first: datetime | None
    last: datetime | None
    last_id: int
    after: list[int] | None
    told: bool = False

    @property
    def clean(self) -> bool:
        return self.status == "ok" and (not self.blocked or self.told)


def _tallied(session: Session, wanted: set[str], ends: list[date]) -> dict[str, list[_Group]]:
    """The groups as their tallies stand; the unclean ones' runs since each deadline counted
    only for the portals with no clean group finished after some deadline (failing or blocked
    portals: a few), from a range of the runs' index each."""
    t = RunTally
    stmt = select(
        t.portal, t.status, t.blocked, t.runs, t.first_finished, t.last_finished, t.last_id
    )
    groups: dict[str, list[_Group]] = {}
    for portal, status, blocked, runs, first, last, last_id in session.execute(
        _of(stmt, t.portal, wanted)
    ):
        if portal in wanted:
            groups.setdefault(portal, []).append(
                _Group(status, blocked, runs, first, last, last_id, None)
            )
    cuts = [day_end(d) for d in ends]
    unclean_since = [
        portal for portal, found in groups.items() if any(not _clean_since(found, c) for c in cuts)
    ]
    if unclean_since:
        counted = _counted(session, set(unclean_since), ends, None, unclean_only=True)
        for portal in unclean_since:
            after = {(g.status, g.blocked): g.after for g in counted.get(portal, [])}
            groups[portal] = [
                g
                if g.clean
                else replace(g, after=after.get((g.status, g.blocked), [0] * len(ends)))
                for g in groups[portal]
            ]
    return groups


def _clean_since(groups: list[_Group], since: datetime) -> bool:
    return any(g.clean and g.last is not None and g.last >= since for g in groups)


def _counted(
    session: Session,
    wanted: set[str],
    ends: list[date],
    until: datetime | None,
    unclean_only: bool = False,
) -> dict[str, list[_Group]]:
    """The groups counted from the runs finished before `until`, with their runs after each
    deadline. Grouped in the order of ix_crawl_runs_portal_status_blocked_finished_at, so the
    scan needs no sort and no table row: one query, whatever the number of deadlines. FILTER,
    not a CASE per deadline: PostgreSQL tests it without building a value per run."""
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
    if unclean_only:  # the runs since the earliest deadline, of the groups not clean
        stmt = stmt.where(
            or_(CrawlRun.status != "ok", CrawlRun.blocked != 0),
            CrawlRun.finished_at >= day_end(ends[0]),
        )
    groups: dict[str, list[_Group]] = {}
    for portal, status, blocked, runs, first, last, last_id, *n_after in session.execute(
        stood(_of(stmt, CrawlRun.portal, wanted), CrawlRun.finished_at, until)
    ):
        if portal in wanted:
            group = _Group(status, blocked, runs, _aware(first), _aware(last), last_id, n_after)
            groups.setdefault(portal, []).append(group)
    return groups


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
        if rest.after is not None:
            rest = replace(rest, after=[a - b for a, b in zip(rest.after, after, strict=True)])
        found[at : at + 1] = [rest] if rest.runs else []
        found.append(_Group(status, blocked, 1, finished, finished, run_id, after, told=True))


def _fold(portal: str, deadline: date, groups: list[_Group], i: int) -> Searches:
    clean = sorted((g for g in groups if g.clean), key=lambda g: g.last or _EPOCH, reverse=True)
    firsts = [g.first for g in groups if g.first]
    lasts = [g.last for g in groups if g.last]
    end = day_end(deadline)
    since = any(last >= end for last in lasts)
    clean_since = _clean_since(groups, end)
    unclean = [g.after[i] for g in groups if not g.clean and g.after is not None]
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
        since=since,
        clean_since=clean_since,
        unclean_since=sum(unclean) if since and not clean_since else 0,
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates lose the column type on SQLite (text comes back); put back UTC."""
    return None if value is None else utc(value)
