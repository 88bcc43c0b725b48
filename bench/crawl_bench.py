"""Benchmark: a replica portal of 2,160 reports crawled twice, and a bare Scrapy spider for scale.

Run: `.venv/bin/python bench/crawl_bench.py [--rounds 5] [--workdir DIR]`.

1. A first nightly crawl of the `bench` replica portal (大汉, GET jpage paging, 180 departments ×
   2013-2024) into an empty SQLite archive: it pages through everything and archives every page.
2. A second nightly crawl of the unchanged portal: it must download no article body again (known
   pages are asked for with their validators and answer 304) and make under 5% of the requests.
3. A bare Scrapy spider that fetches the same pages as crawl 1, with the same Scrapy settings, and
   stores nothing. The first crawl's pages per second must be within 25% of it. The crawl worker
   also tunes Python's garbage collector (crawler.worker.GC_THRESHOLDS); the bare spider is run a
   second time with the same tuning, so that the comparison can be read both ways.

Rounds interleave first crawls (each into a fresh archive) and bare runs. On a shared machine the
same bare spider varies by half from one run to the next, so one lucky run on either side decides a
best-of comparison; the verdict is taken on the median of the rounds' own ratios instead (each
round's crawl against the bare runs made right after it, under the same conditions), and the best
of each is printed beside it. Requests are counted by the
replica itself (its stats hook); pages per second are Scrapy's response count over its elapsed
time, so process start-up and the indexing after the crawl are timed apart.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Capture
from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from crawler.settings import scrapy_settings
from crawler.worker import GC_THRESHOLDS
from nianbao.settings import Settings, parse_settings
from replica import settings_for

PORTAL = "bench"
STATS = re.compile(r"'(downloader/response_count|elapsed_time_seconds)': ([\d.]+)")

BARE_SPIDER = """
import gc, json, sys
import scrapy
from scrapy.crawler import CrawlerProcess

settings, requests, gc_thresholds = json.loads(sys.stdin.read())
settings.pop("ITEM_PIPELINES")  # stores nothing


class Bare(scrapy.Spider):
    name = "bare"

    async def start(self):
        for url in requests:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        pass


process = CrawlerProcess(settings, install_root_handler=False)
crawler = process.create_crawler(Bare)
process.crawl(crawler)
if gc_thresholds:
    gc.freeze()
    gc.set_threshold(*gc_thresholds)
process.start()
stats = crawler.stats.get_stats()
print(json.dumps([stats.get("downloader/response_count", 0), stats.get("elapsed_time_seconds", 0)]))
"""


def replica(portal: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", "--portal", portal],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())[portal]


def hook(base: str, name: str) -> Any:
    data = None if name == "stats" else b""
    with urllib.request.urlopen(f"{base}/__replica__/{name}", data=data, timeout=30) as answer:
        return json.loads(answer.read())


def requests_served(base: str) -> int:
    return sum(sum(methods.values()) for methods in hook(base, "stats").values())


def fresh_settings(base: str, root: Path) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    text = settings_for({PORTAL: base}, f"sqlite:///{root / 'bench.db'}", str(root / "blobs"))
    return parse_settings(tomllib.loads(text), root / "settings.toml")


def job_for(settings: Settings) -> CrawlJob:
    s = settings
    return CrawlJob(s.portals[0], s.crawler, s.archive, s.publishers, "nightly")


def crawl(settings: Settings, log: Path) -> tuple[RunSummary, float, float]:
    """One nightly crawl: its summary, its wall time in all, and its pages per second."""
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    summary = run_crawl(job_for(settings), log_path=log)
    wall = time.perf_counter() - started
    found = {key: float(value) for key, value in STATS.findall(log.read_text("utf-8"))}
    return summary, wall, found["downloader/response_count"] / found["elapsed_time_seconds"]


def fetched(settings: Settings, run_id: int) -> list[str]:
    """The URLs a run fetched, in order (this portal's pages are all GETs)."""
    engine = make_engine(settings.archive.database_url)
    with Session(engine) as session:
        urls = session.scalars(
            select(Capture.url).where(Capture.run_id == run_id).order_by(Capture.id)
        ).all()
    engine.dispose()
    return list(urls)


def bodies(settings: Settings, run_id: int, kind: str) -> tuple[int, int]:
    """(captures with a body, captures) of one kind in one run."""
    engine = make_engine(settings.archive.database_url)
    with Session(engine) as session:
        base = (
            select(func.count())
            .select_from(Capture)
            .where(Capture.run_id == run_id, Capture.kind == kind)
        )
        with_body = session.scalar(base.where(Capture.sha256.is_not(None))) or 0
        total = session.scalar(base) or 0
    engine.dispose()
    return with_body, total


def bare(settings: Settings, urls: list[str], tuned: bool) -> float:
    """Pages per second of a bare spider fetching `urls`, with the crawl's Scrapy settings."""
    job = (scrapy_settings(job_for(settings), run_id=0), urls, GC_THRESHOLDS if tuned else None)
    done = subprocess.run(
        [sys.executable, "-c", BARE_SPIDER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
    )
    responses, elapsed = json.loads(done.stdout.strip().splitlines()[-1])
    return float(responses) / float(elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="where the archives go (default: a temp dir)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-crawl-bench-"))
    proc, base = replica(PORTAL)
    ours: list[float] = []
    plain: list[float] = []
    tuned: list[float] = []
    try:
        for n in range(1, args.rounds + 1):
            settings = fresh_settings(base, workdir / f"round{n}")
            hook(base, "reset")
            first, first_wall, pps = crawl(settings, workdir / f"first{n}.log")
            first_requests = requests_served(base)
            urls = fetched(settings, first.run_id)
            ours.append(pps)
            plain.append(bare(settings, urls, tuned=False))
            tuned.append(bare(settings, urls, tuned=True))
            print(
                f"round {n}: first crawl {ours[-1]:.0f} pages/s; bare spider {plain[-1]:.0f} "
                f"({ours[-1] / plain[-1]:.0%}), with the worker's GC tuning {tuned[-1]:.0f} "
                f"({ours[-1] / tuned[-1]:.0%})",
                flush=True,
            )
        hook(base, "reset")
        second, second_wall, _ = crawl(settings, workdir / "second.log")
        second_requests = requests_served(base)
        article_bodies, article_checks = bodies(settings, second.run_id, "article")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    share = second_requests / first_requests
    best, best_plain, best_tuned = max(ours), max(plain), max(tuned)
    vs_plain = statistics.median(o / p for o, p in zip(ours, plain, strict=True))
    vs_tuned = statistics.median(o / t for o, t in zip(ours, tuned, strict=True))
    print(f"portal {PORTAL}: {first.new_reports} reports archived by a first crawl")
    print(
        f"first nightly:  {first_requests} requests, {first.pages} pages archived, "
        f"{first_wall:.1f} s in all ({first.pages / pps:.1f} s crawling, then start-up and "
        f"indexing), status {first.status}"
    )
    print(
        f"second nightly: {second_requests} requests ({share:.1%} of the first), "
        f"{second.pages} pages, {second_wall:.1f} s in all, {second.not_modified} answered 304, "
        f"{article_bodies} of {article_checks} article re-checks downloaded a body, "
        f"status {second.status}"
    )
    print(
        f"pages/s, best of {args.rounds}, same {len(urls)} pages and Scrapy settings: first crawl "
        f"{best:.0f}, bare spider {best_plain:.0f} ({best / best_plain:.0%}), bare spider with "
        f"the same GC tuning {best_tuned:.0f} ({best / best_tuned:.0%})"
    )
    print(
        f"first crawl / bare spider, median of the {args.rounds} rounds' ratios: {vs_plain:.0%}; "
        f"against the bare spider with the same GC tuning: {vs_tuned:.0%} (target: at least 75%)"
    )
    ok = (
        first.new_reports >= 2000
        and article_bodies == 0
        and share < 0.05
        and vs_plain >= 0.75
        and vs_tuned >= 0.75
    )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
