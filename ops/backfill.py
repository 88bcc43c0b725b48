"""Backfill plans in the database: one cell per (publisher, year), and how far its crawl got.

A cell is covered by one crawl *source*: the annual-report module for one unit code and year
(`module:<code>`, one crawl per cell), or the portal's 年报 listing (`listing`, one crawl covers every
listing cell of the plan). Progress lives here, not in Scrapy's JOBDIR, so a backfill killed at any
moment goes on where it stopped, and planning a range that is already done adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from archive.db import insert_if_absent, rowcount
from archive.models import BackfillCell
from ops.leases import ident_alive

LISTING = "listing"
MODULE = "module:"
# A cell claimed by a process on another host is given up only after this long without news.
FOREIGN_CLAIM_TIMEOUT = timedelta(hours=6)


@dataclass(frozen=True)
class CellSpec:
    """One cell to plan: which publisher, which report year, which crawl covers it."""

    publisher: str
    year: int
    source: str


@dataclass(frozen=True)
class Scope:
    """The cells one backfill invocation works on: a portal, its chosen publishers, a year range."""

    portal: str
    publishers: tuple[str, ...]
    first_year: int
    last_year: int

    def where(self) -> ColumnElement[bool]:
        return and_(
            BackfillCell.portal == self.portal,
            BackfillCell.publisher.in_(self.publishers),
            BackfillCell.year.between(self.first_year, self.last_year),
        )


@dataclass(frozen=True)
class Task:
    """One crawl of a backfill: its source, the year (None for the listing) and its cells."""

    source: str
    year: int | None
    cell_ids: tuple[int, ...]

    @property
    def unit_code(self) -> str | None:
        return self.source[len(MODULE) :] if self.source.startswith(MODULE) else None


@dataclass(frozen=True)
class Counts:
    """How many cells of a scope are in each state."""

    pending: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.running + self.done + self.failed


def plan(session: Session, portal: str, cells: Iterable[CellSpec], now: datetime) -> int:
    """Add the cells not planned yet; returns how many were added (0 for a range already planned)."""
    added = 0
    for cell in cells:
        values = {
            "portal": portal,
            "publisher": cell.publisher,
            "year": cell.year,
            "source": cell.source,
            "status": "pending",
            "attempts": 0,
            "updated_at": now,
        }
        added += insert_if_absent(session, BackfillCell, values)
    return added


def reopen(
    session: Session, scope: Scope, now: datetime, alive: Callable[[str], bool] | None = None
) -> int:
    """Make the scope's failed cells, and cells claimed by a process that died, pending again."""
    alive = alive or ident_alive
    reopened = rowcount(
        session,
        update(BackfillCell)
        .where(scope.where(), BackfillCell.status == "failed")
        .values(status="pending", updated_at=now),
    )
    running = session.scalars(
        select(BackfillCell).where(scope.where(), BackfillCell.status == "running")
    ).all()
    for cell in running:
        stale = cell.updated_at < now - FOREIGN_CLAIM_TIMEOUT
        if stale or not alive(cell.claimed_by or ""):
            cell.status, cell.claimed_by, cell.updated_at = "pending", None, now
            reopened += 1
    session.flush()
    return reopened


def claim_next(session: Session, scope: Scope, who: str, now: datetime) -> Task | None:
    """Claim the next task's cells (modules by year, the long listing crawl last); None when done.

    The claim is a compare-and-set on `status`, so two backfills of one portal share the work.
    """
    while True:
        first = session.scalars(
            select(BackfillCell)
            .where(scope.where(), BackfillCell.status == "pending")
            .order_by((BackfillCell.source == LISTING), BackfillCell.year, BackfillCell.source)
            .limit(1)
        ).first()
        if first is None:
            return None
        year = None if first.source == LISTING else first.year
        group = [scope.where(), BackfillCell.source == first.source]
        if year is not None:
            group.append(BackfillCell.year == year)
        claimed = rowcount(
            session,
            update(BackfillCell)
            .where(*group, BackfillCell.status == "pending")
            .values(
                status="running",
                claimed_by=who,
                updated_at=now,
                attempts=BackfillCell.attempts + 1,
            ),
        )
        if claimed:
            ids = session.scalars(
                select(BackfillCell.id).where(
                    *group, BackfillCell.status == "running", BackfillCell.claimed_by == who
                )
            ).all()
            return Task(first.source, year, tuple(sorted(ids)))


def finish(session: Session, task: Task, ok: bool, run_id: int | None, now: datetime) -> None:
    """Record a task's outcome on its cells: `done` with the run that covered them, or `failed`."""
    session.execute(
        update(BackfillCell)
        .where(BackfillCell.id.in_(task.cell_ids))
        .values(status="done" if ok else "failed", run_id=run_id, claimed_by=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )


def counts(session: Session, scope: Scope) -> Counts:
    """The scope's cells by state."""
    rows = session.execute(
        select(BackfillCell.status, func.count()).where(scope.where()).group_by(BackfillCell.status)
    ).all()
    return Counts(**{status: int(n) for status, n in rows})
