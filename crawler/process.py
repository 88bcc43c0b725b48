"""Launch crawls in worker processes and read back their results.

`run_batch` spreads portals over N processes (`nianbao crawl --jobs N`), each crawling several
portals at once (crawler.batch); `run_crawl` is a batch of one, for callers that crawl a single
portal (the backfill, the demo, a queue worker).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from crawler.job import CrawlJob, PortalProgress, PortalResult, RunSummary, worker_line, write_jobs
from crawler.lease import crawl_lease
from ops.leases import LeaseTerms

STOP_WAIT = 30.0  # seconds the workers get to close their runs after a SIGTERM


class CrawlFailed(Exception):
    """The crawl worker died or said nothing: the run row tells what was archived before."""


def run_crawl(
    job: CrawlJob,
    log_path: Path | None = None,
    timeout: float | None = None,
    *,
    lease: LeaseTerms | None = None,
) -> RunSummary:
    """Crawl one portal in a worker process; its Scrapy log goes to `log_path` (or is kept for
    the cause of a failure). `timeout` (seconds) bounds the whole process.

    The crawl holds its portal's lease while it runs: `ops.leases.LeaseHeld` when another
    crawl of the portal is running (a skip, not a failure). `CrawlFailed` when the archive
    refused the run or the worker died. `lease`: its TTL and its holder's token (the distributed
    workers', scheduler/distributed.py); by default five minutes.
    """
    with crawl_lease(job, lease):
        (result,) = run_batch([job], 1, log_path, timeout=timeout, leased=True)
    if result.summary is None:
        raise CrawlFailed(result.error or f"crawl of {job.portal.id}: no result")
    return result.summary


def run_batch(
    jobs: list[CrawlJob],
    processes: int,
    log_path: Path | None = None,
    on_result: Callable[[PortalResult], None] | None = None,
    *,
    timeout: float | None = None,
    leased: bool = False,
    on_progress: Callable[[PortalProgress], None] | None = None,
) -> list[PortalResult]:
    """Crawl `jobs` in up to `processes` worker processes (round robin), each taking its
    portals' leases itself (unless `leased`: the caller holds them). Returns a result per job,
    in order; `on_result` gets each one as it arrives, `on_progress` the pages the running
    portals of a worker have crawled so far, about every second (never after their result).
    Both are called from reader threads, one at a time. A portal whose worker died without a
    word is an `error` naming the exit code and the worker's last stderr line."""
    if not jobs:
        return []
    count = max(1, min(processes, len(jobs)))
    workers = [_Worker(jobs[n::count], log_path, leased) for n in range(count)]
    results: dict[str, PortalResult] = {}
    lock = threading.Lock()

    def got(result: PortalResult) -> None:
        with lock:
            results[result.portal] = result
            if on_result is not None:
                on_result(result)

    def moved(progress: PortalProgress) -> None:
        with lock:
            if on_progress is not None:
                on_progress(progress)

    try:
        readers = [threading.Thread(target=w.read, args=(got, moved), daemon=True) for w in workers]
        for reader in readers:
            reader.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in workers:
            worker.wait(deadline)
        for reader in readers:
            reader.join()
    finally:
        for worker in workers:
            worker.stop()
    for worker in workers:
        for job in worker.jobs:
            if job.portal.id not in results:
                got(PortalResult(job.portal.id, error=worker.cause(job.portal.id)))
    return [results[job.portal.id] for job in jobs]


class _Worker:
    """One `python -m crawler.worker` process and the portals it was given."""

    def __init__(self, jobs: list[CrawlJob], log_path: Path | None, leased: bool) -> None:
        self.jobs, self.log_path = jobs, log_path
        # Its log: the file asked for, else a file of its own, read for the cause of a death.
        self.log: IO[bytes] = (
            open(log_path, "ab")  # noqa: SIM115 (closed in stop)
            if log_path
            else tempfile.TemporaryFile()  # noqa: SIM115
        )
        command = [sys.executable, "-m", "crawler.worker", *(["--leased"] if leased else [])]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            preexec_fn=die_with_parent(),
        )
        threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write(write_jobs(self.jobs).encode("utf-8"))
            self.proc.stdin.close()

    def read(
        self, got: Callable[[PortalResult], None], moved: Callable[[PortalProgress], None]
    ) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                result = worker_line(line.decode("utf-8", "replace"))
                if isinstance(result, PortalProgress):
                    moved(result)
                    continue
                if result.error is not None:  # the worker exits 1 with it, as its last words
                    error = f"crawl of {result.portal} exited 1: {result.error}"
                    result = dataclasses.replace(result, error=error)
                got(result)

    def wait(self, deadline: float | None) -> None:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            self.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        """Ask a worker still running to stop (it closes its runs), then kill it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.flush()

    def cause(self, portal: str) -> str:
        """Why `portal` has no result: the worker's exit code and last stderr line."""
        return f"crawl of {portal} exited {self.proc.returncode}: {self._last_words()}"

    def _last_words(self) -> str:
        log = self.log
        with contextlib.suppress(OSError, ValueError):
            if self.log_path is not None:
                log.close()
                log = open(self.log_path, "rb")  # noqa: SIM115
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 4096))  # the tail is enough, and a log can be large
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            log.close()
            return lines[-1] if lines else ""
        return ""


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the child killed when its parent dies (Linux), so a killed crawl
    or scheduler leaves no orphan writing into the archive behind a lease nobody holds."""
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec
