"""The replica portals beyond plan.toml's two: other CMS families, the real web's faults, and the
benchmark's large portal (data/families.toml), and where to find any portal's plan and truth.

``python -m replica serve`` serves plan.toml's portals unless told others by name; tests of the
crawler serve these with ``ReplicaServer(["handan", "trs_county", "lanxi", "kaihua"])``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from replica.plan import (
    Plan,
    _cases,
    _check,
    _plan_publisher,
    build_truth,
    data_text,
    load_plan,
)
from replica.records import Truth
from replica.truth import load_truth

FAMILIES_FILE = "families.toml"
# The benchmark's departments: each publishes on time every year; names are made up.
_STEMS = ("发展和改革局", "教育局", "科学技术局", "民政局", "司法局", "财政局", "人力资源和社会保障局",
          "自然资源和规划局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局",
          "文化和广电旅游体育局", "卫生健康局", "应急管理局", "审计局", "市场监督管理局")  # fmt: skip


@cache
def load_family_plan() -> Plan:
    """data/families.toml, with the benchmark portal's generated publishers."""
    raw: dict[str, Any] = tomllib.loads(data_text(FAMILIES_FILE))
    for pid, cfg in raw["portals"].items():
        count = int(cfg.get("synthetic_publishers", 0))
        raw["publishers"] += [
            synthetic_publisher(pid, cfg, n, raw["first_year"], raw["last_year"])
            for n in range(count)
        ]
    cases = _cases(raw)  # e.g. a `[[republished]]` report at a second URL (yiwu_variants)
    pubs = tuple(
        _plan_publisher(row, cases.get((row["portal"], row["name"]), {}))
        for row in raw["publishers"]
    )
    plan = Plan(raw=raw, portals=raw["portals"], seeds=raw.get("seeds", {}), publishers=pubs)
    _check(plan)
    return plan


@cache
def load_family_truth() -> Truth:
    """The truth of the family, fault and benchmark portals."""
    return build_truth(load_family_plan())


def portal_ids(extra: bool = True) -> list[str]:
    """plan.toml's portals, then (with `extra`) families.toml's."""
    ids = [p.id for p in load_truth().portals]
    return ids + [p.id for p in load_family_truth().portals] if extra else ids


# Portals generated at run time (replica/national.py): portal id -> its own plan and truth.
_GENERATED: dict[str, tuple[Plan, Truth]] = {}


def add_generated(portal_id: str, plan: Plan) -> Truth:
    """Make a generated portal's plan known to `truth_for` and `plan_for` (its pages need them)."""
    truth = build_truth(plan)
    _GENERATED[portal_id] = (plan, truth)
    return truth


def truth_for(portal_id: str) -> Truth:
    """The truth a portal belongs to."""
    if portal_id in _GENERATED:
        return _GENERATED[portal_id][1]
    if any(p.id == portal_id for p in load_truth().portals):
        return load_truth()
    family = load_family_truth()
    family.portal(portal_id)  # KeyError naming the portal when it is in neither
    return family


def plan_for(portal_id: str) -> Plan:
    """The plan a portal belongs to."""
    if portal_id in _GENERATED:
        return _GENERATED[portal_id][0]
    return load_plan() if portal_id in load_plan().portals else load_family_plan()


def synthetic_publisher(
    portal: str, cfg: dict[str, Any], n: int, first: int, last: int
) -> dict[str, Any]:
    """Department `n` of a benchmark portal as a plan row: a report every year, in January."""
    city = cfg["site_name"].removesuffix("人民政府")
    stem = _STEMS[n % len(_STEMS)]
    name = f"{city}{stem}" if n < len(_STEMS) else f"{city}第{n // len(_STEMS) + 1}{stem}"
    reports = []
    for year in range(first, last + 1):
        day = 3 + (n * 7 + year) % 25
        deadline = f"{year + 1}-03-31" if year <= 2018 else f"{year + 1}-01-31"
        reports.append(
            {
                "year": year,
                "published": f"{year + 1}-01-{day:02d}T{9 + n % 8:02d}:{n % 60:02d}",
                "written": f"{year + 1}-01-{day:02d}",
                "deadline": deadline,
                "days_late": 0,
            }
        )
    return {
        "portal": portal,
        "name": name,
        "kind": "department",
        "years": [first, last],
        "aliases": [name.removeprefix(city)],
        "index_code": f"113399{n:06d}0000",
        "label": name,
        "source": name,
        "missing": [],
        "reports": reports,
    }
