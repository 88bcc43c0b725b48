"""Issue 13: a real crawl of the replica portal of report variants (yiwu_variants in
replica/data/families.toml), asserted against its truth: a government's report posted by its office
is the government's, and one report posted at two URLs is one report with two copies.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Document, Publisher
from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from nianbao.settings import Settings, parse_settings
from questions.reports import get_report, list_reports
from questions.status import missing
from replica import settings_for
from replica.families import load_family_truth
from tests.test_crawl_families import replica_process

PORTAL = "yiwu_variants"
TRUTH = load_family_truth()
GOVERNMENT, OFFICE, DEPARTMENT = "义乌市人民政府", "义乌市人民政府办公室", "义乌市民政局"


@dataclass
class Crawled:
    base: str
    settings: Settings
    summary: RunSummary
    engine: Engine


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The variants portal crawled once, as `nianbao crawl` does."""
    root = tmp_path_factory.mktemp("variants")
    database_url = f"sqlite:///{root / 'archive.db'}"
    with replica_process(PORTAL) as urls:
        text = settings_for(urls, database_url=database_url, blob_dir=str(root / "blobs"))
        settings = parse_settings(tomllib.loads(text), root / "settings.toml")
        [portal] = [p for p in settings.portals if p.id == PORTAL]
        summary = run_crawl(
            CrawlJob(portal, settings.crawler, settings.archive, settings.publishers, "manual")
        )
    engine = make_engine(database_url)
    yield Crawled(urls[PORTAL], settings, summary, engine)
    engine.dispose()


def test_the_crawl_archives_every_url_of_the_truth(crawled: Crawled) -> None:
    assert (crawled.summary.status, crawled.summary.errors) == ("ok", 0)
    with Session(crawled.engine) as session:
        urls = set(session.scalars(select(Document.url).where(Document.portal == PORTAL)))
    assert urls == {crawled.base + r.url for r in TRUTH.reports_of(PORTAL)}


def test_a_report_at_two_urls_is_one_report_with_both_urls(crawled: Crawled) -> None:
    [copy] = [r for r in TRUTH.reports_of(PORTAL) if r.copy_of]
    first, second = crawled.base + copy.copy_of, crawled.base + copy.url
    with Session(crawled.engine) as session:
        rows = [r for r in list_reports(session, portal=PORTAL, year=copy.year)]
        [row] = [r for r in rows if r.publisher == DEPARTMENT]
        assert (row.url, row.copies) == (first, (second,))
        assert {row.url, *row.copies} == {first, second}
        detail = get_report(session, row.id)
        assert detail is not None and detail.report.copies == (second,)
        # Two reports listed for the year: the government's and the department's (one row).
        assert sorted(r.publisher or "" for r in rows) == sorted([GOVERNMENT, DEPARTMENT])
        assert len(list_reports(session, portal=PORTAL)) == len(TRUTH.reports_of(PORTAL)) - 1


def test_the_government_report_posted_by_its_office_is_the_governments(crawled: Crawled) -> None:
    [truth] = [r for r in TRUTH.reports_of(PORTAL) if r.publisher == GOVERNMENT and r.year == 2023]
    assert truth.title == f"{GOVERNMENT}2023年政府信息公开工作年度报告"
    with Session(crawled.engine) as session:
        doc = session.scalars(
            select(Document).where(Document.url == crawled.base + truth.url)
        ).one()
        publisher = session.get(Publisher, doc.publisher_id)
        assert publisher is not None and publisher.name == GOVERNMENT
        assert (doc.subject, doc.publisher_label) == (GOVERNMENT, OFFICE)
        [row] = [r for r in list_reports(session, portal=PORTAL, year=2023) if r.id == doc.id]
        assert (row.publisher, row.subject, row.posted_by) == (GOVERNMENT, GOVERNMENT, OFFICE)
        registered = set(session.scalars(select(Publisher.name).where(Publisher.portal == PORTAL)))
        assert registered == {GOVERNMENT, DEPARTMENT}  # the office is no publisher of its own
        absent = missing(session, 2023, date(2024, 6, 1), crawled.settings.deadlines)
        assert not [m for m in absent if m.portal == PORTAL]
