"""The archive writer: a process of its own that turns captures into blobs and rows, in batches.

Writing an archive costs CPU (hashing, the ORM, the syscalls of each durable blob); in the crawl's
own process it would hold the GIL that Scrapy's reactor needs for every response. A process of its
own writes in parallel, and captures that queue up while it commits share the next transaction.
It imports the archive only, so it starts quickly; it ends when the crawl closes its stdin, or
dies, whichever comes first, or at once when the archive refuses a write (a full or read-only disk
or database): the crawl learns it from the pipe breaking, and stops fetching what it cannot store.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from archive.blobs import BlobStore
from archive.captures import (
    CaptureIn,
    InvalidCapture,
    load_capture,
    record_captures,
)
from archive.db import make_engine, session_scope
from archive.errors import ArchiveWriteFailed, write_failure

MAX_BATCH = 64
MAX_QUEUED = 1024  # captures held in memory at most; past this the crawl waits for the writer
LINGER = 0.2  # seconds a batch waits for more captures after its first
logger = logging.getLogger(__name__)


class Writer:
    """Commits batches of captures and counts what it archived."""

    def __init__(self, database_url: str, blob_dir: str) -> None:
        self.database_url = database_url
        self.engine = make_engine(database_url)
        self.store = BlobStore(Path(blob_dir))
        self.counts: Counter[str] = Counter()

    def write(self, batch: list[CaptureIn]) -> None:
        """Commit `batch`; a capture refused alone is kept bare (`_keep_refused`), but a write the
        archive refuses raises `ArchiveWriteFailed` (the batch rolled back, its blobs harmless)."""
        try:
            with session_scope(self.engine) as session:
                # A batch's blobs are durable before its rows, with one file-system sync per
                # step for them all (BlobStore.put_many), not two fsyncs per blob.
                record_captures(session, self.store, batch)
        except Exception as exc:
            refused = write_failure(exc, self.database_url)
            if refused is not None:
                raise refused from exc
            if len(batch) > 1:
                for capture in batch:  # alone, so that one bad capture fails alone
                    self.write([capture])
                return
            self._keep_refused(batch[0], exc)
            return
        for capture in batch:
            self.counts["nianbao/captures"] += 1
            self.counts[f"nianbao/captures/{capture.kind}"] += 1
            self.counts[f"nianbao/outcome/{capture.outcome}"] += 1

    def _keep_refused(self, capture: CaptureIn, exc: Exception) -> None:
        """A capture the database refused for what it holds (a NUL in a title, a value out of
        range) is never dropped in silence: it is archived without its free text (headers,
        Content-Type, listed title), as an `error` naming the cause, bytes kept. When even that
        is refused, the crawl stops with the cause (`ArchiveWriteFailed`)."""
        cause = _one_line(exc)
        if isinstance(exc, DBAPIError) and not isinstance(exc, (DataError, IntegrityError)):
            # The database failing (locked, gone), not this capture's data: nothing to strip.
            raise ArchiveWriteFailed(f"archive write failed: {cause}: {capture.url}") from exc
        logger.error("the archive refused %s: %s", capture.url, cause)
        bare = dataclasses.replace(
            capture,
            headers=(),
            content_type=None,
            listed_title=None,
            outcome="error",
            finding=f"the archive refused this capture ({cause}); kept without its headers,"
            " Content-Type and listed title",
        )
        try:
            with session_scope(self.engine) as session:
                record_captures(session, self.store, [bare])
        except Exception as again:
            raise ArchiveWriteFailed(
                f"archive write failed: the database refused the capture of {capture.url}: "
                f"{_one_line(again)}"
            ) from again
        self.counts["nianbao/captures"] += 1
        self.counts[f"nianbao/captures/{capture.kind}"] += 1
        self.counts["nianbao/outcome/error"] += 1

    def close(self) -> None:
        self.engine.dispose()


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc  # a DBAPIError's driver error, without the SQL
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:300]


def main() -> None:
    """`python -m crawler.writer DATABASE_URL BLOB_DIR [RUN_ID]`: captures on stdin
    (archive.captures.dump_capture's, from crawler.pipeline), each stamped with RUN_ID when it
    has no run of its own, until the end of stdin; then one JSON line on
    stdout: `{"counts": {stat: n}, "fault": null}`, the counts of what was archived, and the
    one-line `ArchiveWriteFailed` that ended it early, if one did."""
    # The crawl process decides when to stop; it also starts this one at background priority
    # (crawler.pipeline), so that the crawl and the portal's answers come first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    database_url, blob_dir = sys.argv[1:3]
    run_id = int(sys.argv[3]) if len(sys.argv) > 3 else None
    jobs: queue.Queue[CaptureIn | None] = queue.Queue(MAX_QUEUED)
    threading.Thread(target=_read, args=(sys.stdin.buffer, jobs, run_id), daemon=True).start()
    writer = Writer(database_url, blob_dir)
    fault = None
    try:
        done = False
        while not done:
            batch, done = _take(jobs)
            if batch:
                writer.write(batch)
    except ArchiveWriteFailed as exc:
        fault = str(exc)
        logger.error("%s", fault)
    finally:
        writer.close()
        print(json.dumps({"counts": dict(writer.counts), "fault": fault}), flush=True)
    if fault is not None:
        # Out now, while the reader thread still blocks on stdin (an orderly exit would wait
        # on its lock): the pipe breaks, and the crawl stops.
        os._exit(1)


def _read(stream: BinaryIO, jobs: queue.Queue[CaptureIn | None], run_id: int | None) -> None:
    """Read captures into `jobs` as they come, stamped with the crawl's run; a None when the
    crawl closes the pipe (or dies: the pipe closes all the same), or sends what is no capture
    (logged: a bug, which the crawl learns from the pipe breaking)."""
    try:
        while True:
            capture = load_capture(stream)
            if capture.run_id is None and run_id is not None:
                # Here, off the crawl's process: the spider built it without knowing the run.
                capture = dataclasses.replace(capture, run_id=run_id)
            jobs.put(capture)
    except InvalidCapture as exc:
        logger.error("the crawl sent what is no capture: %s", exc)
        jobs.put(None)
    except (EOFError, OSError, ValueError, TypeError):
        jobs.put(None)


def _take(jobs: queue.Queue[CaptureIn | None]) -> tuple[list[CaptureIn], bool]:
    """The next batch: up to MAX_BATCH captures, or what came within LINGER of the first (a
    transaction per page would cost more than the page); True once the end came."""
    job = jobs.get()
    deadline = time.monotonic() + LINGER
    batch: list[CaptureIn] = []
    while job is not None:
        batch.append(job)
        if len(batch) >= MAX_BATCH:
            return batch, False
        try:
            job = jobs.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return batch, False
    return batch, True


if __name__ == "__main__":
    main()
