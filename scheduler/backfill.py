"""Backfills: a deep crawl of past years, one task at a time, progress kept in the database.

The plan is publishers × years (`ops.backfill`). Each annual-report-module cell is its own
crawl: the portal with its module narrowed to one unit code and one year and no listing; the cells
of publishers without a module code are covered by one crawl of the whole 年报 listing. Every crawl
is `kind=backfill` and goes through `crawler.process.run_crawl`, the same path as a nightly crawl,
so the portal lease keeps a backfill and a nightly crawl apart.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.config import ArchiveConfig
from archive.db import make_engine, session_scope, upgrade
from archive.files import inside
from archive.registry import PublisherSpec
from crawler.config import CrawlerConfig, PortalConfig
from crawler.job import CrawlJob
from crawler.process import CrawlFailed, run_crawl
from ops.backfill import (
    LISTING,
    MODULE,
    CellSpec,
    Counts,
    Scope,
    Task,
    claim_next,
    finish,
    plan,
    reopen,
)
from ops.backfill import counts as cell_counts
from ops.leases import LeaseHeld, process_ident

Progress = Callable[[Counts, str], None]
LEASE_POLL_SECONDS = 5.0


class BackfillError(ValueError):
    """A backfill that cannot be planned (an unknown publisher, nothing to crawl)."""


@dataclass(frozen=True)
class Backfill:
    """One `nianbao backfill` invocation."""

    portal: PortalConfig
    crawler: CrawlerConfig
    archive: ArchiveConfig
    publishers: tuple[PublisherSpec, ...]  # the whole registry (the worker matches reports to it)
    first_year: int
    last_year: int
    only: tuple[str, ...] = ()  # names, aliases or unit codes; empty means every publisher
    log_dir: Path | None = None
    lease_wait_seconds: float = 1800.0


@dataclass(frozen=True)
class Outcome:
    """What a backfill did: cells it added to the plan, crawls it ran, the plan's final state."""

    planned: int
    crawls: int
    counts: Counts


def plan_cells(request: Backfill) -> list[CellSpec]:
    """The (publisher, year) cells of the request, each with the crawl source that covers it."""
    portal = request.portal
    areas = portal.annual_report.areas if portal.annual_report else ()
    chosen = _chosen(request)
    cells = []
    for pub in chosen:
        source = MODULE + pub.unit_code if pub.unit_code in areas and pub.unit_code else LISTING
        if source == LISTING and not portal.entry_points:
            continue  # nothing on this portal lists it
        first = max(request.first_year, pub.first_year or request.first_year)
        last = min(request.last_year, pub.last_year or request.last_year)
        cells += [CellSpec(pub.name, year, source) for year in range(first, last + 1)]
    named = {p.unit_code for p in request.publishers if p.portal == portal.id}
    if not request.only:  # module units no registered publisher claims are still crawled
        for code in (a for a in areas if a not in named):
            cells += [
                CellSpec(f"unit {code}", y, MODULE + code)
                for y in range(request.first_year, request.last_year + 1)
            ]
    return cells


def run_backfill(request: Backfill, on_progress: Progress | None = None) -> Outcome:
    """Plan, then crawl every pending task of the plan until none is left."""
    cells = plan_cells(request)
    if not cells:
        raise BackfillError(f"nothing to backfill on {request.portal.id} for these publishers")
    scope = Scope(
        request.portal.id,
        tuple(sorted({c.publisher for c in cells})),
        request.first_year,
        request.last_year,
    )
    engine = make_engine(request.archive.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            planned = plan(session, request.portal.id, cells, _now())
            reopen(session, scope, _now())
            state = cell_counts(session, scope)
        report = on_progress or (lambda counts, message: None)
        report(state, f"{planned} new cells planned, {state.done} already done")
        crawls = 0
        while True:
            with session_scope(engine) as session:
                task = claim_next(session, scope, process_ident(), _now())
            if task is None:
                break
            ok, run_id, message = _crawl(request, task)
            crawls += 1
            with session_scope(engine) as session:
                finish(session, task, ok, run_id, _now())
                state = cell_counts(session, scope)
            report(state, message)
        return Outcome(planned, crawls, state)
    finally:
        engine.dispose()


def task_job(request: Backfill, task: Task) -> CrawlJob:
    """The crawl of one task: the listing alone, or the module for one unit code and year."""
    portal = request.portal
    if task.unit_code is None or portal.annual_report is None or task.year is None:
        portal = dataclasses.replace(portal, annual_report=None)
    else:
        module = dataclasses.replace(
            portal.annual_report,
            areas=(task.unit_code,),
            first_year=task.year,
            last_year=task.year,
        )
        portal = dataclasses.replace(portal, entry_points=(), annual_report=module)
    return CrawlJob(portal, request.crawler, request.archive, request.publishers, kind="backfill")


def _crawl(request: Backfill, task: Task) -> tuple[bool, int | None, str]:
    what = "listing" if task.year is None else f"{task.unit_code} {task.year}"
    log_path = _log_path(request)
    deadline = time.monotonic() + request.lease_wait_seconds
    while True:
        try:
            summary = run_crawl(task_job(request, task), log_path=log_path)
            break
        except LeaseHeld as busy:
            if time.monotonic() > deadline:
                return False, None, f"{what}: gave up waiting: {busy}"
            time.sleep(LEASE_POLL_SECONDS)
        except CrawlFailed as exc:
            return False, None, f"{what}: {exc}"
    detail = f"{summary.status}, {summary.new_reports} new reports (run {summary.run_id})"
    return summary.status == "ok", summary.run_id, f"{what}: {detail}"


def _log_path(request: Backfill) -> Path | None:
    if request.log_dir is None:
        return None
    request.log_dir.mkdir(parents=True, exist_ok=True)
    return inside(request.log_dir, f"{request.portal.id}-{_now():%Y%m%dT%H%M%S%f}-backfill.log")


def _chosen(request: Backfill) -> list[PublisherSpec]:
    mine = [p for p in request.publishers if p.portal == request.portal.id]
    if not request.only:
        return mine
    chosen = []
    for wanted in request.only:
        match = [p for p in mine if wanted in (p.name, p.unit_code, *p.aliases)]
        if not match:
            known = ", ".join(p.name for p in mine) or "none"
            raise BackfillError(
                f"unknown publisher {wanted!r} on {request.portal.id} (known: {known})"
            )
        chosen += [p for p in match if p not in chosen]
    return chosen


def _now() -> datetime:
    return datetime.now(UTC)
