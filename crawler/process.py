"""Launch a crawl in its own process and read back its summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crawler.job import CrawlJob, RunSummary


class CrawlFailed(Exception):
    """The crawl worker died or said nothing: the run row tells what was archived before."""


def run_crawl(
    job: CrawlJob, log_path: Path | None = None, timeout: float | None = None
) -> RunSummary:
    """Run `python -m crawler.worker` for one job; its Scrapy log goes to `log_path` (or stderr)."""
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed below)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.worker"],
            input=job.to_json().encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=log if log else subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    finally:
        if log:
            log.close()
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        raise CrawlFailed(f"crawl of {job.portal.id} exited {done.returncode}: {' '.join(tail)}")
    return RunSummary.from_json(lines[-1])
