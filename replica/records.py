"""The ground-truth record types of the replica portals (frozen, so tests can share them)."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    paging: str  # "page": newer GET jpage endpoint; "range": older POST endpoint; "jpaas"
    layout: str  # layout of its article pages: "table" | "inline"
    module_areas: tuple[str, ...]  # unit codes served by the annual-report module
    family: str = "hanweb"  # hanweb | trs | generic (replica/families.py)
    list_path: str = ""  # the 年报 column's folder, for the trs and generic families
    per_page: int = 15

    @property
    def column_path(self) -> str:
        """The 年报 column's first listing page."""
        if self.family == "trs":
            return f"{self.list_path}index.html"
        if self.family == "generic":
            return f"{self.list_path}list.shtml"
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
    # False for an agency the registry does not know (its reports match no registered publisher).
    registered: bool = True

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
    # The cases the questions (missing, late, findings) are tested on; see plan.toml's last block.
    online_at: str = ""  # when the page really went online; published_at unless backdated
    copy_of: str | None = None  # the URL of the original, for a copy republished at a second URL
    copied_from: int | None = None  # the year whose report this one's text copies
    revised: bool = False  # the tests revise it after publication (the replica's revise hook)
    failing_checks: tuple[str, ...] = ()  # parser checks its own figures fail
    registered: bool = True  # False when its publisher is not in the registry
    # The real web's faults (replica/faults.py): flaky (503 once), slow (answers after the
    # crawler's timeout once), challenge (412 + script), wzws (a WZWS challenge page), deleted
    # (a 404, or TRS's meta refresh to the folder). `files`: attachments by kind (pdf, docx, xlsx,
    # doc, xls, fakepdf = an HTML error page at x.pdf, bigpdf = over the crawler's size limit).
    fault: str | None = None
    files: tuple[str, ...] = ()
    # The charset the Content-Type header names: None for the page's own (gb2312 | utf-8),
    # "" for no charset at all, anything else for a header that lies.
    charset_header: str | None = None

    @property
    def key(self) -> Key:
        return (self.portal, self.publisher)

    @property
    def registry_publisher(self) -> str | None:
        """The registry name a correct archive matches it to; None for an unregistered agency."""
        return self.publisher if self.registered else None

    @property
    def reachable(self) -> bool:
        """Whether a polite crawler can archive the page (challenges and deletions aside)."""
        return self.fault not in ("challenge", "wzws", "deleted")

    @property
    def backdated(self) -> bool:
        """Online only after its deadline although its page claims an earlier date."""
        return self.online_at[:10] > self.deadline >= self.published_date

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
        """The registered publishers of one portal (what its settings list)."""
        return tuple(p for p in self.publishers if p.portal == portal_id and p.registered)

    def reports_of(self, portal_id: str) -> tuple[Report, ...]:
        return tuple(r for r in self.reports if r.portal == portal_id)

    def report(self, portal_id: str, publisher: str, year: int) -> Report | None:
        for r in self.reports:
            if r.key == (portal_id, publisher) and r.year == year:
                return r
        return None

    def expected_missing(self, year: int) -> set[Key]:
        """Registered publishers that existed in `year` and never published a report for it."""
        have = {r.key for r in self.reports if r.year == year}
        return {
            p.key for p in self.publishers if p.registered and p.existed(year) and p.key not in have
        }

    def expected_late(self, year: int) -> dict[Key, int]:
        """Registered publishers' reports for `year` published after their deadline, with the
        days late; a report republished later counts from its first copy."""
        first: dict[Key, int] = {}
        for r in self.reports:
            if r.year == year and r.registered:
                first[r.key] = min(first.get(r.key, r.days_late), r.days_late)
        return {key: days for key, days in first.items() if days > 0}

    def originals(self) -> tuple[Report, ...]:
        """The reports less their republished copies: one per (publisher, year)."""
        return tuple(r for r in self.reports if r.copy_of is None)

    def as_of(self, moment: str) -> Truth:
        """The portals as they stood at `moment` ('YYYY-MM-DDTHH:MM', Asia/Shanghai): only the
        pages online by then. URLs stay those of the full truth."""
        online = tuple(r for r in self.reports if (r.online_at or r.published_at) <= moment)
        return replace(self, reports=online)
