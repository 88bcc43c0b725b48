"""The one item pipeline: every capture goes to the archive writer (crawler.writer), a process of
its own, so that archiving costs the crawl little.

The blob store is written before the rows (archive.captures), so no row ever lacks its bytes, and
a crawl killed at any moment loses at most the captures not yet committed. The spider closes only
once the writer has committed everything and reported what it archived. When the archive refuses a
write (a full or read-only disk or database) the writer ends at once, and the spider is closed with
the cause in the stat `nianbao/archive_fault`: there is no point fetching what cannot be stored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
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
CLOSE_TIMEOUT = 600.0  # seconds the writer may take to commit what is queued at the end
FAULT_STAT = "nianbao/archive_fault"
HANDED_STAT = "nianbao/handed"  # captures handed to the writer so far: the crawl's live progress
CLOSE_REASON = "archive_write_failed"
WRITER_NICENESS = 10  # where SCHED_IDLE is missing


class ArchivePipeline:
    """Hands `CaptureItem`s to the writer process, which stores them as capture rows pointing at
    sha256-addressed blobs. The pipe to it is the queue: when the writer falls behind, the crawl
    waits for it, so memory stays bounded."""

    def __init__(self, database_url: str, blob_dir: str, run_id: int, crawler: Crawler) -> None:
        self.run_id, self.crawler = run_id, crawler
        # Started now, so that it has imported the archive by the time the first page comes;
        # killed with the crawl, so that no orphan writes behind a portal lease nobody holds.
        self.writer = subprocess.Popen(
            [sys.executable, "-m", "crawler.writer", database_url, blob_dir, str(run_id)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=_writer_preexec(),
            # Captures leave in chunks of this size (one write per chunk, not per page); the
            # writer commits them as they come, the last ones when the pipe closes.
            bufsize=PIPE_BUFFER,
        )
        self.pipe: IO[bytes] = self.writer.stdin  # type: ignore[assignment]
        _widen(self.pipe)
        self.report: dict[str, Any] | None = None  # the writer's last line, once it has ended
        self.closing: Deferred[None] | None = None  # our own close of the spider, once asked
        # A family spider hands its captures straight to `process_item` (spiders.base.keep):
        # Scrapy's item machinery would spend a task, a signal and a log record on each one.
        spider = crawler.spider
        if spider is not None and hasattr(spider, "archive"):
            spider.archive = self.process_item

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        s = crawler.settings
        return cls(
            s["NIANBAO_DATABASE_URL"], s["NIANBAO_BLOB_DIR"], s.getint("NIANBAO_RUN_ID"), crawler
        )

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, CaptureItem) or self.report is not None:
            return item  # after the writer ended: the spider is closing, the item is dropped
        try:
            # A writer that ended (the archive refused a write) is noticed here, before the
            # pipe's buffers have filled with captures nobody will read.
            if self.writer.poll() is None:
                dump_capture(item, self.pipe)  # the writer stamps the run on it
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value(HANDED_STAT)
                return item
        except (BrokenPipeError, ValueError):
            pass
        self._stop()
        return item

    def close_spider(self) -> None:
        self._finish()

    def _stop(self) -> None:
        """The writer ended before the crawl did: take its report and close the spider."""
        self._finish()
        engine = self.crawler.engine
        if engine is not None and self.closing is None:
            self.closing = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
            # Once the close has begun (no new request starts), outside this item's callbacks.
            call_later(0, _drop_queued, engine.downloader)

    def _finish(self) -> None:
        """Close the pipe, wait for the writer and add what it reported to the stats (once)."""
        if self.report is not None:
            return
        with contextlib.suppress(BrokenPipeError):
            self.pipe.close()
        assert self.writer.stdout is not None
        out = self.writer.stdout.read()
        self.writer.wait(timeout=CLOSE_TIMEOUT)
        self.report = _report(out, self.writer.returncode)
        stats = self.crawler.stats
        if stats is not None:
            for key, count in self.report["counts"].items():
                stats.inc_value(key, count)
            if self.report["fault"]:
                stats.set_value(FAULT_STAT, self.report["fault"])


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


def _report(out: bytes, returncode: int | None) -> dict[str, Any]:
    """The writer's last line, `{"counts": {...}, "fault": ...}`; a writer that died without
    one (killed, or a bug) is a fault too: nothing more can be archived."""
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if lines:
        with contextlib.suppress(ValueError):
            report: dict[str, Any] = json.loads(lines[-1])
            return report
    return {
        "counts": {"nianbao/archive_errors": 1},
        "fault": f"archive write failed: the archive writer died (exit code {returncode})",
    }


def _widen(pipe: IO[bytes]) -> None:
    """Give the pipe room for many pages (Linux: 64 KB by default), so that the crawl hands a
    burst of captures over without waiting for the writer to be scheduled."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_CAPACITY)
