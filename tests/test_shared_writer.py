"""One archive writer per crawl process, shared by all its portals (crawler.pipeline.ArchiveWriter,
crawler.writer): a run's captures are committed before the writer says what it archived for the
run; a writer that dies fails the runs it served, each with one line naming the death, while a
portal that starts after it gets a writer of its own and crawls as usual. Real processes: the
writer over a pipe, crawl workers over loopback against the national replica (replica/national.py,
each answer after 50-60 ms, so that a portal's crawl lasts seconds)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from replica_fixtures import national_process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.captures import CaptureIn, dump_capture
from archive.db import make_engine, session_scope, upgrade
from archive.models import Capture, CrawlRun
from archive.runs import start_run
from crawler.job import CrawlJob, PortalResult, worker_line, write_jobs
from nianbao.settings import parse_settings
from replica import national, settings_for

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 3, 1, 2, 30, tzinfo=UTC)
DIED = "archive write failed: the archive writer died (exit code -9)"


def page(portal: str, n: int, run_id: int | None = None) -> CaptureIn:
    url = f"http://{portal}.example/{n}.html"
    return CaptureIn(
        portal=portal, url=url, final_url=url, status=200, headers=(),
        body=f"<html>{portal} {n}</html>".encode(), fetched_at=T0, kind="article",
        run_id=run_id,
    )  # fmt: skip


def test_the_writer_answers_for_a_run_once_its_captures_are_committed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        a, b = (start_run(session, portal, "nightly").id for portal in ("a", "b"))
    writer = subprocess.Popen(
        [sys.executable, "-m", "crawler.writer", url, str(tmp_path / "blobs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert writer.stdin is not None and writer.stdout is not None
    # Two portals' captures interleaved, as the portals of one crawl process send them.
    sent = io.BytesIO()
    for n in range(5):
        dump_capture(page("a", n, a), sent)
        if n < 3:
            dump_capture(page("b", n, b), sent)
    writer.stdin.write(sent.getvalue() + f"end {a}\n".encode())
    writer.stdin.flush()
    answer = json.loads(writer.stdout.readline())
    # Answered while the writer still runs (its stdin open): the rows are there already.
    with Session(engine) as session:
        rows = dict(
            session.execute(select(Capture.run_id, func.count()).group_by(Capture.run_id)).all()
        )
    assert answer["run"] == a and answer["counts"]["nianbao/captures"] == 5
    assert answer["counts"]["nianbao/outcome/ok"] == 5 and rows[a] == 5
    writer.stdin.write(f"end {b}\n".encode())
    writer.stdin.close()
    answers = [json.loads(line) for line in writer.stdout]
    assert writer.wait(timeout=30) == 0
    assert answers[0] == {"run": b, "counts": answers[0]["counts"]}
    assert answers[0]["counts"]["nianbao/captures"] == 3
    assert answers[1]["fault"] is None and answers[1]["counts"]["nianbao/captures"] == 8
    engine.dispose()


def test_the_writer_ends_on_what_is_neither_capture_nor_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crawler.writer", f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path)],
        input=b"drop table captures\n",
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert json.loads(done.stdout) == {"counts": {}, "fault": None}
    assert b"neither a capture nor a command" in done.stderr


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with national_process(3, (0.05, 0.06)) as found:
        yield found


def writers_of(pid: int) -> list[int]:
    """The archive writers among `pid`'s children, now."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"crawler.writer" in argv:
                found.append(int(child))
    return found


def test_a_writer_killed_fails_the_runs_it_served_and_the_next_portal_gets_a_new_one(
    urls: dict[str, str], tmp_path: Path
) -> None:
    national.register(len(urls))
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    text = settings_for(urls, database_url, str(tmp_path / "blobs"))
    # Two portals at once: the third starts once one of them has ended.
    text = text.replace("[crawler]\n", "[crawler]\nportals_per_process = 2\n", 1)
    settings = parse_settings(tomllib.loads(text), tmp_path / "settings.toml")
    jobs = [
        CrawlJob(p, settings.crawler, settings.archive, settings.publishers)
        for p in settings.portals
    ]
    # Migrated first, as `nianbao crawl` does before its portals open the archive side by side
    # (two portals migrating a fresh SQLite file at once can wait past the busy timeout).
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    worker = subprocess.Popen(
        [sys.executable, "-m", "crawler.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(write_jobs(jobs).encode())
    worker.stdin.close()
    # Once both first portals have pages crawled (the worker's progress line says so), the
    # writer serving them is killed.
    crawling: dict[str, int] = {}
    while len(crawling) < 2:
        said = worker_line(worker.stdout.readline().decode())
        assert not isinstance(said, PortalResult), said
        crawling.update(said.pages)
    (first_writer,) = writers_of(worker.pid)
    os.kill(first_writer, signal.SIGKILL)
    results = {}
    for line in worker.stdout:
        said = worker_line(line.decode())
        if isinstance(said, PortalResult):
            results[said.portal] = said
    assert worker.wait(timeout=60) == 1
    stderr = worker.stderr.read().decode() if worker.stderr else ""
    assert stderr.strip().splitlines()[-1] == DIED
    served, later = sorted(crawling), ({"n0000", "n0001", "n0002"} - set(crawling)).pop()
    assert {p: results[p].error for p in served} == {p: DIED for p in served}
    summary = results[later].summary
    assert summary is not None and summary.status == "ok" and summary.pages > 60, results[later]
    engine = make_engine(database_url)
    with Session(engine) as session:
        runs = {run.portal: run for run in session.scalars(select(CrawlRun))}
    engine.dispose()
    assert {p: (runs[p].status, runs[p].finding) for p in served} == {
        p: ("failed", DIED) for p in served
    }
    assert runs[later].status == "ok"


def test_no_writer_is_left_behind(urls: dict[str, str], tmp_path: Path) -> None:
    # A batch's writer ends with its crawl process: none outlives it as an orphan.
    national.register(len(urls))
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    text = settings_for({"n0000": urls["n0000"]}, database_url, str(tmp_path / "blobs"))
    settings = parse_settings(tomllib.loads(text), tmp_path / "settings.toml")
    job = CrawlJob(settings.portals[0], settings.crawler, settings.archive, settings.publishers)
    worker = subprocess.Popen(
        [sys.executable, "-m", "crawler.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(write_jobs([job]).encode())
    worker.stdin.close()
    writers: list[int] = []
    deadline = time.monotonic() + 60
    while not writers and time.monotonic() < deadline:
        writers = writers_of(worker.pid)
        time.sleep(0.02)
    (result,) = [worker_line(line.decode()) for line in worker.stdout if b'"result"' in line]
    assert worker.wait(timeout=60) == 0
    assert isinstance(result, PortalResult) and result.summary is not None
    assert writers and not Path(f"/proc/{writers[0]}").exists()
