"""One request in flight per host whatever the delay: real crawls at `download_delay = 0` against
replica servers that record the most requests they answered at once (a short hold on each answer
makes any overlap certain to be seen); and the download slot is the host as crawler.hosts names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from replica_fixtures import crawl_all, replica_settings
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.downloader import OneAtATimeDownloader

# Hanweb (column, GET dataproxy pages, module pages) and TRS, whose first list page asks for
# every other list page at once: the queue a delay of 0 used to let go all together.
PORTALS = ("tongxiang", "handan")


@contextmanager
def holding_replica(*portals: str) -> Iterator[dict[str, str]]:
    """Replica portals whose every answer waits 20 ms before it is written."""
    env = {**os.environ, "REPLICA_HOLD_SECONDS": "0.02"}
    args = [arg for p in portals for arg in ("--portal", p)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def concurrency(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + "/__replica__/concurrency", timeout=10) as response:
        seen: dict[str, int] = json.loads(response.read())
        return seen


def test_one_request_in_flight_per_host_at_delay_zero(tmp_path: Path) -> None:
    with holding_replica(*PORTALS) as urls:
        settings = replica_settings(urls, f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "blobs")
        assert settings.crawler.download_delay == 0
        summaries = crawl_all(settings)
        seen = {pid: concurrency(base) for pid, base in urls.items()}
    assert [s.status for s in summaries] == ["ok", "ok"], summaries
    assert all(s.pages > 20 for s in summaries), summaries
    assert {pid: s["max_in_flight"] for pid, s in seen.items()} == dict.fromkeys(PORTALS, 1)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("http://2130706433:8080/a", "127.0.0.1"),
        ("http://127.1/a", "127.0.0.1"),
        ("http://Example.ORG./a", "example.org"),
        ("http://[::ffff:7f00:1]/a", "127.0.0.1"),
    ],
)
def test_a_host_has_one_slot_however_it_is_spelt(url: str, key: str) -> None:
    downloader = OneAtATimeDownloader(get_crawler())
    assert downloader.get_slot_key(Request(url)) == key
