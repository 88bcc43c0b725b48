"""Reads data/plan.toml and expands it into the truth: URLs, titles, encodings, figures.

The plan holds the facts (who published what when, deadlines, lateness); this module only
derives what follows mechanically from them (document ids in publication order, 索引号 serial
numbers, paths), and refuses a plan that contradicts itself.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from replica import narrative
from replica.records import MODULE_PATH, Portal, Publisher, Report, Truth


class PlanError(ValueError):
    """data/plan.toml contradicts itself."""


@dataclass(frozen=True)
class PlanPublisher:
    """A registry row of the plan, with what its pages need besides the truth."""

    publisher: Publisher
    index_code: str  # the unit part of its 索引号
    label: str | None
    source: str | None
    title_name: str
    crumb: str
    layout: str | None
    renamed: dict[str, Any] = field(default_factory=dict)
    rows: tuple[dict[str, Any], ...] = ()
    missing: frozenset[int] = frozenset()

    def attr(self, name: str, year: int) -> str | None:
        """`label`/`source`/`title_name` as printed in `year`, after any rename."""
        if self.renamed and year >= self.renamed["year"] and name in self.renamed:
            return str(self.renamed[name])
        value: str | None = getattr(self, name)
        return value


@dataclass(frozen=True)
class Plan:
    raw: dict[str, Any]
    portals: dict[str, dict[str, Any]]
    seeds: dict[str, dict[str, Any]]
    publishers: tuple[PlanPublisher, ...]

    def entry(self, portal: str, name: str) -> PlanPublisher:
        for p in self.publishers:
            if p.publisher.key == (portal, name):
                return p
        raise KeyError((portal, name))


def data_text(relative: str) -> str:
    """A text file of the package data (replica/data/...)."""
    return resources.files("replica").joinpath("data", relative).read_text(encoding="utf-8")


@cache
def load_plan() -> Plan:
    raw = tomllib.loads(data_text("plan.toml"))
    pubs = tuple(_plan_publisher(row) for row in raw["publishers"])
    plan = Plan(raw=raw, portals=raw["portals"], seeds=raw["seeds"], publishers=pubs)
    _check(plan)
    return plan


def _plan_publisher(row: dict[str, Any]) -> PlanPublisher:
    first, last = row["years"]
    pub = Publisher(
        portal=row["portal"],
        name=row["name"],
        aliases=tuple(row.get("aliases", ())),
        kind=row["kind"],
        unit_code=row.get("unit_code"),
        years=(first, last),
    )
    return PlanPublisher(
        publisher=pub,
        index_code=row.get("index_code", ""),  # module pages print no 索引号
        label=row.get("label"),
        source=row.get("source"),
        title_name=row.get("title_name", row["name"]),
        crumb=row.get("crumb", row.get("label", row["name"])),
        layout=row.get("layout"),
        renamed=row.get("renamed", {}),
        rows=tuple(row["reports"]),
        missing=frozenset(row.get("missing", ())),
    )


def _check(plan: Plan) -> None:
    """Each year a publisher existed is exactly one of: reported, missing."""
    for entry in plan.publishers:
        pub = entry.publisher
        years = [r["year"] for r in entry.rows]
        missing = entry.missing
        span = set(range(pub.years[0], pub.years[1] + 1))
        if len(set(years)) != len(years) or set(years) & missing or set(years) | missing != span:
            raise PlanError(f"{pub.portal}/{pub.name}: reports {years} and missing {missing}")
        if pub.portal not in plan.portals:
            raise PlanError(f"{pub.name}: unknown portal {pub.portal}")


def build_truth(plan: Plan) -> Truth:
    portals = tuple(_portal(plan, pid) for pid in plan.portals)
    reports: list[Report] = []
    for portal in portals:
        reports += _portal_reports(plan, portal)
    return Truth(
        first_year=plan.raw["first_year"],
        last_year=plan.raw["last_year"],
        portals=portals,
        publishers=tuple(p.publisher for p in plan.publishers),
        reports=tuple(reports),
    )


def _portal(plan: Plan, pid: str) -> Portal:
    cfg = plan.portals[pid]
    areas = tuple(
        p.publisher.unit_code
        for p in plan.publishers
        if p.publisher.portal == pid and p.layout == "module" and p.publisher.unit_code
    )
    return Portal(
        id=pid,
        name=cfg["name"],
        site_name=cfg["site_name"],
        webid=cfg["webid"],
        column_id=cfg["column_id"],
        unit_id=cfg["unit_id"],
        column_name=cfg["column_name"],
        breadcrumb=tuple(cfg["breadcrumb"]),
        paging=cfg["paging"],
        layout=cfg["layout"],
        module_areas=areas,
    )


def _portal_reports(plan: Plan, portal: Portal) -> list[Report]:
    rows = [(e, row) for e in plan.publishers if e.publisher.portal == portal.id for row in e.rows]
    # Document ids grow with publication time, as a CMS hands them out.
    rows.sort(key=lambda er: (er[1]["published"], er[0].publisher.name))
    base = int(plan.portals[portal.id]["docid_base"])
    return [
        _report(plan, portal, entry, row, base + 1379 * rank)
        for rank, (entry, row) in enumerate(rows)
    ]


def _report(
    plan: Plan, portal: Portal, e: PlanPublisher, row: dict[str, Any], docid: int
) -> Report:
    pub, year, published = e.publisher, row["year"], row["published"]
    layout = e.layout or portal.layout
    module = layout == "module"
    written = row.get("written")
    return Report(
        portal=portal.id,
        publisher=pub.name,
        year=year,
        url=_url(portal, pub, year, published, docid, module),
        title=row.get("title") or f"{e.attr('title_name', year)}{year}年度政府信息公开工作报告",
        published_at=published,
        written_date=written or None,
        index_no=None if module else row.get("index_no") or _index_no(e, published, docid),
        publisher_label=None if module else row.get("label") or e.attr("label", year),
        source=None if module else row.get("source") or e.attr("source", year),
        encoding=_encoding(plan.portals[portal.id], year, published),
        layout=layout,
        seed=row.get("seed"),
        attachment=_attachment(row.get("attachment")),
        deadline=row["deadline"],
        days_late=row["days_late"],
        gbk_probe=row.get("probe"),
        figures=_figures(plan, e, row),
    )


def _url(
    portal: Portal, pub: Publisher, year: int, published: str, docid: int, module: bool
) -> str:
    if module:
        return f"{MODULE_PATH}?area={pub.unit_code}&fbtime={year}"
    y, m, d = (int(part) for part in published[:10].split("-"))
    return f"/art/{y}/{m}/{d}/art_{portal.column_id}_{docid}.html"


def _index_no(e: PlanPublisher, published: str, docid: int) -> str:
    serial = 10000 + int(hashlib.sha1(str(docid).encode()).hexdigest(), 16) % 90000
    return f"{e.index_code}/{published[:4]}-{serial}"


def _encoding(cfg: dict[str, Any], year: int, published: str) -> str:
    through = cfg.get("gbk_through_report_year")
    before = cfg.get("gbk_published_before")
    old = (through is not None and year <= through) or (before is not None and published < before)
    return "gbk" if old else "utf-8"


def _attachment(name: str | None) -> str | None:
    return f"/module/download/downfile.jsp?classid=0&filename={name}.pdf" if name else None


def _figures(plan: Plan, e: PlanPublisher, row: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    if row.get("seed"):
        figs: dict[str, int] = plan.seeds[row["seed"]].get("figures", {})
    else:
        figs = narrative.figures_of(numbers(e, row["year"]))
    return tuple(sorted(figs.items()))


def numbers(e: PlanPublisher, year: int) -> narrative.Numbers:
    pub = e.publisher
    return narrative.numbers_for(f"{pub.portal}|{pub.name}|{year}", pub.kind, year)
