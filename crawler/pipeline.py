"""The one item pipeline: every capture goes to the archive writer (crawler.writer), a process of
its own, so that archiving costs the crawl little.

The blob store is written before the rows (archive.captures), so no row ever lacks its bytes, and
a crawl killed at any moment loses at most the captures not yet committed. The spider closes only
once the writer has committed everything and reported what it archived.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import pickle
import subprocess
import sys
from typing import IO, Any

from scrapy.crawler import Crawler

from archive.captures import CaptureIn
from crawler.items import CaptureItem
from crawler.process import die_with_parent

PIPE_BUFFER = 64 * 1024
PIPE_CAPACITY = 1024 * 1024
CLOSE_TIMEOUT = 600.0  # seconds the writer may take to commit what is queued at the end


class ArchiveWriterDied(RuntimeError):
    """The writer process ended before the crawl did: nothing more can be archived."""


class ArchivePipeline:
    """Hands `CaptureItem`s to the writer process, which stores them as capture rows pointing at
    sha256-addressed blobs. The pipe to it is the queue: when the writer falls behind, the crawl
    waits for it, so memory stays bounded."""

    def __init__(self, database_url: str, blob_dir: str, run_id: int, crawler: Crawler) -> None:
        self.run_id, self.crawler = run_id, crawler
        # Started now, so that it has imported the archive by the time the first page comes;
        # killed with the crawl, so that no orphan writes behind a portal lease nobody holds.
        self.writer = subprocess.Popen(
            [sys.executable, "-m", "crawler.writer", database_url, blob_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=die_with_parent(),
            # Captures leave in chunks of this size (one write per chunk, not per page); the
            # writer commits them as they come, the last ones when the pipe closes.
            bufsize=PIPE_BUFFER,
        )
        self.pipe: IO[bytes] = self.writer.stdin  # type: ignore[assignment]
        _widen(self.pipe)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        s = crawler.settings
        return cls(
            s["NIANBAO_DATABASE_URL"], s["NIANBAO_BLOB_DIR"], s.getint("NIANBAO_RUN_ID"), crawler
        )

    def process_item(self, item: Any) -> Any:
        if isinstance(item, CaptureItem):
            try:
                pickle.dump(_capture_in(item, self.run_id), self.pipe, pickle.HIGHEST_PROTOCOL)
            except (BrokenPipeError, ValueError):
                raise ArchiveWriterDied(f"exit code {self.writer.poll()}") from None
        return item

    def close_spider(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.pipe.close()
        assert self.writer.stdout is not None
        out = self.writer.stdout.read()
        self.writer.wait(timeout=CLOSE_TIMEOUT)
        lines = out.decode("utf-8", "replace").strip().splitlines()
        counts: dict[str, int] = json.loads(lines[-1]) if lines else {"nianbao/archive_errors": 1}
        if self.crawler.stats is not None:
            for key, count in counts.items():
                self.crawler.stats.inc_value(key, count)


def _widen(pipe: IO[bytes]) -> None:
    """Give the pipe room for many pages (Linux: 64 KB by default), so that the crawl hands a
    burst of captures over without waiting for the writer to be scheduled."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_CAPACITY)


def _capture_in(item: CaptureItem, run_id: int) -> CaptureIn:
    return CaptureIn(
        portal=item.portal,
        run_id=run_id,
        url=item.url,
        final_url=item.final_url,
        status=item.status,
        headers=list(item.headers),
        body=item.body,
        fetched_at=item.fetched_at,
        kind=item.kind,
        parent_url=item.parent_url,
        content_type=item.content_type,
        outcome=item.outcome,
        detected_type=item.detected_type,
        finding=item.finding,
        listed_title=item.listed_title,
    )
