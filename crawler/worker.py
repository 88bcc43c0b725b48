"""`python -m crawler.worker`: run ONE crawl in this process, then index it and close its run.

Scrapy's Twisted reactor cannot be restarted inside a process, so every crawl gets its own
process (Scrapyd does the same); the job arrives as JSON on stdin and the summary leaves as one
JSON line on stdout. When the archive cannot be written (a full or read-only disk or database) the
worker instead exits 1 with the cause as the last line of its stderr, after recording the run as
failed with that cause when the database still takes it.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from sqlalchemy import Engine

from archive.batches import index_in_batches
from archive.blobs import BlobStore
from archive.captures import ArchiveWriteFailed, LastFetch, last_fetches, write_failure
from archive.db import ArchiveUnavailable, make_engine, session_scope, upgrade
from archive.indexing import IndexStats
from archive.models import CrawlRun
from archive.registry import sync_publishers
from archive.runs import finish_run, previous_run, start_run
from crawler.job import CrawlJob, RunSummary
from crawler.pipeline import FAULT_STAT
from crawler.settings import scrapy_settings
from crawler.spiders import SPIDERS
from crawler.spiders.hanweb import is_module_page

GC_THRESHOLDS = (10_000, 50, 100)


def run_job(job: CrawlJob) -> RunSummary:
    """Open a run row, crawl, index what was captured, and record how the run ended.

    `ArchiveWriteFailed` when the archive refused a write: the crawl stopped there, and the run
    is recorded as failed with the cause (unless the database itself refused that too)."""
    engine = make_engine(job.archive.database_url)
    try:
        summary, fault = _run(job, engine)
    except Exception as exc:
        refused = write_failure(exc, job.archive.database_url)
        if refused is None:
            raise
        raise refused from exc
    finally:
        engine.dispose()
    if fault:
        raise ArchiveWriteFailed(fault)
    return summary


def _run(job: CrawlJob, engine: Engine) -> tuple[RunSummary, str | None]:
    upgrade(engine)
    with session_scope(engine) as session:
        run_id = start_run(session, job.portal.id, job.kind).id
        known = last_fetches(session, job.portal.id)
        before = previous_run(session, job.portal.id, job.kind, run_id)
        previous = (before.id, before.listing_records) if before else None
    refused = _refused_blobs(job)
    stats: dict[str, Any] = {FAULT_STAT: refused}
    failures: list[str] = []
    if refused is None:  # else nothing is fetched: there would be no room for it
        stats, failures = _crawl(job, run_id, known)
    indexed = _index(job, engine, stats)
    status, finding = judge(job, stats, failures, previous)
    count = _counter(stats)
    summary = RunSummary(
        run_id=run_id,
        portal=job.portal.id,
        kind=job.kind,
        status=status,
        pages=count("captures"),
        new_reports=indexed.new_reports,
        new_versions=indexed.new_versions,
        errors=count("outcome/error") + count("archive_errors") + len(failures),
        finding=finding,
        blocked=count("outcome/blocked"),
        gone=count("outcome/gone"),
        not_modified=count("outcome/not_modified"),
    )
    with session_scope(engine) as session:
        finish_run(
            session,
            session.get_one(CrawlRun, run_id),
            status=status,
            pages=summary.pages,
            new_reports=summary.new_reports,
            new_versions=summary.new_versions,
            blocked=summary.blocked,
            errors=summary.errors,
            finding=finding,
            gone=summary.gone,
            not_modified=summary.not_modified,
            listing_records=count("listing_records"),
        )
    return summary, stats.get(FAULT_STAT)


def _refused_blobs(job: CrawlJob) -> str | None:
    """Why the blob store cannot take a page now (read-only, full), or None."""
    try:
        BlobStore(job.archive.blob_dir).check_writable()
    except OSError as exc:
        refused = write_failure(exc)
        if refused is None:
            raise
        return str(refused)
    return None


def _index(job: CrawlJob, engine: Engine, stats: dict[str, Any]) -> IndexStats:
    """Index what the portal has unindexed; when the database refuses that, the refusal goes
    into `stats` and indexing is left to the next crawl (the run row may still fit)."""
    try:
        with session_scope(engine) as session:
            sync_publishers(session, job.publishers)
        # Everything of the portal still unindexed, not only this run's: a crawl killed
        # before it indexed leaves captures no later crawl fetches again (unchanged). In short
        # committed batches, so that other writers are not locked out for the whole pass.
        return index_in_batches(engine, BlobStore(job.archive.blob_dir), portal=job.portal.id)
    except Exception as exc:
        refused = write_failure(exc, job.archive.database_url)
        if refused is None:
            raise
        stats.setdefault(FAULT_STAT, str(refused))
        return IndexStats()


def judge(
    job: CrawlJob,
    stats: dict[str, Any],
    failures: list[str],
    previous: tuple[int, int] | None = None,
) -> tuple[str, str | None]:
    """How the run ended. It failed when the portal answered nothing; when its 年报 listing did not
    answer, answered with a challenge, or yielded no records (all the more telling where the last
    run of the same kind, `previous` = (run id, records), found some); when most report pages were
    blocked; or when a selector found the layout changed."""
    count = _counter(stats)
    if stats.get(FAULT_STAT):
        return "failed", str(stats[FAULT_STAT])
    if not count("captures") - count("unanswered"):
        if count("unanswered"):
            return "failed", f"the portal did not answer ({count('unanswered')} requests failed)"
        return "failed", "the crawl archived nothing: the portal may be down or its layout changed"
    if listings(job) and not count("listing_records"):
        if count("listing_blocked"):
            return "failed", "blocked: the 年报 listing answered with an anti-bot challenge"
        if count("listing_unanswered"):
            return "failed", "the 年报 listing did not answer"
        since = ""
        if previous is not None and previous[1] > 0:
            since = f", where the last {job.kind} run (#{previous[0]}) found {previous[1]}"
        return "failed", f"layout may have changed: the 年报 listing yielded no records{since}"
    pages = sum(count(f"captures/{kind}") for kind in ("article", "module"))
    if count("outcome/blocked") * 2 > pages:
        return "failed", f"blocked: {count('outcome/blocked')} pages answered with a challenge"
    if failures:
        return "failed", failures[0]
    return "ok", None


def listings(job: CrawlJob) -> list[str]:
    """The entry points that are listings: a Hanweb annual-report module page is one report."""
    portal = job.portal
    return [p for p in portal.entry_points if portal.family != "hanweb" or not is_module_page(p)]


def _counter(stats: Mapping[str, Any]) -> Callable[[str], int]:
    def count(key: str) -> int:
        return int(stats.get(f"nianbao/{key}", 0))

    return count


def _crawl(
    job: CrawlJob, run_id: int, known: Mapping[str, LastFetch]
) -> tuple[dict[str, Any], list[str]]:
    process = CrawlerProcess(scrapy_settings(job, run_id), install_root_handler=True)
    crawler = process.create_crawler(SPIDERS[job.portal.family])
    failures: list[str] = []

    def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
        failures.append(str(failure.value))

    crawler.signals.connect(on_spider_error, signal=signals.spider_error)
    overlap = job.crawler.overlap if job.portal.overlap is None else job.portal.overlap
    process.crawl(
        crawler, portal=job.portal, known=known, full=job.pages_everything, overlap=overlap
    )
    # Everything built so far (modules, settings, the known pages) lives as long as the process:
    # frozen out of the collector's sight, and collections made rarer, the garbage collector
    # stops walking thousands of queued requests every few hundred allocations.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    process.start()
    return dict(crawler.stats.get_stats() if crawler.stats else {}), failures


def main() -> None:
    job = CrawlJob.from_json(sys.stdin.read())
    logging.getLogger("scrapy").setLevel(logging.INFO)
    try:
        summary = run_job(job)
    except (ArchiveWriteFailed, ArchiveUnavailable) as exc:
        # The last line of stderr is what `run_crawl` reports: one line, the cause.
        print(str(exc), file=sys.stderr, flush=True)
        sys.exit(1)
    print(summary.to_json(), flush=True)


if __name__ == "__main__":
    main()
