"""The real portals as shipped in settings.toml (桐乡 xxgk.tx.gov.cn, 台州 www.zjtz.gov.cn) cannot be
reached from here; the same entries, with only base_url pointed at replicas of the same structure,
crawl every report, through both dataproxy variants and the annual-report module."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from pathlib import Path

from replica_fixtures import replica_process
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import ArchiveConfig
from archive.db import make_engine
from archive.models import Document, Publisher
from crawler.job import CrawlJob
from crawler.process import run_crawl
from nianbao.settings import load_settings
from replica.truth import load_truth

SHIPPED = Path(__file__).resolve().parents[1] / "settings.toml"
TRUTH = load_truth()


def test_the_shipped_entries_crawl_a_replica_of_the_same_portals(tmp_path: Path) -> None:
    shipped = load_settings(SHIPPED)
    assert {p.id: p.base_url for p in shipped.portals} == {
        "tongxiang": "http://xxgk.tx.gov.cn",
        "taizhou": "https://www.zjtz.gov.cn",
    }
    archive = ArchiveConfig(f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "blobs")
    loopback = dataclasses.replace(shipped.crawler, download_delay=0)  # politeness is per host
    with replica_process() as urls:
        summaries = [
            run_crawl(
                CrawlJob(
                    dataclasses.replace(portal, base_url=urls[portal.id]),
                    loopback,
                    archive,
                    shipped.publishers,
                    "manual",
                )
            )
            for portal in shipped.portals
        ]
        with urllib.request.urlopen(urls["tongxiang"] + "/__replica__/stats") as answer:
            tongxiang = json.loads(answer.read())
        with urllib.request.urlopen(urls["taizhou"] + "/__replica__/stats") as answer:
            taizhou = json.loads(answer.read())
    assert [s.status for s in summaries] == ["ok", "ok"], summaries
    # 桐乡 pages its column through the newer GET jpage, 台州 through the older POST ranges.
    pages = sorted(int(p.split("page=")[1].split("&")[0]) for p in tongxiang if "jpage/" in p)
    assert pages == list(range(1, len(pages) + 1)) and len(pages) >= 5
    calls = [p for p, methods in taizhou.items() if "startrecord=" in p and "POST" in methods]
    assert len(calls) >= 2
    engine = make_engine(archive.database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Document.url, Document.report_year, Publisher.name).join(
                Publisher, Document.publisher_id == Publisher.id, isouter=True
            )
        ).all()
    engine.dispose()
    expected = {(urls[r.portal] + r.url, r.year, r.registry_publisher) for r in TRUTH.reports}
    assert set(rows) == expected
