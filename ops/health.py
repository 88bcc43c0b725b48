"""Is the nightly crawl still doing its job? Per-portal health, the scheduler's heartbeat, the
record of scheduled crawls. Alert state is in `ops.alerts`.

Backfill runs are left out of every comparison: a deep crawl of 2015 says nothing about tonight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive.models import Capture, CrawlRun, ScheduledCrawl, SchedulerHeartbeat
from ops.leases import rowcount

HEALTH_KINDS = ("nightly", "manual")
REPORT_CAPTURES = ("article", "module", "attachment")
SCHEDULER = "scheduler"  # the subject of the scheduler's own problems


@dataclass(frozen=True)
class HealthRules:
    """When a portal or the scheduler counts as unhealthy (`[alerts]`, `[scheduler]`)."""

    stale_days: float = 3.0
    failed_runs: int = 3
    heartbeat_stale: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    """One unhealthy condition: its subject (a portal id, or `scheduler`), rule and evidence."""

    subject: str
    rule: str  # stale | failing | empty | heartbeat
    detail: str


@dataclass(frozen=True)
class Health:
    """One subject's state as `nianbao runs --health` shows it."""

    subject: str
    last_success: datetime | None
    last_run: datetime | None
    last_status: str | None
    failed_in_a_row: int
    problems: tuple[Problem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems


def portal_health(session: Session, portal: str, rules: HealthRules, now: datetime) -> Health:
    """A portal's health: stale (no success for N days), failing (N failed in a row), empty."""
    runs = _finished_runs(session, portal, limit=max(rules.failed_runs, 50))
    last_ok = next((r for r in runs if r.status == "ok"), None)
    in_a_row = next((i for i, r in enumerate(runs) if r.status != "failed"), len(runs))
    problems = [
        p
        for p in (
            _stale(session, portal, last_ok, rules, now),
            _failing(portal, runs, in_a_row, rules),
            _empty(session, portal, runs),
        )
        if p is not None
    ]
    latest = runs[0] if runs else None
    return Health(
        portal,
        last_ok.finished_at if last_ok else None,
        latest.started_at if latest else None,
        latest.status if latest else None,
        in_a_row,
        tuple(problems),
    )


def scheduler_health(session: Session, rules: HealthRules, now: datetime) -> Health:
    """The scheduler's heartbeat: none ever, or none for longer than allowed, is a problem."""
    last = session.scalar(select(func.max(SchedulerHeartbeat.beat_at)))
    if last is None:
        problem = Problem(SCHEDULER, "heartbeat", "no scheduler has ever run (`nianbao schedule`)")
    elif now - last > rules.heartbeat_stale:
        minutes = (now - last).total_seconds() / 60
        problem = Problem(
            SCHEDULER,
            "heartbeat",
            f"the scheduler's last heartbeat was {minutes:.0f} min ago ({last:%Y-%m-%d %H:%M} UTC)",
        )
    else:
        return Health(SCHEDULER, None, last, "beating", 0, ())
    return Health(SCHEDULER, None, last, "stale" if last else None, 0, (problem,))


def _finished_runs(session: Session, portal: str, limit: int) -> list[CrawlRun]:
    return list(
        session.scalars(
            select(CrawlRun)
            .where(
                CrawlRun.portal == portal,
                CrawlRun.kind.in_(HEALTH_KINDS),
                CrawlRun.status != "running",
            )
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(limit)
        )
    )


def _stale(
    session: Session, portal: str, last_ok: CrawlRun | None, rules: HealthRules, now: datetime
) -> Problem | None:
    # Without a success ever, count from the portal's first run, else from the first heartbeat:
    # a portal the schedule has never crawled goes stale too.
    since = (last_ok.finished_at or last_ok.started_at) if last_ok else _first_seen(session, portal)
    if since is None or now - since <= timedelta(days=rules.stale_days):
        return None
    what = "no successful crawl" if last_ok else "never crawled successfully"
    days = (now - since).total_seconds() / 86400
    return Problem(
        portal, "stale", f"{what} for {days:.1f} days (since {since:%Y-%m-%d %H:%M} UTC)"
    )


def _first_seen(session: Session, portal: str) -> datetime | None:
    first_run = session.scalar(
        select(func.min(CrawlRun.started_at)).where(
            CrawlRun.portal == portal, CrawlRun.kind.in_(HEALTH_KINDS)
        )
    )
    return first_run or session.scalar(select(func.min(SchedulerHeartbeat.started_at)))


def _failing(
    portal: str, runs: list[CrawlRun], in_a_row: int, rules: HealthRules
) -> Problem | None:
    if in_a_row < rules.failed_runs:
        return None
    latest = runs[0]
    why = f": {latest.finding}" if latest.finding else ""
    return Problem(
        portal, "failing", f"the last {in_a_row} runs failed; latest is run {latest.id}{why}"
    )


def _empty(session: Session, portal: str, runs: list[CrawlRun]) -> Problem | None:
    """The latest run archived no report page where the previous run of its kind archived some."""
    if not runs:
        return None
    latest = runs[0]
    previous = next((r for r in runs[1:] if r.kind == latest.kind), None)
    if previous is None or _report_pages(session, latest.id):
        return None
    before = _report_pages(session, previous.id)
    if not before:
        return None
    return Problem(
        portal,
        "empty",
        f"run {latest.id} archived no report page; the previous {latest.kind} run "
        f"{previous.id} archived {before}",
    )


def _report_pages(session: Session, run_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Capture)
            .where(Capture.run_id == run_id, Capture.kind.in_(REPORT_CAPTURES))
        )
        or 0
    )


# --- the scheduler's own records ---------------------------------------------------------------


def beat(session: Session, host: str, pid: int, mode: str, now: datetime) -> None:
    """Record that a scheduler process is alive (an upsert of its row)."""
    beat_id = f"{host}:{pid}"
    if rowcount(
        session,
        update(SchedulerHeartbeat).where(SchedulerHeartbeat.id == beat_id).values(beat_at=now),
    ):
        return
    session.add(
        SchedulerHeartbeat(id=beat_id, host=host, pid=pid, mode=mode, started_at=now, beat_at=now)
    )
    session.flush()


def start_scheduled(
    session: Session,
    portal: str,
    kind: str,
    scheduled_for: datetime | None,
    scheduler: str,
    log_path: str | None,
    now: datetime,
) -> int:
    """Open the record of one crawl the scheduler starts; returns its id."""
    row = ScheduledCrawl(
        portal=portal,
        kind=kind,
        scheduled_for=scheduled_for,
        started_at=now,
        outcome="running",
        log_path=log_path,
        scheduler=scheduler,
    )
    session.add(row)
    session.flush()
    return row.id


def finish_scheduled(
    session: Session,
    row_id: int,
    outcome: str,
    exit_code: int | None,
    run_id: int | None,
    now: datetime,
) -> None:
    """Close the record with the crawl's exit code, outcome and run."""
    row = session.get_one(ScheduledCrawl, row_id)
    row.outcome, row.exit_code, row.finished_at = outcome, exit_code, now
    row.run_id = run_id if run_id and session.get(CrawlRun, run_id) else None
    session.flush()


def mark_lost(session: Session, alive: Callable[[str], bool], now: datetime) -> int:
    """Records left `running` by a scheduler process that died are closed as `lost`."""
    rows = session.scalars(select(ScheduledCrawl).where(ScheduledCrawl.outcome == "running")).all()
    lost = [row for row in rows if not alive(row.scheduler)]
    for row in lost:
        row.outcome, row.finished_at = "lost", now
    session.flush()
    return len(lost)
