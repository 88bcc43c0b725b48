"""Many portals in one crawl process: each a Scrapy crawler of its own in one reactor, a bounded
number at once (`[crawler] portals_per_process`), the next one started as one finishes.

Each portal keeps what a crawl of its own had: its lease (ops.leases; unless the parent holds
it), its run row, its incremental state and its failure judgement (crawler.worker); the archive
writer process is the process's, one for all its portals (crawler.pipeline.ArchiveWriter).
Politeness is per host as before: every crawler has its own download slots. One portal failing
never stops the others: an exception ends its own run only, a writer that dies fails the runs it
served (the portals after them get a new one), and a portal past `portal_timeout_minutes` has its
crawler closed, the downloads it has in flight cancelled (a server that accepts and never answers
would otherwise hold it for DOWNLOAD_TIMEOUT and its retries), and its run recorded failed with
the cause. The blocking steps (leases, run rows, indexing) run in the
reactor's thread pool, indexing one portal at a time (it is CPU work: more threads would only take
the GIL from the crawls).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable, Coroutine, Iterable
from contextlib import AbstractContextManager
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.reactor import install_reactor
from sqlalchemy import Engine
from twisted.internet.defer import Deferred

from archive.clock import LOG_DATEFORMAT
from archive.db import ArchiveUnavailable, make_engine, upgrade
from archive.errors import write_failure
from crawler.downloader import OneAtATimeDownloader
from crawler.job import CrawlJob, PortalProgress, PortalResult, RunSummary
from crawler.lease import crawl_lease
from crawler.pipeline import FAULT_STAT, HANDED_STAT, ArchivePipeline, ArchiveWriter
from crawler.settings import scrapy_settings
from crawler.spiders import SPIDERS
from crawler.worker import (
    GC_THRESHOLDS,
    STOPPED_STAT,
    TIMED_OUT_STAT,
    Opened,
    close_run,
    open_run,
    refused_blobs,
)
from ops.leases import LeaseHeld

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
STOP_GRACE = 60.0  # seconds a stopped crawler may take to close before it is left behind
PROCESS_SETTINGS = {
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": False,
    "LOG_DATEFORMAT": LOG_DATEFORMAT,
}
CANCELLED = "not fetched: the portal's crawl was stopped"
PROGRESS_SECONDS = 1.0  # how often the running portals' page counts are told
log = logging.getLogger(__name__)


class StoppableDownloader(OneAtATimeDownloader):
    """The one-at-a-time downloader, whose downloads in flight can be cancelled (`cancel_all`)
    when its crawl is stopped; after that every request fails at once with `IgnoreRequest`."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.in_flight: set[asyncio.Future[Response]] = set()
        self.cancelled = False
        plain = self.handlers.download_request_async

        async def download(request: Request) -> Response:
            if self.cancelled:
                raise IgnoreRequest(CANCELLED)
            task = asyncio.ensure_future(plain(request))
            self.in_flight.add(task)
            try:
                return await task
            except asyncio.CancelledError:
                if not self.cancelled or not task.cancelled():
                    raise
                # Scrapy's downloader catches Exception only: a CancelledError would leave the
                # request in flight forever, and the closing engine waiting for it.
                raise IgnoreRequest(CANCELLED) from None
            finally:
                self.in_flight.discard(task)

        self.handlers.download_request_async = download  # type: ignore[method-assign]

    def cancel_all(self) -> None:
        self.cancelled = True
        for task in list(self.in_flight):
            task.cancel()
        for slot in list(self.slots.values()):
            while slot.queue:
                _request, waiting = slot.queue.popleft()
                waiting.errback(IgnoreRequest(CANCELLED))


class ConditionalAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, but a 304 may bring a host's delay back down as a 200 may.

    Scrapy lets no other status lower the delay (small error pages would speed up the crawl of
    a failing site). A nightly crawl's answers are nearly all 304s: one slow moment (the crawl
    process busy, not the host) raised a host's delay for the rest of its crawl, and at 500
    portals a process ~15% of them ended one to two minutes late. The delay never goes below
    download_delay either way."""

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)


# The pipeline crawler.settings names: ArchivePipeline, fed by the batch's shared writer.
BatchArchivePipeline = ArchivePipeline


class Batch:
    """The portals of one process, `at_once` at a time; `emit` gets each portal's result."""

    def __init__(
        self,
        process: CrawlerProcess,
        emit: Callable[[PortalResult], None],
        lease: bool,
        on_progress: Callable[[PortalProgress], None] | None = None,
    ) -> None:
        self.process, self.emit, self.lease = process, emit, lease
        self.on_progress = on_progress
        self.engines: dict[str, Engine] = {}
        self.engines_lock = threading.Lock()
        self.running: dict[str, Crawler] = {}
        self.told: dict[str, int] = {}  # the page counts last told, by portal
        # One archive writer per archive (all portals of a settings file share one), for every
        # portal of the process; one that died is replaced for the portals that start after.
        self.writers: dict[tuple[str, str], ArchiveWriter] = {}
        self.dead_writers: list[ArchiveWriter] = []
        self.synced: set[str] = set()  # the archives whose publisher registry is synced
        self.stopping: str | None = None

    async def run(self, jobs: Iterable[CrawlJob]) -> None:
        """Crawl the jobs as they come, `portals_per_process` (the first job's) at once; done
        when `jobs` has ended and every portal with it. `jobs` is read in a thread of its own:
        it may block, as a long-lived process's stdin does between a queue's portals."""
        from twisted.internet.defer import Deferred, DeferredSemaphore
        from twisted.internet.task import LoopingCall

        reactor = _reactor()
        self.indexing = DeferredSemaphore(1)
        slots: list[DeferredSemaphore] = []  # made with the first job, which says how many
        under_way: set[Deferred[None]] = set()
        ended: list[bool] = []
        done: Deferred[None] = Deferred()

        def settle() -> None:
            if ended and not under_way and not done.called:
                done.callback(None)

        def add(job: CrawlJob) -> None:
            if not slots:
                slots.append(DeferredSemaphore(max(1, job.crawler.portals_per_process)))
            started = slots[0].run(lambda: Deferred.fromCoroutine(self.portal(job)))
            under_way.add(started)

            def over(result: Any) -> None:
                under_way.discard(started)
                if hasattr(result, "getTraceback"):  # self.portal catches all: a bug if here
                    log.error("portal %s broke: %s", job.portal.id, result.getTraceback())
                settle()

            started.addBoth(over)

        def end() -> None:
            ended.append(True)
            settle()

        def feed() -> None:
            try:
                for job in jobs:
                    reactor.callFromThread(add, job)
            except Exception as exc:  # an unreadable line: the portals sent so far still run
                log.error("reading the crawl jobs broke: %s: %s", type(exc).__name__, exc)
            finally:
                reactor.callFromThread(end)

        ticks = LoopingCall(self.tell_progress)
        if self.on_progress is not None:
            ticks.start(PROGRESS_SECONDS, now=False)
        threading.Thread(target=feed, name="crawl-jobs", daemon=True).start()
        try:
            await done
        finally:
            if ticks.running:
                ticks.stop()

    def tell_progress(self) -> None:
        """Tell the pages each running portal has handed to the archive, where they changed."""
        changed: dict[str, int] = {}
        for pid, crawler in list(self.running.items()):
            stats = getattr(crawler, "_stats", None)
            pages = int(stats.get_value(HANDED_STAT, 0)) if stats is not None else 0
            if pages and self.told.get(pid) != pages:  # none yet: nothing to tell
                changed[pid] = self.told[pid] = pages
        if changed and self.on_progress is not None:
            self.on_progress(PortalProgress(changed))

    def stop(self, reason: str) -> None:
        """Stop every crawl under way (their runs recorded failed) and start no other."""
        self.stopping = reason
        for crawler in list(self.running.values()):
            _stop(crawler, STOPPED_STAT, reason)

    async def portal(self, job: CrawlJob) -> None:
        pid = job.portal.id
        try:
            result = await self._leased(job)
        except LeaseHeld as busy:
            result = PortalResult(pid, skipped=str(busy))
        except ArchiveUnavailable as exc:
            result = PortalResult(pid, error=str(exc))
        except Exception as exc:
            refused = write_failure(exc, job.archive.database_url)
            if refused is None:
                log.exception("portal %s: the crawl broke", pid)
            cause = str(refused) if refused else f"the crawl broke: {type(exc).__name__}: {exc}"
            result = PortalResult(pid, error=cause)
        log.info("portal %s done: %s", pid, result.to_json())
        self.emit(result)

    async def _leased(self, job: CrawlJob) -> PortalResult:
        from twisted.internet.threads import deferToThread

        if self.stopping is not None:
            return PortalResult(job.portal.id, skipped=f"not started: {self.stopping}")
        lease: AbstractContextManager[Any] | None = None
        if self.lease:
            lease = crawl_lease(job)
            await deferToThread(lease.__enter__)
        try:
            return await self._run(job)
        finally:
            if lease is not None:
                await deferToThread(lease.__exit__, None, None, None)

    async def _run(self, job: CrawlJob) -> PortalResult:
        from twisted.internet.threads import deferToThread

        engine = await deferToThread(self._engine, job.archive.database_url)
        opened = await deferToThread(open_run, job, engine)
        refused = refused_blobs(job)
        stats: dict[str, Any] = {FAULT_STAT: refused}
        failures: list[str] = []
        if refused is None:  # else nothing is fetched: there would be no room for it
            stats, failures = await self._crawl(job, opened)
        summary, fault = await self.indexing.run(
            deferToThread, self._close, job, engine, opened, stats, failures
        )
        if fault:
            return PortalResult(job.portal.id, error=fault)
        return PortalResult(job.portal.id, summary=summary)

    def _close(
        self,
        job: CrawlJob,
        engine: Engine,
        opened: Opened,
        stats: dict[str, Any],
        failures: list[str],
    ) -> tuple[RunSummary, str | None]:
        """`close_run`, in the thread pool, one portal at a time (`indexing`); the publisher
        registry synced by the first portal of each archive only: every job of a batch carries
        the same registry (crawler.job.read_jobs)."""
        url = job.archive.database_url
        summary, fault = close_run(
            job, engine, opened, stats, failures, sync_registry=url not in self.synced
        )
        if fault is None:
            self.synced.add(url)
        return summary, fault

    def _engine(self, url: str) -> Engine:
        with self.engines_lock:
            if url not in self.engines:
                engine = make_engine(url)
                upgrade(engine)
                self.engines[url] = engine
            return self.engines[url]

    async def _crawl(self, job: CrawlJob, opened: Opened) -> tuple[dict[str, Any], list[str]]:
        reactor = _reactor()

        crawler = Crawler(SPIDERS[job.portal.family], scrapy_settings(job, opened.run_id))
        crawler.nianbao_writer = self._writer(job)  # type: ignore[attr-defined]
        failures: list[str] = []

        def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
            failures.append(str(failure.value))

        crawler.signals.connect(on_spider_error, signal=signals.spider_error)
        overlap = job.crawler.overlap if job.portal.overlap is None else job.portal.overlap
        seconds = job.crawler.portal_timeout_minutes * 60
        timer = reactor.callLater(seconds, _stop, crawler, TIMED_OUT_STAT, seconds)
        self.running[job.portal.id] = crawler
        try:
            done = self.process.crawl(
                crawler, portal=job.portal, known=opened.known, full=job.pages_everything,
                overlap=overlap,
            )  # fmt: skip
            await _until_done_or_abandoned(done, crawler)
        except Exception as exc:
            log.exception("portal %s: the crawl broke", job.portal.id)
            failures.append(f"the crawl broke: {type(exc).__name__}: {exc}")
        finally:
            if timer.active():
                timer.cancel()
            self.running.pop(job.portal.id, None)
            self.told.pop(job.portal.id, None)
        stats = getattr(crawler, "_stats", None)
        return dict(stats.get_stats() if stats is not None else {}), failures

    def _writer(self, job: CrawlJob) -> ArchiveWriter:
        """The process's writer for the job's archive, started with the first portal."""
        key = (job.archive.database_url, str(job.archive.blob_dir))
        writer = self.writers.get(key)
        if writer is None or not writer.alive:
            if writer is not None:
                self.dead_writers.append(writer)
            writer = self.writers[key] = ArchiveWriter(*key)
        return writer

    def close(self) -> None:
        for writer in [*self.writers.values(), *self.dead_writers]:
            writer.close()
        for engine in self.engines.values():
            engine.dispose()


def _stop(crawler: Crawler, stat: str, value: Any) -> None:
    """Close the crawler's spider now: no request starts, those in flight are cancelled."""
    reactor = _reactor()
    stats = getattr(crawler, "_stats", None)
    if stats is not None:
        stats.set_value(stat, value)
    crawler.nianbao_stopped_at = reactor.seconds()  # type: ignore[attr-defined]
    engine = getattr(crawler, "_engine", None)
    if engine is None or engine.spider is None:
        return
    closing = deferred_from_coro(engine.close_spider_async(reason=stat.split("/")[-1]))
    closing.addErrback(lambda failure: log.warning("closing a stopped crawl: %s", failure.value))
    downloader = engine.downloader
    if isinstance(downloader, StoppableDownloader):
        # Once the close has begun (no new request starts), outside the timer's call.
        reactor.callLater(0, downloader.cancel_all)


async def _until_done_or_abandoned(done: Any, crawler: Crawler) -> None:
    """Wait for the crawl; a crawl stopped more than STOP_GRACE ago that still has not closed is
    left behind (its run is closed by the caller all the same)."""
    from twisted.internet.defer import Deferred

    reactor = _reactor()
    finished: Deferred[None] = Deferred()

    def fire(result: Any) -> None:
        if not finished.called:
            finished.callback(None) if not hasattr(result, "raiseException") else finished.errback(
                result
            )

    done.addBoth(fire)

    def check() -> None:
        stopped = getattr(crawler, "nianbao_stopped_at", None)
        if finished.called:
            return
        if stopped is not None and reactor.seconds() - stopped > STOP_GRACE:
            log.error("a stopped crawl did not close within %s s: left behind", STOP_GRACE)
            finished.callback(None)
            return
        reactor.callLater(1.0, check)

    reactor.callLater(1.0, check)
    await finished


def run_portals(
    jobs: Iterable[CrawlJob],
    emit: Callable[[PortalResult], None],
    *,
    lease: bool = True,
    on_progress: Callable[[PortalProgress], None] | None = None,
) -> None:
    """Crawl `jobs` in this process (see the module's docstring); `emit` gets each result as its
    portal ends, `on_progress` the running portals' page counts every PROGRESS_SECONDS. SIGTERM
    or SIGINT stops the crawls under way (recorded failed, `interrupted`); a second one ends the
    process at once."""
    if isinstance(jobs, list) and not jobs:
        return
    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet.defer import Deferred

    # Only what is the process's: the runner merges its settings into every crawler's.
    process = CrawlerProcess(PROCESS_SETTINGS, install_root_handler=True)
    batch = Batch(process, emit, lease, on_progress)
    _on_signals(batch)
    done = Deferred.fromCoroutine(_run(batch, jobs))
    done.addErrback(lambda failure: log.error("the batch broke: %s", failure.getTraceback()))
    done.addBoth(lambda _: process._stop_reactor())
    # Everything built so far (modules, settings) lives as long as the process: frozen out of
    # the collector's sight, and collections made rarer, the garbage collector stops walking
    # thousands of queued requests every few hundred allocations.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        if not done.called:
            process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        batch.close()


def _run(batch: Batch, jobs: Iterable[CrawlJob]) -> Coroutine[Any, Any, None]:
    return batch.run(jobs)


def _reactor() -> Any:
    """The installed reactor (imported late: importing it installs the default one)."""
    from twisted.internet import reactor

    return reactor


def _on_signals(batch: Batch) -> None:
    reactor = _reactor()

    def first(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        reason = f"the crawl process got {signal.Signals(signum).name}"
        reactor.callFromThread(batch.stop, reason)

    signal.signal(signal.SIGTERM, first)
    signal.signal(signal.SIGINT, first)
