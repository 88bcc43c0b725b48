"""The bare Scrapy spider of bench/national_bench.py: fetches a given list of requests with the
crawl's politeness (robots.txt, one request in flight per host, the delay, AutoThrottle: the
crawl's own Scrapy settings) and stores nothing. Reads `[settings, [[url, headers], ...]]` as JSON
on stdin; prints `[responses, elapsed seconds]` as its last line.

Run by the benchmark, one process per crawl process of the run it is compared with.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess

from archive.clock import log_in_shanghai
from crawler.worker import GC_THRESHOLDS


class Bare(scrapy.Spider):
    name = "bare"
    requests: list[tuple[str, dict[str, str]]] = []

    async def start(self) -> AsyncIterator[Any]:
        for url, headers in self.requests:
            yield scrapy.Request(url, headers=headers, dont_filter=True, callback=self.parse)

    def parse(self, response: Any) -> None:
        pass


def split() -> None:
    """`--split`: a list of inputs on stdin, one bare process each, at once; their last lines."""
    inputs = json.loads(sys.stdin.read())
    procs = [
        subprocess.Popen(
            [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in inputs
    ]
    outs: list[str] = [""] * len(procs)

    def feed(i: int) -> None:
        outs[i] = procs[i].communicate(json.dumps(inputs[i]))[0] or ""

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(len(procs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps([o.strip().splitlines()[-1] if o.strip() else None for o in outs]))


def main() -> None:
    if "--split" in sys.argv:
        split()
        return
    settings, requests = json.loads(sys.stdin.read())
    log_in_shanghai()  # the crawl's LOG_DATEFORMAT says +08:00: stamp the lines so, as it does
    Bare.requests = [(url, headers) for url, headers in requests]
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)  # as the crawl process tunes it
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    print(
        json.dumps(
            [stats.get("downloader/response_count", 0), stats.get("elapsed_time_seconds", 0)]
        )
    )


if __name__ == "__main__":
    main()
