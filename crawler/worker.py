"""`python -m crawler.worker`: crawl a batch of portals in this process, several at once.

The jobs arrive on stdin (crawler.job.write_jobs: a job per line), each crawled as soon as its line
has come, until stdin closes; each portal's outcome leaves as one JSON line on stdout as soon as it
is known (crawler.job.PortalResult), so that the parent streams them; while portals crawl, a line
every second says the pages they have crawled so far (crawler.job.PortalProgress). Scrapy's
reactor cannot restart inside a process, so a process runs one reactor and every portal of its
batch as a crawler in it (crawler.batch); the parent runs several such processes
(crawler.process.run_batch), or one for as long as it lives (crawler.process.CrawlStream, a queue
worker's). The steps of one portal around its crawl are here: open its
run, then index what it captured, judge it and close its run. When the archive cannot be written
(a full or read-only disk or database) the portal's line names the cause as an `error`, after its
run is recorded failed with that cause when the database still takes it; the worker then exits 1
with the cause as the last line of its stderr.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from archive.batches import index_in_batches
from archive.blobs import BlobStore
from archive.captures import LastFetch, last_fetches
from archive.clock import log_in_shanghai
from archive.db import session_scope
from archive.errors import write_failure
from archive.indexing import IndexStats
from archive.models import CrawlRun
from archive.registry import sync_publishers
from archive.runs import finish_run, previous_run, start_run
from crawler.job import CrawlJob, PortalProgress, PortalResult, RunSummary, iter_jobs
from crawler.pipeline import FAULT_STAT
from crawler.spiders.hanweb import is_module_page

GC_THRESHOLDS = (10_000, 50, 100)
TIMED_OUT_STAT = "nianbao/timed_out"  # the portal timeout (s) that stopped the crawl
STOPPED_STAT = "nianbao/stopped"  # the crawl process was told to stop (SIGTERM, Ctrl-C)


@dataclass(frozen=True)
class Opened:
    """A run just opened: its id, the portal's archived pages, and the last run of its kind."""

    run_id: int
    known: Mapping[str, LastFetch]
    previous: tuple[int, int] | None


def open_run(job: CrawlJob, engine: Engine) -> Opened:
    """Open the portal's run row and read what an incremental crawl needs."""
    with session_scope(engine) as session:
        run_id = start_run(session, job.portal.id, job.kind).id
        known = last_fetches(session, job.portal.id)
        before = previous_run(session, job.portal.id, job.kind, run_id)
        previous = (before.id, before.listing_records) if before else None
    return Opened(run_id, known, previous)


def close_run(
    job: CrawlJob,
    engine: Engine,
    opened: Opened,
    stats: dict[str, Any],
    failures: list[str],
    *,
    sync_registry: bool = True,
) -> tuple[RunSummary, str | None]:
    """Index what the portal has unindexed, judge the run and record how it ended; returns the
    summary and the archive's refusal, if one stopped the crawl. `sync_registry` False: this
    process has synced the job's publisher registry already (crawler.batch: once, not once a
    portal, since comparing the whole registry costs more the more portals it holds)."""
    indexed = _index(job, engine, stats, sync_registry)
    status, finding = judge(job, stats, failures, opened.previous)
    count = _counter(stats)
    summary = RunSummary(
        run_id=opened.run_id,
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
            session.get_one(CrawlRun, opened.run_id),
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


def refused_blobs(job: CrawlJob) -> str | None:
    """Why the blob store cannot take a page now (read-only, full), or None."""
    try:
        BlobStore(job.archive.blob_dir).check_writable()
    except OSError as exc:
        refused = write_failure(exc)
        if refused is None:
            raise
        return str(refused)
    return None


def _index(
    job: CrawlJob, engine: Engine, stats: dict[str, Any], sync_registry: bool = True
) -> IndexStats:
    """Index what the portal has unindexed; when the database refuses that, the refusal goes
    into `stats` and indexing is left to the next crawl (the run row may still fit)."""
    try:
        if sync_registry:
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
    """How the run ended. It failed when its crawl was stopped (the portal timeout, or the
    process told to stop); when the portal answered nothing; when its 年报 listing did not
    answer, answered with a challenge, or yielded no records (all the more telling where the last
    run of the same kind, `previous` = (run id, records), found some); when most report pages were
    blocked; or when a selector found the layout changed."""
    count = _counter(stats)
    if stats.get(FAULT_STAT):
        return "failed", str(stats[FAULT_STAT])
    if stats.get(TIMED_OUT_STAT):
        return "failed", (
            f"timed out: the crawl was stopped after {stats[TIMED_OUT_STAT]:g} s "
            f"(portal_timeout_minutes), {count('captures')} pages archived"
        )
    if stats.get(STOPPED_STAT):
        return "failed", f"interrupted: {stats[STOPPED_STAT]}"
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.worker")
    parser.add_argument(
        "--leased", action="store_true", help="the parent holds the portals' leases"
    )
    args = parser.parse_args()
    # A line at a time: the parent may send portals for as long as the process lives (a queue
    # worker's CrawlStream) or all at once and close (run_batch).
    jobs = iter_jobs(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8"))
    logging.getLogger("scrapy").setLevel(logging.INFO)
    log_in_shanghai()  # Scrapy's handlers print LOG_DATEFORMAT (crawler.settings) with it
    from crawler.batch import run_portals  # the reactor is installed there, on import

    errors: list[str] = []

    def emit(result: PortalResult) -> None:
        if result.error is not None:
            errors.append(result.error)
        print(result.to_json(), flush=True)

    def tell(progress: PortalProgress) -> None:
        print(progress.to_json(), flush=True)

    run_portals(jobs, emit, lease=not args.leased, on_progress=tell)
    if errors:
        # The last line of stderr is what `run_crawl` reports: one line, the cause.
        print(errors[-1], file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
