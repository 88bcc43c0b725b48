"""Pages a search met but could not read, as evidence about one publisher's report of one year.

A *gone* page (deleted before nianbao captured it) or a *blocked* one (an anti-bot challenge) is
named to a publisher by the module URL's unit code and year, or by the title its listing gave the
link (crawler.outcomes decides the outcome; `captures.listed_title` keeps the title). A blocked
page that names no publisher for the year (a listing page, a link listed without a title) is
*untold*: the evidence of every missing report of its portal says so, and the portal is not
blanketed as unreachable for it. A run whose every blocked page is recorded is *told*: its
challenges are accounted for page by page, so it still counts as a clean search for the others.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.clock import minute
from archive.models import Capture, CrawlRun
from archive.registry import PublisherRegistry

_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_WHAT = {"gone": "deleted", "blocked": "blocked by an anti-bot challenge"}


@dataclass(frozen=True)
class FaultPage:
    """One capture that was gone or blocked, as its listing named it."""

    portal: str
    url: str
    title: str | None
    fetched_at: datetime
    run_id: int | None
    kind: str
    outcome: str

    def evidence(self) -> str:
        named = f"listed as {self.title!r} at " if self.title else "at "
        run = f" (run {self.run_id})" if self.run_id else ""
        when = minute(self.fetched_at)
        return f"{named}{self.url}: {_WHAT[self.outcome]} when fetched at {when}{run}"

    def untold(self) -> str:
        """The evidence of a blocked page whose publishers cannot be told."""
        page = "a listing page" if self.kind == "listing" else "a page"
        run = f" by run {self.run_id}" if self.run_id else ""
        return (
            f"{page} {self.url} was blocked when fetched at {minute(self.fetched_at)}{run}; "
            "which publishers it lists cannot be told"
        )


@dataclass
class PageFaults:
    """Gone and blocked pages of some portals, for one report year."""

    gone: dict[int, FaultPage] = field(default_factory=dict)  # by publisher id, the first
    blocked: dict[int, FaultPage] = field(default_factory=dict)  # by publisher id, the first
    untold: dict[str, list[FaultPage]] = field(default_factory=dict)  # by portal
    told_runs: frozenset[int] = frozenset()


def page_faults(
    session: Session, year: int, portals: Sequence[str], until: datetime | None = None
) -> PageFaults:
    """The gone and blocked pages of `portals` fetched before `until`, named where they can be."""
    if not portals:
        return PageFaults()
    stmt = select(
        Capture.portal,
        Capture.url,
        Capture.listed_title,
        Capture.fetched_at,
        Capture.run_id,
        Capture.kind,
        Capture.outcome,
    ).where(Capture.outcome.in_(("gone", "blocked")), Capture.portal.in_(sorted(set(portals))))
    if until is not None:
        stmt = stmt.where(Capture.fetched_at < until)
    pages = [FaultPage(*row) for row in session.execute(stmt.order_by(Capture.fetched_at))]
    if not pages:
        return PageFaults()  # the usual case, and no registry to load
    found = PageFaults(told_runs=_told_runs(session, pages))
    registry = PublisherRegistry.load(session)
    for page in pages:
        _name(found, registry, page, year)
    return found


def _name(found: PageFaults, registry: PublisherRegistry, page: FaultPage, year: int) -> None:
    code, page_year = _module_cell(page.url)
    page_year = page_year or _title_year(page.title)
    if page.kind in ("article", "module") and page_year not in (None, year):
        return  # a page of another year's report says nothing about this one
    entry = None
    if page.kind in ("article", "module") and page_year == year:
        entry = registry.match(page.portal, None, page.title, code, year)
    if entry is not None:
        by_outcome = found.gone if page.outcome == "gone" else found.blocked
        by_outcome.setdefault(entry.id, page)
    elif page.outcome == "blocked" and page.kind in ("listing", "article", "module"):
        found.untold.setdefault(page.portal, []).append(page)


def _told_runs(session: Session, pages: list[FaultPage]) -> frozenset[int]:
    """Runs that ended ok and recorded a capture for every blocked page they counted."""
    recorded = Counter(p.run_id for p in pages if p.outcome == "blocked" and p.run_id)
    if not recorded:
        return frozenset()
    stmt = select(CrawlRun.id, CrawlRun.blocked).where(
        CrawlRun.id.in_(sorted(recorded)), CrawlRun.status == "ok"
    )
    return frozenset(
        run_id for run_id, blocked in session.execute(stmt) if recorded[run_id] >= blocked
    )


def _module_cell(url: str) -> tuple[str | None, int | None]:
    """(unit code, year) of an annual-report module URL (`?area=…&fbtime=…`)."""
    query = parse_qs(urlsplit(url).query)
    area, year = query.get("area", [None])[0], query.get("fbtime", [""])[0]
    return area, int(year) if year.isdigit() else None


def _title_year(title: str | None) -> int | None:
    match = _TITLE_YEAR.search(title or "")
    return int(match.group(1)) if match else None
