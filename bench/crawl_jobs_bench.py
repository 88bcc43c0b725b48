"""Benchmark: N replica portals crawled one after another (before) and side by side (--jobs).

Run: `.venv/bin/python bench/crawl_jobs_bench.py [--portals 10] [--delay 0.2] [--before-rev REV]`.

N copies of the `taizhou` replica portal (Hanweb, 61 pages), each on its own loopback address
(127.0.1.1, 127.0.1.2, …: distinct hosts, as real portals are), each crawled politely
(`download_delay`, one request at a time per host, AutoThrottle off so the delay is the delay)
into a fresh SQLite archive, first crawl, by:

- before: `nianbao crawl` of the code at `--before-rev` (exported with `git archive` into the
  work directory): the portals one after another, each in a process of its own;
- `nianbao crawl --jobs 1` and `--jobs 2` of this tree: one or two crawl processes, each crawling
  `[crawler] portals_per_process` (16) portals at once.

Wall time is the command's, start-up and indexing included. Each run must archive the same
captures and reports, every run `ok`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Capture, CrawlRun, Document
from replica import settings_for
from replica.server import ReplicaServer

SOURCE = "taizhou"
ROOT = Path(__file__).resolve().parent.parent


def portal_block(text: str, pid: str) -> str:
    """The `[[portals]]` and `[[publishers]]` rows of `text`, for a portal renamed `pid`."""
    rows = text.split("\n[[")[1:]
    kept = ["[[" + row for row in rows if row.startswith(("portals]]", "publishers]]"))]
    return "\n".join(kept).replace(f'"{SOURCE}"', f'"{pid}"')


def settings_text(urls: list[str], root: Path, delay: float) -> str:
    """Settings for the copies: the replica's own, one portal per URL (`taizhou1`, …)."""
    first = settings_for({SOURCE: urls[0]}, f"sqlite:///{root / 'archive.db'}", str(root / "b"))
    head = first.split("\n[[", 1)[0]
    head = head.replace("download_delay = 0\n", f"download_delay = {delay}\nautothrottle = false\n")
    blocks = [
        portal_block(settings_for({SOURCE: url}), f"{SOURCE}{n}")
        for n, url in enumerate(urls, start=1)
    ]
    return head + "\n" + "\n".join(blocks)


def export(rev: str, into: Path) -> Path:
    """The tree at `rev`, as files (no checkout: the repository is left as it is)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def crawl(code: Path, config: Path, *args: str) -> float:
    """`nianbao crawl ARGS` of the tree at `code` (its own modules first): wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(config), "crawl", *args],
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crawl {' '.join(args)} failed: {done.stderr[-2000:]}")
    return wall


def archived(database_url: str) -> tuple[int, int, int, int]:
    """(runs, ok runs, captures, reports) of an archive."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        runs = session.scalar(select(func.count()).select_from(CrawlRun)) or 0
        ok = session.scalar(select(func.count()).where(CrawlRun.status == "ok")) or 0
        captures = session.scalar(select(func.count()).select_from(Capture)) or 0
        reports = session.scalar(select(func.count()).select_from(Document)) or 0
    engine.dispose()
    return runs, ok, captures, reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.2, help="download_delay, seconds")
    parser.add_argument("--before-rev", help="the code before, e.g. main (default: not run)")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-jobs-bench-"))
    servers = [ReplicaServer([SOURCE], f"127.0.1.{n}") for n in range(1, args.portals + 1)]
    urls = [server.urls[SOURCE] for server in servers]
    modes: list[tuple[str, Path, list[str]]] = []
    if args.before_rev:
        before = export(args.before_rev, work / "before-code")
        modes.append((f"before ({args.before_rev}), one by one", before, []))
    modes += [("--jobs 1", ROOT, ["--jobs", "1"]), ("--jobs 2", ROOT, ["--jobs", "2"])]
    results = []
    try:
        for n, (label, code, extra) in enumerate(modes):
            root = work / f"run{n}"
            root.mkdir(parents=True, exist_ok=True)
            config = root / "settings.toml"
            config.write_text(settings_text(urls, root, args.delay), encoding="utf-8")
            wall = crawl(code, config, *extra)
            counts = archived(f"sqlite:///{root / 'archive.db'}")
            results.append(counts)
            print(
                f"{label}: {wall:.1f} s for {args.portals} portals; runs {counts[0]} "
                f"({counts[1]} ok), {counts[2]} captures, {counts[3]} reports",
                flush=True,
            )
    finally:
        for server in servers:
            server.stop()
    same = len(set(results)) == 1 and results[0][0] == results[0][1] == args.portals
    print("every mode archived the same, every run ok" if same else "ARCHIVES DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
