"""Backfill plans: which cells a range makes, which crawl covers each, and claiming them safely."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from archive.db import session_scope
from nianbao.settings import Settings, parse_settings
from ops.backfill import (
    LISTING,
    CellSpec,
    Scope,
    Task,
    claim_next,
    counts,
    finish,
    plan,
    reopen,
)
from replica import settings_for
from scheduler.backfill import Backfill, BackfillError, plan_cells, task_job

NOW = datetime(2025, 3, 1, tzinfo=UTC)
GOV, SERVICES = "330483ZFC00000", "001008004005044"


@pytest.fixture(scope="module")
def settings() -> Settings:
    text = settings_for({"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"})
    return parse_settings(tomllib.loads(text), Path("s.toml"))


def request_for(settings: Settings, first: int, last: int, *only: str) -> Backfill:
    return Backfill(
        settings.portal("tongxiang"),
        settings.crawler,
        settings.archive,
        settings.publishers,
        first,
        last,
        only=only,
    )


def test_cells_are_publishers_by_years_each_with_its_crawl(settings: Settings) -> None:
    cells = plan_cells(request_for(settings, 2017, 2019))
    by_source: dict[str, set[tuple[str, int]]] = {}
    for cell in cells:
        by_source.setdefault(cell.source, set()).add((cell.publisher, cell.year))
    assert by_source[f"module:{GOV}"] == {("桐乡市人民政府", y) for y in (2017, 2018, 2019)}
    # The 政务服务办 exists from 2019 only; the 物价局 until 2018.
    assert by_source[f"module:{SERVICES}"] == {("桐乡市政务服务办", 2019)}
    listing = by_source[LISTING]
    assert ("桐乡市物价局", 2018) in listing and ("桐乡市物价局", 2019) not in listing
    assert ("桐乡市教育局", 2017) in listing and len(cells) == len(set(cells))


def test_publishers_are_chosen_by_name_alias_or_unit_code(settings: Settings) -> None:
    cells = plan_cells(request_for(settings, 2020, 2021, "市政府", "教育局"))
    assert {(c.publisher, c.source) for c in cells} == {
        ("桐乡市人民政府", f"module:{GOV}"),
        ("桐乡市教育局", LISTING),
    }
    assert (
        plan_cells(request_for(settings, 2020, 2020, SERVICES))[0].publisher == "桐乡市政务服务办"
    )
    with pytest.raises(BackfillError, match="unknown publisher '水利局'"):
        plan_cells(request_for(settings, 2020, 2021, "水利局"))


def test_a_cell_crawl_narrows_the_portal_to_one_unit_and_year(settings: Settings) -> None:
    module = task_job(request_for(settings, 2017, 2019), Task(f"module:{GOV}", 2018, (1,)))
    assert module.kind == "backfill" and module.portal.entry_points == ()
    assert module.portal.annual_report is not None
    assert module.portal.annual_report.urls(module.portal.base_url) == [
        f"{module.portal.base_url}/module/xxgk/xxgkAnnualReport.jsp?area={GOV}&fbtime=2018"
    ]
    listing = task_job(request_for(settings, 2017, 2019), Task(LISTING, None, (2, 3)))
    assert listing.portal.annual_report is None and listing.portal.entry_points


SCOPE = Scope("tongxiang", ("A", "B", "C"), 2018, 2019)
CELLS = [
    CellSpec("A", 2018, "module:1"),
    CellSpec("A", 2019, "module:1"),
    CellSpec("B", 2018, LISTING),
    CellSpec("B", 2019, LISTING),
    CellSpec("C", 2018, LISTING),
]


def test_planning_twice_adds_nothing_and_tasks_come_modules_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert plan(session, "tongxiang", CELLS, NOW) == 5
        assert plan(session, "tongxiang", CELLS, NOW) == 0
        first = claim_next(session, SCOPE, "host:1", NOW)
        second = claim_next(session, SCOPE, "host:1", NOW)
        third = claim_next(session, SCOPE, "host:1", NOW)
        assert claim_next(session, SCOPE, "host:1", NOW) is None
    assert first is not None and (first.source, first.year, len(first.cell_ids)) == (
        "module:1",
        2018,
        1,
    )
    assert second is not None and (second.source, second.year) == ("module:1", 2019)
    assert third is not None and (third.source, third.year, len(third.cell_ids)) == (
        LISTING,
        None,
        3,
    )
    with session_scope(engine) as session:
        finish(session, first, True, None, NOW)
        finish(session, second, False, None, NOW)
        c = counts(session, SCOPE)
        assert (c.done, c.failed, c.running, c.total) == (1, 1, 3, 5)


def test_a_dead_claim_and_a_failed_cell_are_reopened(engine: Engine) -> None:
    with session_scope(engine) as session:
        plan(session, "tongxiang", CELLS, NOW)
        mine = claim_next(session, SCOPE, "host:1", NOW)
        theirs = claim_next(session, SCOPE, "host:2", NOW)
        assert mine and theirs and set(mine.cell_ids).isdisjoint(theirs.cell_ids)
        finish(session, theirs, False, None, NOW)
    with session_scope(engine) as session:
        alive = {"host:1": False}
        assert reopen(session, SCOPE, NOW, alive=lambda who: alive.get(who, True)) == 2
        assert counts(session, SCOPE).pending == 5
    with session_scope(engine) as session:
        claim_next(session, SCOPE, "far:9", NOW)
        assert reopen(session, SCOPE, NOW, alive=lambda who: True) == 0
        assert reopen(session, SCOPE, NOW + timedelta(hours=7), alive=lambda who: True) == 1
