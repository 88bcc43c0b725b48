"""The archive writer: a process of its own that turns captures into blobs and rows, in batches.

Writing an archive costs CPU (hashing, the ORM, the syscalls of each durable blob); in the crawl's
own process it would hold the GIL that Scrapy's reactor needs for every response. A process of its
own writes in parallel, and captures that queue up while it commits share the next transaction.
One writer serves every portal of a crawl process (crawler.pipeline.ArchiveWriter): captures carry
their portal and run, and a batch mixes them. When a portal's crawl ends, the crawl sends `end
RUN_ID` after its last capture; the writer answers once it has committed everything sent before
it, with what it archived for that run. It imports the archive only, so it starts quickly; it ends
when the crawl closes its stdin, or dies, whichever comes first, or at once when the archive
refuses a write (a full or read-only disk or database): the crawl learns it from the pipe
breaking, and stops fetching what it cannot store.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

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
PICKLE_START = b"\x80"  # a capture (dump_capture's pickle) begins with PROTO; a command does not
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunEnd:
    """`end RUN_ID`: the run has sent its last capture; answer with what it archived."""

    run_id: int


class EndOfInput:
    """The crawl closed the pipe (or died, or sent what is no capture)."""


END = EndOfInput()
Message = CaptureIn | RunEnd | EndOfInput


class Writer:
    """Commits batches of captures and counts what it archived."""

    def __init__(self, database_url: str, blob_dir: str) -> None:
        self.database_url = database_url
        self.engine = make_engine(database_url)
        self.store = BlobStore(Path(blob_dir))
        self.counts: Counter[str] = Counter()  # everything archived
        self.runs: dict[int | None, Counter[str]] = {}  # the same, by run, until it is told

    def _count(self, capture: CaptureIn, outcome: str) -> None:
        run = self.runs.setdefault(capture.run_id, Counter())
        for counts in (self.counts, run):
            counts["nianbao/captures"] += 1
            counts[f"nianbao/captures/{capture.kind}"] += 1
            counts[f"nianbao/outcome/{outcome}"] += 1

    def run_counts(self, run_id: int) -> dict[str, int]:
        """What was archived for `run_id` (since it was last asked)."""
        return dict(self.runs.pop(run_id, Counter()))

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
            self._count(capture, capture.outcome)

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
        self._count(capture, "error")

    def close(self) -> None:
        self.engine.dispose()


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc  # a DBAPIError's driver error, without the SQL
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:300]


def main() -> None:
    """`python -m crawler.writer DATABASE_URL BLOB_DIR [RUN_ID]`: on stdin, captures
    (archive.captures.dump_capture's, from crawler.pipeline), each stamped with RUN_ID when it
    has no run of its own, and `end RUN_ID` lines, until the end of stdin. On stdout, for each
    `end`, once what came before it is committed: `{"run": RUN_ID, "counts": {stat: n}}`, what
    was archived for the run; at the end, one line `{"counts": {stat: n}, "fault": null}`, the
    counts of everything archived, and the one-line `ArchiveWriteFailed` that ended it early, if
    one did."""
    # The crawl process decides when to stop; it also starts this one at background priority
    # (crawler.pipeline), so that the crawl and the portal's answers come first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    database_url, blob_dir = sys.argv[1:3]
    run_id = int(sys.argv[3]) if len(sys.argv) > 3 else None
    jobs: queue.Queue[Message] = queue.Queue(MAX_QUEUED)
    threading.Thread(target=_read, args=(sys.stdin.buffer, jobs, run_id), daemon=True).start()
    writer = Writer(database_url, blob_dir)
    fault = None
    try:
        while True:
            batch, message = _take(jobs, jobs.get())
            if batch:
                writer.write(batch)
            if isinstance(message, RunEnd):
                answer = {"run": message.run_id, "counts": writer.run_counts(message.run_id)}
                print(json.dumps(answer), flush=True)
            elif isinstance(message, EndOfInput):
                break
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


def _read(stream: io.BufferedReader, jobs: queue.Queue[Message], run_id: int | None) -> None:
    """Read captures and `end` lines into `jobs` as they come, captures stamped with the
    crawl's run; END when the crawl closes the pipe (or dies: the pipe closes all the same), or
    sends what is neither (logged: a bug, which the crawl learns from the pipe breaking)."""
    try:
        while head := stream.peek(1)[:1]:
            if head != PICKLE_START:
                jobs.put(_command(stream.readline()))
                continue
            capture = load_capture(stream)
            if capture.run_id is None and run_id is not None:
                # Here, off the crawl's process: the spider built it without knowing the run.
                capture = dataclasses.replace(capture, run_id=run_id)
            jobs.put(capture)
    except InvalidCapture as exc:
        logger.error("the crawl sent what is no capture: %s", exc)
    except (EOFError, OSError, ValueError, TypeError):
        pass
    jobs.put(END)


def _command(line: bytes) -> RunEnd:
    """`end RUN_ID`; InvalidCapture for anything else."""
    words = line.split()
    if len(words) != 2 or words[0] != b"end" or not words[1].isdigit():
        raise InvalidCapture(f"neither a capture nor a command: {line[:80]!r}")
    return RunEnd(int(words[1]))


def _take(jobs: queue.Queue[Message], first: Message) -> tuple[list[CaptureIn], Message | None]:
    """The batch that starts at `first`: up to MAX_BATCH captures, or those that came within
    LINGER of the first (a transaction per page would cost more than the page); and the message
    that ended it (a run's end, the end of input), None when its size or time did."""
    deadline = time.monotonic() + LINGER
    batch: list[CaptureIn] = []
    message = first
    while isinstance(message, CaptureIn):
        batch.append(message)
        if len(batch) >= MAX_BATCH:
            return batch, None
        try:
            message = jobs.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return batch, None
    return batch, message


if __name__ == "__main__":
    main()
