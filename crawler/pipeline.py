"""The one item pipeline: every capture goes to the archive writer (crawler.writer), a process of
its own, so that archiving costs the crawl little. One writer serves every portal of a crawl
process (`ArchiveWriter`, started by crawler.batch): a process each would cost ~60 MB a portal.

The blob store is written before the rows (archive.captures), so no row ever lacks its bytes, and
a crawl killed at any moment loses at most the captures not yet committed. A portal's spider
closes only once the writer has committed everything the portal sent and said what it archived
for the portal's run. When the archive refuses a write (a full or read-only disk or database) the
writer ends at once, and every spider it served is closed with the cause in the stat
`nianbao/archive_fault`: there is no point fetching what cannot be stored. A writer that dies is
the same fault, named so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from archive.captures import dump_capture
from crawler.items import CaptureItem
from crawler.process import die_with_parent

PIPE_BUFFER = 64 * 1024
PIPE_CAPACITY = 1024 * 1024
CLOSE_TIMEOUT = 600.0  # seconds the writer may take to commit a run's captures at its end
FAULT_STAT = "nianbao/archive_fault"
HANDED_STAT = "nianbao/handed"  # captures handed to the writer so far: the crawl's live progress
CLOSE_REASON = "archive_write_failed"
WRITER_NICENESS = 10  # where SCHED_IDLE is missing
log = logging.getLogger(__name__)

Report = dict[str, Any]  # {"counts": {stat: n}, "fault": str | None}


class ArchiveWriter:
    """One `python -m crawler.writer` process, shared by the runs of a crawl process: `send`
    hands it a capture, `finish` asks for a run's counts once its captures are committed.

    The pipe to it is the queue: when the writer falls behind, the crawl waits for it, so memory
    stays bounded. Written to from the reactor's thread only; its answers are read by a thread
    of its own and handed to the reactor."""

    def __init__(self, database_url: str, blob_dir: str) -> None:
        # Killed with the crawl, so that no orphan writes behind a portal lease nobody holds.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.writer", database_url, blob_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=_writer_preexec(),
            # Captures leave in chunks of this size (one write per chunk, not per page); the
            # writer commits them as they come, a run's last ones when it is finished.
            bufsize=PIPE_BUFFER,
        )
        self.pipe: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        _widen(self.pipe)
        self.ended: Report | None = None  # its last word, once it has ended
        self.waiting: dict[int, Deferred[Report]] = {}
        self.lock = threading.Lock()  # `ended` and `waiting`, between the reader and reactor
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.ended is None

    def send(self, capture: CaptureItem, run_id: int) -> bool:
        """Hand `capture` over for `run_id`; False when the writer has ended (or the pipe broke)."""
        if self.ended is not None:
            return False
        if capture.run_id is None:
            capture = dataclasses.replace(capture, run_id=run_id)
        try:
            dump_capture(capture, self.pipe)
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def finish(self, run_id: int) -> Deferred[Report]:
        """What was archived for `run_id`, once everything it sent is committed; a fault when
        the writer ended first, or took past CLOSE_TIMEOUT."""
        reactor = _reactor()
        done: Deferred[Report] = Deferred()
        with self.lock:
            ended = self.ended
            if ended is None:
                self.waiting[run_id] = done
        if ended is not None:
            done.callback({"counts": {}, "fault": ended["fault"]})
            return done
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self.pipe.write(f"end {run_id}\n".encode())
            self.pipe.flush()  # now: the captures in the buffer and the end behind them
        late = {
            "counts": {"nianbao/archive_errors": 1},
            "fault": f"archive write failed: the archive writer did not commit the run's "
            f"captures within {CLOSE_TIMEOUT:g} s",
        }
        timer = reactor.callLater(CLOSE_TIMEOUT, self._answer, run_id, late)

        def answered(report: Report) -> Report:
            if timer.active():
                timer.cancel()
            return report

        done.addCallback(answered)
        return done

    def close(self) -> None:
        """End the writer (it commits what is queued) and wait for it; the reactor has stopped."""
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self.pipe.close()
        try:
            self.proc.wait(timeout=CLOSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _read(self) -> None:
        """Its answers, as they come; at the end of its stdout, its last word (or that it died)
        fails every run still waiting."""
        reactor = _reactor()
        assert self.proc.stdout is not None
        last: Report | None = None
        for line in self.proc.stdout:
            try:
                said: Report = json.loads(line)
            except ValueError:
                continue
            if "run" in said:
                answer = {"counts": said["counts"], "fault": None}
                reactor.callFromThread(self._answer, int(said["run"]), answer)
            else:
                last = said
        code = self.proc.wait()
        ended = last if last is not None and last.get("fault") else None
        if ended is None:
            ended = {
                "counts": {"nianbao/archive_errors": 1},
                "fault": f"archive write failed: the archive writer died (exit code {code})",
            }
        with self.lock:
            self.ended = ended
            waiting = list(self.waiting)
        if waiting:
            log.error("%s; runs left without their captures: %s", ended["fault"], waiting)
        for run_id in waiting:
            reactor.callFromThread(self._answer, run_id, ended)

    def _answer(self, run_id: int, report: Report) -> None:
        with self.lock:
            done = self.waiting.pop(run_id, None)
        if done is not None:
            done.callback(report)


class ArchivePipeline:
    """Hands a portal's `CaptureItem`s to its crawl process's `ArchiveWriter` (set on the crawler
    as `nianbao_writer` by crawler.batch), for its run; at the close, adds what the writer
    archived for the run to the crawl's stats."""

    def __init__(self, writer: ArchiveWriter, run_id: int, crawler: Crawler) -> None:
        self.writer, self.run_id, self.crawler = writer, run_id, crawler
        self.report: Report | None = None  # what the writer said of the run, once it has
        self.closing: Deferred[None] | None = None  # our own close of the spider, once asked
        # A family spider hands its captures straight to `process_item` (spiders.base.keep):
        # Scrapy's item machinery would spend a task, a signal and a log record on each one.
        spider = crawler.spider
        if spider is not None and hasattr(spider, "archive"):
            spider.archive = self.process_item

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        writer = getattr(crawler, "nianbao_writer", None)
        if not isinstance(writer, ArchiveWriter):
            raise RuntimeError("the archive pipeline needs the writer of its crawl batch")
        return cls(writer, crawler.settings.getint("NIANBAO_RUN_ID"), crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, CaptureItem) or self.closing is not None:
            return item  # after the writer ended: the spider is closing, the item is dropped
        # A writer that ended (the archive refused a write) is noticed here, before the
        # pipe's buffers have filled with captures nobody will read.
        if not self.writer.send(item, self.run_id):
            self._stop()
        elif self.crawler.stats is not None:
            self.crawler.stats.inc_value(HANDED_STAT)
        return item

    def close_spider(self) -> Deferred[None]:
        """Waits, without blocking the other portals' crawls, for the writer to commit this
        run's captures and say what it archived."""
        return self.writer.finish(self.run_id).addCallback(self._count)

    def _stop(self) -> None:
        """The writer ended before the crawl did: close the spider."""
        engine = self.crawler.engine
        if engine is not None and self.closing is None:
            self.closing = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
            # Once the close has begun (no new request starts), outside this item's callbacks.
            call_later(0, _drop_queued, engine.downloader)

    def _count(self, report: Report) -> None:
        """Add what the writer reported to the stats (once)."""
        if self.report is not None:
            return
        self.report = report
        stats = self.crawler.stats
        if stats is not None:
            for key, count in report["counts"].items():
                stats.inc_value(key, count)
            if report["fault"]:
                stats.set_value(FAULT_STAT, report["fault"])


def _reactor() -> Any:
    """The installed reactor (imported late: importing it installs the default one)."""
    from twisted.internet import reactor

    return reactor


def _writer_preexec() -> Callable[[], None]:
    """The writer's `preexec_fn`: killed with the crawl, and in the background from its first
    instruction, its imports included: it runs only on CPU time nothing else wants (Linux
    SCHED_IDLE; elsewhere a high nice value), so the crawl and the portal's answers come first
    and the pipe absorbs the bursts."""
    dying = die_with_parent()

    def preexec() -> None:
        if dying is not None:
            dying()
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):
            os.nice(WRITER_NICENESS)

    return preexec


def _drop_queued(downloader: Any) -> None:
    """Fail the requests waiting in the downloader's per-host queues. Closing the spider starts
    no new ones, but Scrapy would still fetch these (up to CONCURRENT_REQUESTS, one a download
    delay) though nothing they bring can be stored."""
    for slot in list(getattr(downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        while queue:
            _request, waiting = queue.popleft()
            waiting.errback(IgnoreRequest("not fetched: the archive refused a write"))


def _widen(pipe: IO[bytes]) -> None:
    """Give the pipe room for many pages (Linux: 64 KB by default), so that the crawl hands a
    burst of captures over without waiting for the writer to be scheduled."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_CAPACITY)
