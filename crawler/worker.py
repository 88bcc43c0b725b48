"""`python -m crawler.worker`: run ONE crawl in this process, then index it and close its run.

Scrapy's Twisted reactor cannot be restarted inside a process, so every crawl gets its own
process (Scrapyd does the same); the job arrives as JSON on stdin and the summary leaves as one
JSON line on stdout.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from archive.blobs import BlobStore
from archive.db import make_engine, session_scope, upgrade
from archive.indexing import index_captures
from archive.models import CrawlRun
from archive.registry import sync_publishers
from archive.runs import finish_run, start_run
from crawler.job import CrawlJob, RunSummary
from crawler.settings import scrapy_settings
from crawler.spiders import SPIDERS


def run_job(job: CrawlJob) -> RunSummary:
    """Open a run row, crawl, index what was captured, and record how the run ended."""
    engine = make_engine(job.archive.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        run_id = start_run(session, job.portal.id, job.kind).id
    stats, failures = _crawl(job, run_id)
    with session_scope(engine) as session:
        sync_publishers(session, job.publishers)
        indexed = index_captures(session, BlobStore(job.archive.blob_dir), run_id=run_id)
    status, finding = judge(job, stats, failures)
    errors = sum(int(stats.get(k, 0)) for k in ("nianbao/errors", "nianbao/http_errors")) + len(
        failures
    )
    with session_scope(engine) as session:
        finish_run(
            session,
            session.get_one(CrawlRun, run_id),
            status=status,
            pages=int(stats.get("nianbao/captures", 0)),
            new_reports=indexed.new_reports,
            new_versions=indexed.new_versions,
            blocked=0,
            errors=errors,
            finding=finding,
        )
    engine.dispose()
    return RunSummary(
        run_id,
        job.portal.id,
        job.kind,
        status,
        int(stats.get("nianbao/captures", 0)),
        indexed.new_reports,
        indexed.new_versions,
        errors,
        finding,
    )


def judge(job: CrawlJob, stats: dict[str, Any], failures: list[str]) -> tuple[str, str | None]:
    """A crawl that archived nothing, or whose 年报 listing yielded no records, has failed."""
    if not stats.get("nianbao/captures"):
        return "failed", "the crawl archived nothing: the portal may be down or its layout changed"
    if failures:
        return "failed", failures[0]
    if job.portal.entry_points and not stats.get("nianbao/listing_records"):
        return "failed", "layout may have changed: the 年报 listing yielded no records"
    return "ok", None


def _crawl(job: CrawlJob, run_id: int) -> tuple[dict[str, Any], list[str]]:
    process = CrawlerProcess(scrapy_settings(job, run_id), install_root_handler=True)
    crawler = process.create_crawler(SPIDERS[job.portal.family])
    failures: list[str] = []

    def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
        failures.append(str(failure.value))

    crawler.signals.connect(on_spider_error, signal=signals.spider_error)
    process.crawl(crawler, portal=job.portal)
    process.start()
    return dict(crawler.stats.get_stats() if crawler.stats else {}), failures


def main() -> None:
    job = CrawlJob.from_json(sys.stdin.read())
    logging.getLogger("scrapy").setLevel(logging.INFO)
    print(run_job(job).to_json(), flush=True)


if __name__ == "__main__":
    main()
