"""Typed settings views the crawler reads: its own section and one row per portal."""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("hanweb", "trs", "generic")
"""CMS families with a spider. A portal on one of these is a settings row, not new code."""

DEFAULT_OVERLAP = 60
"""Known records a nightly crawl meets before it stops paging: about one year of a county's
reports, so that a revision of any recent report is still noticed the night it happens."""


@dataclass(frozen=True)
class CrawlerConfig:
    """The `[crawler]` section: politeness defaults for every portal."""

    user_agent: str = "nianbao/0.1 (+https://github.com/nianbao/nianbao)"
    download_delay: float = 1.0
    obey_robots_txt: bool = True
    timeout_seconds: float = 30.0
    retries: int = 3
    autothrottle: bool = True
    retry_backoff_seconds: float = 2.0  # the first retry waits this long, doubling each time
    max_file_mb: float = 50.0  # a larger file is recorded as `too_large`, its bytes not kept
    overlap: int = DEFAULT_OVERLAP
    # A portal's crawl is stopped past this and its run recorded failed, so that a portal that
    # hangs holds its place in the process no longer (crawler.worker).
    portal_timeout_minutes: float = 120.0
    # Portals one crawl process crawls at once (each its own Scrapy crawler and host slot; one
    # archive writer serves them all); `nianbao crawl --jobs N` runs N such processes. About
    # 1.2 MB a portal (bench/national_bench.py: 305 MB for a process of 200).
    portals_per_process: int = 100


@dataclass(frozen=True)
class AnnualReportModule:
    """Hanweb's `xxgkAnnualReport.jsp?area=<unit code>&fbtime=<year>`: one report per (unit, year)."""

    path: str
    areas: tuple[str, ...]
    first_year: int
    last_year: int

    def urls(self, base_url: str) -> list[str]:
        """Every (unit code, year) page of the module, oldest year first."""
        return [
            f"{base_url}{self.path}?area={area}&fbtime={year}"
            for area in self.areas
            for year in range(self.first_year, self.last_year + 1)
        ]


@dataclass(frozen=True)
class PortalConfig:
    """One `[[portals]]` row: where a portal is and which family spider crawls it.

    `record_selector`, `article_pattern` and `next_page_pattern` drive the generic family (and
    may narrow the others): a CSS selector for the links of a listing page, a regex a report
    page's URL matches, and a regex a further listing page's URL matches.
    """

    id: str
    name: str
    family: str
    base_url: str
    entry_points: tuple[str, ...]
    annual_report: AnnualReportModule | None = None
    download_delay: float | None = None  # per-portal override of [crawler] download_delay
    overlap: int | None = None  # per-portal override of [crawler] overlap
    max_file_mb: float | None = None  # per-portal override of [crawler] max_file_mb
    record_selector: str | None = None
    article_pattern: str | None = None
    next_page_pattern: str | None = None
    # Sister hosts (`host` or `host:port`) the crawl may fetch from besides base_url's
    # (crawler.hosts): where a portal keeps its attachments, say.
    allowed_hosts: tuple[str, ...] = ()

    def url(self, path: str) -> str:
        """Absolute URL for a site path such as `/col/col1229000001/index.html`."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")
