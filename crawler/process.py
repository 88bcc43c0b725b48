"""Launch crawls in worker processes and read back their results.

`run_batch` spreads portals over N processes (`nianbao crawl --jobs N`), each crawling several
portals at once (crawler.batch); `run_crawl` is a batch of one, for callers that crawl a single
portal (the backfill, the demo); `CrawlStream` is one process that lives as long as a queue worker
and crawls the portals the queue hands it.
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
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from crawler.job import CrawlJob, PortalProgress, PortalResult, RunSummary, worker_line
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
    workers = [_Worker(log_path, leased) for _ in range(count)]
    results: dict[str, PortalResult] = {}
    lock = threading.Lock()

    def got(result: PortalResult) -> None:
        if result.error is not None:  # the worker exits 1 with it, as its last words
            result = dataclasses.replace(
                result, error=f"crawl of {result.portal} exited 1: {result.error}"
            )
        with lock:
            results[result.portal] = result
            if on_result is not None:
                on_result(result)

    def moved(progress: PortalProgress) -> None:
        with lock:
            if on_progress is not None:
                on_progress(progress)

    def feed(worker: _Worker, mine: list[CrawlJob]) -> None:
        # In a thread of its own: a large batch can fill the pipe before the worker reads it.
        with contextlib.suppress(OSError):
            worker.send(mine)
            worker.end()

    try:
        for n, worker in enumerate(workers):
            threading.Thread(target=feed, args=(worker, jobs[n::count]), daemon=True).start()
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
    for n, worker in enumerate(workers):
        for job in jobs[n::count]:
            if job.portal.id not in results:
                got_cause = PortalResult(job.portal.id, error=worker.cause(job.portal.id))
                with lock:
                    results[job.portal.id] = got_cause
                    if on_result is not None:
                        on_result(got_cause)
    return [results[job.portal.id] for job in jobs]


class CrawlStream:
    """One long-lived crawl process that crawls portals as they are handed to it, side by side,
    for a queue worker (`nianbao worker`, scheduler/distributed.py): the worker pays a crawl
    process's start-up (Scrapy, the parsers: about two seconds of CPU) once, not once a portal,
    and its portals share one archive writer.

    Thread-safe: each of the worker's threads hands it a portal (`crawl`) and waits for that
    portal's result; the caller holds the portal's lease (the process is started `--leased`). A
    process that died is replaced at the next `crawl`; the portals it had end as `error`s naming
    its exit code and last words. Its log: a file per process in `log_dir`."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._waiting: dict[str, tuple[_Worker, Future[PortalResult]]] = {}

    def crawl(self, job: CrawlJob, timeout: float | None = None) -> PortalResult:
        """Crawl `job` in the process; its result, or an `error` when the process died or
        said nothing within `timeout` seconds."""
        pid = job.portal.id
        answer: Future[PortalResult] = Future()
        with self._lock:
            if pid in self._waiting:  # the lease makes this impossible; said, never crawled twice
                return PortalResult(pid, skipped="this worker is crawling it already")
            worker = self._live()
            self._waiting[pid] = (worker, answer)
            # A process dying as it is sent the job: its reader ends its portals, this one too.
            with contextlib.suppress(OSError):
                worker.send([job])
        try:
            return answer.result(timeout)
        except FutureTimeout:
            return PortalResult(pid, error=f"crawl of {pid}: no result within {timeout:g} s")
        finally:
            with self._lock:
                self._waiting.pop(pid, None)

    def close(self, wait: float = STOP_WAIT) -> None:
        """No more portals: the process ends once its crawls have (stopped after `wait` s)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        with contextlib.suppress(OSError):
            worker.end()
        worker.wait(time.monotonic() + wait, kill=False)
        worker.stop()

    def _live(self) -> _Worker:
        if self._worker is None or self._worker.ended:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
            log_path = self.log_dir / f"crawls-{stamp}-{os.getpid()}.log"
            started: Future[_Worker] = Future()
            # Started by a thread that lives exactly as long as the process: the kernel's
            # parent-death signal (die_with_parent) fires when the *thread* that started a child
            # ends, and the caller's thread may end while the process crawls for others.
            threading.Thread(target=self._keep, args=(log_path, started), daemon=True).start()
            self._worker = started.result()
        return self._worker

    def _keep(self, log_path: Path, started: Future[_Worker]) -> None:
        try:
            worker = _Worker(log_path, leased=True)
        except BaseException as exc:  # said to the caller waiting for it
            started.set_exception(exc)
            return
        started.set_result(worker)

        def got(result: PortalResult) -> None:
            with self._lock:
                waiting = self._waiting.get(result.portal)
            if waiting is not None and waiting[0] is worker and not waiting[1].done():
                waiting[1].set_result(result)

        worker.read(got, lambda _progress: None)
        worker.proc.wait()
        with self._lock:  # under the lock: no portal is sent to it once it is seen ended
            worker.ended = True
            orphans = [(pid, f) for pid, (w, f) in self._waiting.items() if w is worker]
        for pid, answer in orphans:
            if not answer.done():
                answer.set_result(PortalResult(pid, error=worker.cause(pid)))


class _Worker:
    """One `python -m crawler.worker` process: it crawls the portals it is sent, side by side,
    until its stdin is closed."""

    def __init__(self, log_path: Path | None, leased: bool) -> None:
        self.log_path = log_path
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
        self._registry: object = None  # the publisher registry the process was last sent
        self.ended = False  # its stdout closed: it takes no more portals (CrawlStream)

    def send(self, jobs: list[CrawlJob]) -> None:
        """Hand the process `jobs`; the registry goes with a job only when it is not the one
        sent last (every job of one settings file carries the same tuple)."""
        assert self.proc.stdin is not None
        lines = []
        for job in jobs:
            lines.append(job.to_json(publishers=job.publishers is not self._registry) + "\n")
            self._registry = job.publishers
        self.proc.stdin.write("".join(lines).encode("utf-8"))
        self.proc.stdin.flush()

    def end(self) -> None:
        assert self.proc.stdin is not None
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
                else:
                    got(result)

    def wait(self, deadline: float | None, *, kill: bool = True) -> None:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            self.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            if kill:
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
    or scheduler leaves no orphan writing into the archive behind a lease nobody holds. The
    signal comes when the *thread* that started the child ends, not only its process: start a
    child that outlives its caller's thread from a thread that lives as long as the child."""
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
