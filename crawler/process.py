"""Launch a crawl in its own process and read back its summary."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from archive.locks import LeaseTerms, portal_lease
from crawler.job import CrawlJob, RunSummary


class CrawlFailed(Exception):
    """The crawl worker died or said nothing: the run row tells what was archived before."""


def run_crawl(
    job: CrawlJob,
    log_path: Path | None = None,
    timeout: float | None = None,
    *,
    lease: LeaseTerms | None = None,
) -> RunSummary:
    """Run `python -m crawler.worker` for one job; its Scrapy log goes to `log_path` (or stderr).

    The crawl holds its portal's lease while it runs: `archive.locks.LeaseHeld` when another
    crawl of the portal is running (a skip, not a failure). `lease`: its TTL and its holder's
    token (the distributed workers', scheduler/distributed.py); by default five minutes.
    """
    archive = job.archive
    with portal_lease(archive.database_url, archive.blob_dir, job.portal.id, job.kind, lease):
        return _run_worker(job, log_path, timeout)


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


def _run_worker(job: CrawlJob, log_path: Path | None, timeout: float | None) -> RunSummary:
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed below)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.worker"],
            input=job.to_json().encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=log if log else subprocess.PIPE,
            timeout=timeout,
            check=False,
            preexec_fn=die_with_parent(),
        )
    finally:
        if log:
            log.close()
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        raise CrawlFailed(
            f"crawl of {job.portal.id} exited {done.returncode}: {_last_words(done, log_path)}"
        )
    return RunSummary.from_json(lines[-1])


def _last_words(done: subprocess.CompletedProcess[bytes], log_path: Path | None) -> str:
    """The worker's last stderr line (its cause of death), from the pipe or from its log file."""
    err = done.stderr or b""
    if log_path is not None:
        with open(log_path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 4096))  # the tail is enough, and a log can be large
            err = log.read()
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""
