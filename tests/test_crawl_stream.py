"""A queue worker's crawl process (crawler.process.CrawlStream): one process, started once, crawls
the portals handed to it as they come, side by side; one that dies ends its portals as errors and
the next portal gets a new process. Real processes against the national replica over loopback
(replica/national.py, each answer after 50-60 ms, so that a portal's crawl lasts seconds)."""

from __future__ import annotations

import os
import signal
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from replica_fixtures import national_process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import make_engine, upgrade
from archive.models import Capture, CrawlRun
from crawler.job import CrawlJob, PortalResult
from crawler.lease import crawl_lease
from crawler.process import CrawlStream
from nianbao.settings import Settings, parse_settings
from ops.leases import ORPHAN_FINDING
from replica import national, settings_for

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with national_process(3, (0.05, 0.06)) as found:
        yield found


def fleet(urls: dict[str, str], tmp_path: Path) -> Settings:
    national.register(len(urls))
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    text = settings_for(urls, database_url, str(tmp_path / "blobs"))
    engine = make_engine(database_url)
    upgrade(engine)  # as `nianbao worker` does before it takes a portal
    engine.dispose()
    return parse_settings(tomllib.loads(text), tmp_path / "settings.toml")


def job(settings: Settings, portal: str) -> CrawlJob:
    return CrawlJob(
        settings.portal(portal), settings.crawler, settings.archive, settings.publishers, "nightly"
    )


def leased_crawl(stream: CrawlStream, one: CrawlJob, results: dict[str, PortalResult]) -> None:
    """What a queue worker's thread does: hold the lease, hand the portal over, wait."""
    with crawl_lease(one):
        results[one.portal.id] = stream.crawl(one, timeout=240)


def crawl_processes() -> list[int]:
    """This process's children that are crawl processes, now."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"crawler.worker" in argv:
                found.append(int(child))
    return found


def runs_of(settings: Settings) -> dict[str, list[CrawlRun]]:
    engine = make_engine(settings.archive.database_url)
    with Session(engine) as session:
        found: dict[str, list[CrawlRun]] = {}
        for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id)):
            found.setdefault(run.portal, []).append(run)
    engine.dispose()
    return found


def captures_of_running(settings: Settings, portal: str) -> int:
    engine = make_engine(settings.archive.database_url)
    with Session(engine) as session:
        count = session.scalar(
            select(func.count(Capture.id))
            .join(CrawlRun, CrawlRun.id == Capture.run_id)
            .where(CrawlRun.portal == portal, CrawlRun.status == "running")
        )
    engine.dispose()
    return int(count or 0)


def test_one_process_crawls_the_portals_handed_to_it_side_by_side(
    urls: dict[str, str], tmp_path: Path
) -> None:
    settings = fleet(urls, tmp_path)
    stream = CrawlStream(tmp_path / "logs")
    results: dict[str, PortalResult] = {}
    try:
        first = threading.Thread(
            target=leased_crawl, args=(stream, job(settings, "n0000"), results)
        )
        first.start()
        # The second portal is handed over while the first is under way, as a queue would.
        deadline = time.monotonic() + 120
        while not captures_of_running(settings, "n0000") and time.monotonic() < deadline:
            time.sleep(0.05)
        (started,) = crawl_processes()
        leased_crawl(stream, job(settings, "n0001"), results)
        first.join(timeout=240)
        # A third, after both ended: the same process, still alive between portals.
        leased_crawl(stream, job(settings, "n0002"), results)
        assert crawl_processes() == [started]
    finally:
        stream.close()
    assert crawl_processes() == []
    for portal, result in results.items():
        assert result.summary is not None and result.summary.status == "ok", result
        assert result.summary.pages > 60, (portal, result.summary.pages)
    runs = runs_of(settings)
    (a,), (b,), _ = runs["n0000"], runs["n0001"], runs["n0002"]
    assert a.finished_at and b.finished_at
    assert b.started_at < a.finished_at  # side by side, not one after the other
    assert len(list((tmp_path / "logs").glob("crawls-*.log"))) == 1


def test_a_crawl_process_that_dies_fails_its_portal_and_the_next_gets_a_new_one(
    urls: dict[str, str], tmp_path: Path
) -> None:
    settings = fleet(urls, tmp_path)
    stream = CrawlStream(tmp_path / "logs")
    results: dict[str, PortalResult] = {}
    try:
        crawling = threading.Thread(
            target=leased_crawl, args=(stream, job(settings, "n0000"), results)
        )
        crawling.start()
        deadline = time.monotonic() + 120
        while captures_of_running(settings, "n0000") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        (victim,) = crawl_processes()
        os.kill(victim, signal.SIGKILL)
        crawling.join(timeout=120)
        assert not crawling.is_alive()
        leased_crawl(stream, job(settings, "n0001"), results)
        (replacement,) = crawl_processes()
        assert replacement != victim
    finally:
        stream.close()
    died = results["n0000"]
    assert died.summary is None and died.error is not None
    assert died.error.startswith("crawl of n0000 exited -9"), died.error
    after = results["n0001"].summary
    assert after is not None and after.status == "ok" and after.pages > 60
    # The dead crawl's run is closed as failed when its lease is given back; nothing is lost.
    (cut,) = runs_of(settings)["n0000"]
    assert cut.status == "failed" and cut.finding == ORPHAN_FINDING
    assert len(list((tmp_path / "logs").glob("crawls-*.log"))) == 2
