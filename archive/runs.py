"""The crawl run record: every crawl leaves a row with its outcome and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import RUN_KINDS, RUN_STATUSES, CrawlRun


@dataclass(frozen=True)
class RunRow:
    """One run as the `runs` command shows it."""

    id: int
    kind: str
    portal: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages: int
    new_reports: int
    new_versions: int
    blocked: int
    errors: int
    finding: str | None
    gone: int = 0
    not_modified: int = 0
    listing_records: int = 0


def start_run(session: Session, portal: str, kind: str, *, at: datetime | None = None) -> CrawlRun:
    """Open a run (status `running`) and flush it, so captures can name its id."""
    _require(kind, RUN_KINDS, "run kind")
    run = CrawlRun(
        portal=portal,
        kind=kind,
        status="running",
        started_at=at or datetime.now(UTC),
        pages=0,
        new_reports=0,
        new_versions=0,
        blocked=0,
        errors=0,
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run: CrawlRun,
    status: str,
    pages: int = 0,
    new_reports: int = 0,
    new_versions: int = 0,
    blocked: int = 0,
    errors: int = 0,
    finding: str | None = None,
    *,
    at: datetime | None = None,
    gone: int = 0,
    not_modified: int = 0,
    listing_records: int = 0,
) -> CrawlRun:
    """Close a run with its outcome (`ok` or `failed`) and counts."""
    _require(status, RUN_STATUSES, "run status")
    run.status = status
    run.finished_at = at or datetime.now(UTC)
    run.pages, run.new_reports, run.new_versions = pages, new_reports, new_versions
    run.blocked, run.errors, run.finding = blocked, errors, finding
    run.gone, run.not_modified, run.listing_records = gone, not_modified, listing_records
    session.flush()
    return run


def list_runs(
    session: Session, portal: str | None = None, limit: int | None = None
) -> list[RunRow]:
    """Runs, newest first."""
    stmt = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    if portal is not None:
        stmt = stmt.where(CrawlRun.portal == portal)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(run) for run in session.scalars(stmt)]


def previous_run(session: Session, portal: str, kind: str, before: int) -> CrawlRun | None:
    """The last finished run of the same portal and kind before run `before`: what a new run's
    listing is compared with to notice a layout change."""
    stmt = (
        select(CrawlRun)
        .where(
            CrawlRun.portal == portal,
            CrawlRun.kind == kind,
            CrawlRun.id < before,
            CrawlRun.finished_at.is_not(None),
        )
        .order_by(CrawlRun.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def _row(run: CrawlRun) -> RunRow:
    return RunRow(
        id=run.id,
        kind=run.kind,
        portal=run.portal,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        pages=run.pages,
        new_reports=run.new_reports,
        new_versions=run.new_versions,
        blocked=run.blocked,
        errors=run.errors,
        finding=run.finding,
        gone=run.gone,
        not_modified=run.not_modified,
        listing_records=run.listing_records,
    )


def _require(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


# A run as `nianbao runs` and the web view's runs.json/csv show it: one list for both.
RUN_FIELDS = (
    "id",
    "kind",
    "portal",
    "started_at",
    "finished_at",
    "status",
    "pages",
    "new_reports",
    "blocked",  # anti-bot challenge pages (captures.outcome)
    "gone",  # pages deleted (404/410) since they were listed
    "not_modified",  # 304s: unchanged since the last crawl, no body fetched
    "errors",
)
