"""The ground-truth record types of the replica portals (frozen, so tests can share them)."""

from __future__ import annotations

from dataclasses import dataclass

MODULE_PATH = "/module/xxgk/xxgkAnnualReport.jsp"

Key = tuple[str, str]  # (portal id, registry publisher name)


@dataclass(frozen=True)
class Portal:
    """One replica portal: where its 年报 column lives and how it pages the column."""

    id: str
    name: str
    site_name: str
    webid: int
    column_id: int
    unit_id: int
    column_name: str
    breadcrumb: tuple[str, ...]  # the nodes between 首页 and the column
    paging: str  # "page": newer GET jpage endpoint; "range": older POST endpoint
    layout: str  # layout of its article pages: "table" | "inline"
    module_areas: tuple[str, ...]  # unit codes served by the annual-report module

    @property
    def column_path(self) -> str:
        return f"/col/col{self.column_id}/index.html"


@dataclass(frozen=True)
class Publisher:
    """A registry publisher: one body expected to publish one report a year while it exists."""

    portal: str
    name: str
    aliases: tuple[str, ...]
    kind: str  # department | government | township
    unit_code: str | None
    years: tuple[int, int]  # first and last report year it existed for

    @property
    def key(self) -> Key:
        return (self.portal, self.name)

    def existed(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]


@dataclass(frozen=True)
class Report:
    """One published report, as the replica serves it."""

    portal: str
    publisher: str  # registry name
    year: int
    url: str  # path (and query, for the module) on the portal
    title: str
    published_at: str  # 'YYYY-MM-DDTHH:MM', Asia/Shanghai
    written_date: str | None
    index_no: str | None
    publisher_label: str | None  # 发布机构 as printed; None where the page prints none
    source: str | None
    encoding: str  # 'utf-8' | 'gbk'
    layout: str  # 'inline' | 'table' | 'module'
    seed: str | None
    attachment: str | None  # downfile.jsp path linked from the body
    deadline: str  # ISO date
    days_late: int
    gbk_probe: str | None = None  # a GBK-only character the page body carries
    figures: tuple[tuple[str, int], ...] = ()  # headline figures the body states

    @property
    def key(self) -> Key:
        return (self.portal, self.publisher)

    @property
    def published_date(self) -> str:
        return self.published_at[:10]

    @property
    def is_article(self) -> bool:
        return self.layout != "module"


@dataclass(frozen=True)
class Truth:
    """Everything the replica serves, and what a correct archive should conclude from it."""

    first_year: int
    last_year: int
    portals: tuple[Portal, ...]
    publishers: tuple[Publisher, ...]
    reports: tuple[Report, ...]

    def portal(self, portal_id: str) -> Portal:
        for portal in self.portals:
            if portal.id == portal_id:
                return portal
        raise KeyError(f"unknown replica portal {portal_id!r}")

    def publishers_of(self, portal_id: str) -> tuple[Publisher, ...]:
        return tuple(p for p in self.publishers if p.portal == portal_id)

    def reports_of(self, portal_id: str) -> tuple[Report, ...]:
        return tuple(r for r in self.reports if r.portal == portal_id)

    def report(self, portal_id: str, publisher: str, year: int) -> Report | None:
        for r in self.reports:
            if r.key == (portal_id, publisher) and r.year == year:
                return r
        return None

    def expected_missing(self, year: int) -> set[Key]:
        """Publishers that existed in `year` and never published a report for it."""
        have = {r.key for r in self.reports if r.year == year}
        return {p.key for p in self.publishers if p.existed(year) and p.key not in have}

    def expected_late(self, year: int) -> dict[Key, int]:
        """Reports for `year` published after their deadline, with the days late."""
        return {r.key: r.days_late for r in self.reports if r.year == year and r.days_late > 0}
