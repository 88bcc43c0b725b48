"""Many portals per crawl process (`nianbao crawl --jobs N`, crawler.batch), real crawls of the
replica portals over 127.0.0.1: the same archive as crawling them one by one; a portal that hangs
(a server that accepts and never answers) stopped at its own timeout without holding up the
portals after it; a failing portal failing alone; and `--json`, a line per portal."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Capture, CrawlRun, Document, DocumentVersion, Publisher
from crawler.job import CrawlJob
from crawler.process import run_crawl
from nianbao.settings import parse_settings
from replica import settings_for

# Two small Hanweb portals and a TRS one: with --jobs 2, one process crawls two at once.
PORTALS = ("tongxiang", "taizhou", "trs_county")
TIMEOUT_MINUTES = 0.1  # 6 s; a download would wait DOWNLOAD_TIMEOUT (30 s) and retry 3 times


@pytest.fixture(scope="module")
def replica_urls() -> Iterator[dict[str, str]]:
    args = [arg for p in PORTALS for arg in ("--portal", p)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def hanging_server() -> Iterator[str]:
    """A server that accepts every connection and never answers (invented: a portal's web
    server stuck behind its load balancer)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for conn in held:
            conn.close()


def portal_copy(text: str, source: str, new_id: str, new_base: str, old_base: str) -> str:
    """A `[[portals]]` row of `text` again, as portal `new_id` at `new_base` (its publishers are
    left to the original: the registry is not what these tests are about)."""
    start = text.index(f'[[portals]]\nid = "{source}"')
    end = text.index("\n[[", start + 1)
    row = text[start : end + 1].replace(f'id = "{source}"', f'id = "{new_id}"')
    return text + "\n" + row.replace(old_base, new_base)


def write_config(
    root: Path, urls: dict[str, str], crawler: str = "", extra: str = ""
) -> tuple[Path, str]:
    database_url = f"sqlite:///{root / 'archive.db'}"
    text = settings_for(urls, database_url=database_url, blob_dir=str(root / "blobs"))
    text = text.replace("[crawler]\n", "[crawler]\n" + crawler, 1) + extra
    path = root / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path, database_url


def nianbao(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def descendants(pid: int) -> dict[int, tuple[int, str]]:
    """The processes under `pid`, now: pid -> (its parent, the module it runs (`-m` X), else its
    argv[0]). A fork not yet exec'd shows its parent's command line."""
    found: dict[int, tuple[int, str]] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                try:
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
                except OSError:
                    continue
                todo.append(child)
                if argv[0]:  # empty: a zombie
                    name = argv[argv.index("-m") + 1] if "-m" in argv else argv[0]
                    found[child] = (parent, name)
    return found


def watched(
    config: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[int, tuple[int, str]]]:
    """`nianbao` run as `nianbao()` does, and every process seen under it while it ran (its
    process tree sampled every 20 ms: a writer lives as long as a portal's crawl, at least)."""
    command = [sys.executable, "-m", "nianbao", "--config", str(config), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, tuple[int, str]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.update(descendants(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=300)
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(command, proc.returncode, out, err), seen


def archive_of(database_url: str) -> tuple[Counter[tuple[object, ...]], set[tuple[object, ...]]]:
    """What two crawls of the same portals must share: the captures (URL, kind, status,
    outcome, bytes) and the reports (URL, year, publisher, the digests of their versions)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        captures = Counter(
            tuple(row)
            for row in session.execute(
                select(
                    Capture.portal,
                    Capture.url,
                    Capture.kind,
                    Capture.status,
                    Capture.outcome,
                    Capture.sha256,
                )  # fmt: skip
            )
        )
        versions: dict[int, list[str]] = {}
        for doc_id, digest in session.execute(
            select(DocumentVersion.document_id, DocumentVersion.content_sha256)
        ):
            versions.setdefault(doc_id, []).append(digest)
        reports = {
            (url, year, name, tuple(sorted(versions.get(doc_id, []))))
            for doc_id, url, year, name in session.execute(
                select(Document.id, Document.url, Document.report_year, Publisher.name).join(
                    Publisher, Document.publisher_id == Publisher.id, isouter=True
                )
            )
        }
    engine.dispose()
    return captures, reports


def runs_of(database_url: str) -> dict[str, CrawlRun]:
    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        runs = {run.portal: run for run in session.scalars(select(CrawlRun))}
        session.expunge_all()
    engine.dispose()
    return runs


def test_jobs_2_gives_the_archive_of_crawling_one_by_one(
    replica_urls: dict[str, str], tmp_path: Path
) -> None:
    urls = dict(replica_urls)
    one = tmp_path / "one"
    one.mkdir()
    config, one_by_one = write_config(one, urls)
    settings = parse_settings(tomllib.loads(config.read_text("utf-8")), config)
    for portal in settings.portals:
        job = CrawlJob(portal, settings.crawler, settings.archive, settings.publishers)
        assert run_crawl(job).status == "ok"

    many = tmp_path / "many"
    many.mkdir()
    config, together = write_config(many, urls)
    done, seen = watched(config, "crawl", "--all", "--jobs", "2", "--json")
    assert done.returncode == 0, done.stderr
    # Two crawl processes, three portals: one archive writer per process, not one per portal.
    named = {pid for pid, (_parent, name) in seen.items() if name == "crawler.worker"}
    workers = {pid for pid in named if seen[pid][0] not in named}  # not a worker's fork
    writers = [parent for parent, name in seen.values() if name == "crawler.writer"]
    assert len(workers) == 2 and sorted(writers) == sorted(workers), seen
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(row["portal"] for row in rows) == sorted(PORTALS)
    runs = runs_of(together)
    for row in rows:
        assert row["status"] == "ok" and row["finding"] is None
        assert all(isinstance(row[k], int) for k in ("run_id", "pages", "new_reports", "errors"))
        run = runs[row["portal"]]
        assert (run.id, run.status, run.pages) == (row["run_id"], "ok", row["pages"])
    assert archive_of(together) == archive_of(one_by_one)
    assert archive_of(together)[1]  # reports were found at all


def test_a_hanging_portal_is_stopped_at_its_timeout_and_the_next_one_starts(
    replica_urls: dict[str, str], tmp_path: Path
) -> None:
    # One process, one portal at a time, the hanging portal first: the next one can start only
    # once the hanging one has given its place back.
    with hanging_server() as hang:
        urls = {"taizhou": replica_urls["taizhou"]}
        crawler = f"portal_timeout_minutes = {TIMEOUT_MINUTES}\nportals_per_process = 1\n"
        config, database_url = write_config(tmp_path, urls, crawler)
        text = config.read_text("utf-8")
        config.write_text(portal_copy(text, "taizhou", "hanging", hang, urls["taizhou"]), "utf-8")
        started = time.monotonic()
        done = nianbao(config, "crawl", "hanging", "taizhou", "--jobs", "1", "--json")
        wall = time.monotonic() - started
    rows = {row["portal"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 1 and "crawl failed for hanging" in done.stderr, done.stderr
    assert rows["taizhou"]["status"] == "ok"
    hung = rows["hanging"]
    assert hung["status"] == "failed"
    assert hung["finding"].startswith("timed out: the crawl was stopped after 6 s"), hung
    runs = runs_of(database_url)
    assert (runs["hanging"].status, runs["hanging"].finding) == ("failed", hung["finding"])
    timeout = TIMEOUT_MINUTES * 60
    # Stopped at its timeout (give or take its closing and indexing), not after its downloads'
    # own 30-s timeouts and retries; and the portal after it started right then.
    hanging_for = runs["hanging"].finished_at - runs["hanging"].started_at
    assert timeout <= hanging_for.total_seconds() < timeout + 10
    waited = runs["taizhou"].started_at - runs["hanging"].started_at
    assert waited.total_seconds() < timeout + 10
    assert wall < 60


def test_a_failing_portal_fails_alone(replica_urls: dict[str, str], tmp_path: Path) -> None:
    # Beside the two replica portals, in one process: a portal whose host refuses connections
    # and one whose 年报 column moved (its entry point answers 404: the layout changed).
    urls = {p: replica_urls[p] for p in ("tongxiang", "taizhou")}
    config, database_url = write_config(tmp_path, urls, "portals_per_process = 4\n")
    text = portal_copy(
        config.read_text("utf-8"), "taizhou", "down", "http://127.0.0.1:9", urls["taizhou"]
    )
    moved = portal_copy(text, "tongxiang", "moved", urls["tongxiang"], urls["tongxiang"])
    start = moved.index('id = "moved"')
    moved = moved[:start] + moved[start:].replace("index.html", "moved-away.html", 1)
    config.write_text(moved, "utf-8")
    done = nianbao(config, "crawl", "--jobs", "1", "--json")
    rows = {row["portal"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 1, done.stderr
    assert "crawl failed for" in done.stderr and "Traceback" not in done.stderr
    assert {p: rows[p]["status"] for p in rows} == {
        "tongxiang": "ok",
        "taizhou": "ok",
        "down": "failed",
        "moved": "failed",
    }
    assert rows["down"]["finding"].startswith("the portal did not answer")
    assert "the 年报 listing" in rows["moved"]["finding"]
    runs = runs_of(database_url)
    assert {p: r.status for p, r in runs.items()} == {p: rows[p]["status"] for p in rows}


def test_a_304_brings_a_raised_delay_back_down_never_below_the_download_delay() -> None:
    # A nightly crawl's answers are 304s: with Scrapy's AutoThrottle one slow moment left a
    # host's delay raised for the rest of its crawl (only a 200 may lower it).
    from scrapy.core.downloader import Slot
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.batch import ConditionalAutoThrottle

    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "DOWNLOAD_DELAY": 1.0})
    throttle = ConditionalAutoThrottle(crawler)
    throttle.mindelay, throttle.maxdelay = 1.0, 60.0  # set when the spider opens
    slot = Slot(concurrency=1, delay=8.0, randomize_delay=False)
    for _ in range(10):
        throttle._adjust_delay(slot, 0.2, Response("http://h/a", status=304))
    assert slot.delay == 1.0
    error = Slot(concurrency=1, delay=8.0, randomize_delay=False)
    throttle._adjust_delay(error, 0.2, Response("http://h/a", status=500))
    assert error.delay == 8.0  # an error page still lowers nothing
