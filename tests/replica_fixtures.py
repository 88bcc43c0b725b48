"""The replica portals served by a real subprocess on 127.0.0.1, as Scrapy's own tests do."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from nianbao.settings import Settings, parse_settings
from replica import settings_for


@contextmanager
def replica_process() -> Iterator[dict[str, str]]:
    """`python -m replica serve` in a subprocess; yields its portal URLs; always stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def national_process(portals: int, latency: tuple[float, float]) -> Iterator[dict[str, str]]:
    """`python -m replica.national`: `portals` replica portals, each answering in `latency`
    seconds (low, high); yields their URLs; always stopped."""
    low, high = (str(s) for s in latency)
    command = [sys.executable, "-m", "replica.national", "--portals", str(portals)]
    proc = subprocess.Popen([*command, "--latency", low, high], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def replica_settings(urls: dict[str, str], database_url: str, blob_dir: Path) -> Settings:
    """The replica's settings, pointed at this test's archive."""
    text = settings_for(urls, database_url=database_url, blob_dir=str(blob_dir))
    return parse_settings(tomllib.loads(text), Path("replica-settings.toml"))


def crawl_all(settings: Settings, kind: str = "manual") -> list[RunSummary]:
    """Crawl every portal of `settings`, each in its own process, as `nianbao crawl` does."""
    return [
        run_crawl(
            CrawlJob(
                portal=p,
                crawler=settings.crawler,
                archive=settings.archive,
                publishers=settings.publishers,
                kind=kind,
            )
        )
        for p in settings.portals
    ]


def post(url: str) -> bytes:
    """POST to a replica test hook."""
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        body: bytes = response.read()
        return body
