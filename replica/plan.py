"""Reads data/plan.toml and expands it into the truth: URLs, titles, encodings, figures.

The plan holds the facts (who published what when, deadlines, lateness); this module only
derives what follows mechanically from them (document ids in publication order, 索引号 serial
numbers, paths), and refuses a plan that contradicts itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from replica import layouts, narrative
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
    cases: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)

    def case(self, kind: str, year: int) -> dict[str, Any] | None:
        """The plan's `[[kind]]` case for this publisher's report of `year`, if any."""
        return self.cases.get(kind, {}).get(year)

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


# The cases of the questions' tests (plan.toml's last block): each names one report by portal,
# publisher and year (`inconsistent` may name a seed instead).
CASES = ("republished", "copied", "backdated", "revised", "inconsistent")


@cache
def load_plan() -> Plan:
    raw = tomllib.loads(data_text("plan.toml"))
    cases = _cases(raw)
    pubs = tuple(
        _plan_publisher(row, cases.get((row["portal"], row["name"]), {}))
        for row in raw["publishers"]
    )
    plan = Plan(raw=raw, portals=raw["portals"], seeds=raw["seeds"], publishers=pubs)
    _check(plan)
    return plan


def _cases(raw: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[int, dict[str, Any]]]]:
    found: dict[tuple[str, str], dict[str, dict[int, dict[str, Any]]]] = {}
    for kind in CASES:
        for case in raw.get(kind, []):
            if "seed" in case:
                continue  # a seed's case is looked up by the seed (see `_seed_checks`)
            by_kind = found.setdefault((case["portal"], case["publisher"]), {})
            by_kind.setdefault(kind, {})[case["year"]] = case
    return found


def _plan_publisher(
    row: dict[str, Any], cases: dict[str, dict[int, dict[str, Any]]]
) -> PlanPublisher:
    first, last = row["years"]
    pub = Publisher(
        portal=row["portal"],
        name=row["name"],
        aliases=tuple(row.get("aliases", ())),
        kind=row["kind"],
        unit_code=row.get("unit_code"),
        years=(first, last),
        registered=row.get("registered", True),
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
        cases=cases,
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
        for kind, by_year in entry.cases.items():
            if set(by_year) - set(years):
                raise PlanError(f"{pub.portal}/{pub.name}: [[{kind}]] names a year with no report")
    named = {
        (c["portal"], c["publisher"]) for k in CASES for c in plan.raw.get(k, []) if "portal" in c
    }
    if unknown := named - {p.publisher.key for p in plan.publishers}:
        raise PlanError(f"cases name unknown publishers: {sorted(unknown)}")


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
        # Hanweb's ids; a TRS or generic site (data/families.toml) has none of them.
        webid=cfg.get("webid", 0),
        column_id=cfg.get("column_id", 0),
        unit_id=cfg.get("unit_id", 0),
        column_name=cfg["column_name"],
        breadcrumb=tuple(cfg.get("breadcrumb", ())),
        paging=cfg.get("paging", ""),
        layout=cfg["layout"],
        module_areas=areas,
        family=cfg.get("family", "hanweb"),
        list_path=cfg.get("list_path", ""),
        per_page=cfg.get("per_page", 15),
    )


def _portal_reports(plan: Plan, portal: Portal) -> list[Report]:
    rows = [(e, row) for e in plan.publishers if e.publisher.portal == portal.id for row in e.rows]
    rows += _republished_rows(plan, portal.id)
    # Document ids grow with publication time, as a CMS hands them out.
    rows.sort(key=lambda er: (er[1]["published"], er[0].publisher.name))
    base = int(plan.portals[portal.id]["docid_base"])
    reports = [
        _report(plan, portal, entry, row, base + 1379 * rank)
        for rank, (entry, row) in enumerate(rows)
    ]
    return _link_copies(reports)


def _republished_rows(plan: Plan, portal_id: str) -> list[tuple[PlanPublisher, dict[str, Any]]]:
    """A `[[republished]]` case is a second row of the same report: its own date, same text."""
    found = []
    for e in plan.publishers:
        if e.publisher.portal != portal_id:
            continue
        for year, case in e.cases.get("republished", {}).items():
            original = next(r for r in e.rows if r["year"] == year)
            found.append((e, {**original, **case, "copy": True}))
    return found


def _link_copies(reports: list[Report]) -> list[Report]:
    originals = {(r.key, r.year): r.url for r in reports if r.copy_of is None}
    return [
        dataclasses.replace(r, copy_of=originals[(r.key, r.year)]) if r.copy_of == "" else r
        for r in reports
    ]


def _report(
    plan: Plan, portal: Portal, e: PlanPublisher, row: dict[str, Any], docid: int
) -> Report:
    pub, year, published = e.publisher, row["year"], row["published"]
    layout = e.layout or portal.layout
    module = layout == "module"
    written = row.get("written")
    encoding = _encoding(plan.portals[portal.id], year, published)
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
        encoding=encoding,
        layout=layout,
        seed=row.get("seed"),
        attachment=_attachment(row.get("attachment")),
        deadline=row["deadline"],
        days_late=row["days_late"],
        gbk_probe=row.get("probe"),
        figures=_figures(plan, e, row),
        **_case_fields(plan, e, row),
        **layouts.fault_fields(plan.portals[portal.id], row, encoding),
    )


def _case_fields(plan: Plan, e: PlanPublisher, row: dict[str, Any]) -> dict[str, Any]:
    year = row["year"]
    backdated = e.case("backdated", year)
    copied = e.case("copied", year)
    failing = e.case("inconsistent", year)
    return {
        "online_at": backdated["online"] if backdated and not row.get("copy") else row["published"],
        "copy_of": "" if row.get("copy") else None,  # the original's URL is filled in afterwards
        "copied_from": year - 1 if copied else None,
        "revised": bool(e.case("revised", year)) and not row.get("copy"),
        "failing_checks": ((failing["rule"],) if failing else ()) + _seed_checks(plan, row),
        "registered": e.publisher.registered,
    }


def _url(
    portal: Portal, pub: Publisher, year: int, published: str, docid: int, module: bool
) -> str:
    if module:
        return f"{MODULE_PATH}?area={pub.unit_code}&fbtime={year}"
    return layouts.article_path(portal, published, docid)


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


def _seed_checks(plan: Plan, row: dict[str, Any]) -> tuple[str, ...]:
    """The checks a seed fails by its own figures (`[[inconsistent]]` cases naming the seed)."""
    seed = row.get("seed")
    return tuple(
        c["rule"] for c in plan.raw.get("inconsistent", []) if seed and c.get("seed") == seed
    )


def numbers(e: PlanPublisher, year: int) -> narrative.Numbers:
    """The figures of a generated report; a `[[copied]]` report restates the previous year's in
    its words, an `[[inconsistent]]` one counts 3 letters too many."""
    pub = e.publisher
    source = year - 1 if e.case("copied", year) else year
    identity = f"{pub.portal}|{pub.name}|{source}"
    n = narrative.numbers_for(identity, pub.kind, source)
    n = dataclasses.replace(n, year=year, text_identity=identity if source != year else None)
    if e.case("inconsistent", year):
        n = dataclasses.replace(n, letter=n.letter + 3)
    return n
