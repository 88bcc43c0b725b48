"""The scheduler fires the portals due together as one batch (scheduler.jobs.Batcher), one
`nianbao crawl … --jobs N --json` for them all, and records each portal's outcome and run from the
JSON line that crawl printed for it (no longer from its human output)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from replica_fixtures import replica_process
from schedule_support import engine_for, nianbao, query, scheduled, write_settings
from sqlalchemy import select

from archive.models import CrawlRun
from nianbao.settings import load_settings
from scheduler.jobs import Batcher
from scheduler.service import JOBS_TABLE, job_specs, sync_jobs


def test_jobs_fired_within_the_window_are_one_batch() -> None:
    batches: list[list[str]] = []

    def run(due: list[tuple[str, datetime | None]]) -> dict[str, str]:
        batches.append([portal for portal, _ in due])
        return {portal: f"ok:{portal}" for portal, _ in due}

    batcher = Batcher(0.5, run)
    slot = datetime.now(UTC)
    results: dict[str, str] = {}

    def job(portal: str) -> None:  # as APScheduler's threads run each portal's job
        results[portal] = batcher.submit(portal, slot).result(timeout=10)

    first = [threading.Thread(target=job, args=(p,)) for p in ("a", "b", "c")]
    for thread in first:
        thread.start()
    for thread in first:
        thread.join()
    job("d")  # after the first window closed: a batch of its own
    assert batches == [["a", "b", "c"], ["d"]] or sorted(batches[0]) == ["a", "b", "c"]
    assert len(batches) == 2 and batches[1] == ["d"]
    assert results == {p: f"ok:{p}" for p in "abcd"}


def test_once_crawls_the_due_portals_in_one_batch_and_reads_their_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = engine_for(url)
    with replica_process() as urls:
        # taizhou answers; tongxiang's host refuses every connection: its run fails alone.
        urls = {"taizhou": urls["taizhou"], "tongxiang": "http://127.0.0.1:9"}
        config = write_settings(tmp_path, urls, url, "0 * * * * *")
        text = config.read_text("utf-8").replace("[crawler]\n", "[crawler]\nretries = 0\n", 1)
        config.write_text(text, "utf-8")
        settings = load_settings(config)
        scheduler = BackgroundScheduler(timezone="UTC")
        store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        store.start(scheduler, "default")
        grace = settings.scheduler.misfire_grace_seconds
        sync_jobs(scheduler, store, job_specs(settings.scheduler, tuple(urls)), grace)
        for portal in urls:  # both due a minute ago, as after a short downtime
            job = store.lookup_job(f"crawl:{portal}")
            assert job is not None
            job.next_run_time = datetime.now(UTC) - timedelta(minutes=1)
            store.update_job(job)
        started = time.monotonic()
        done = nianbao(config, "schedule", "--once")
        assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stderr
    assert "2 crawl(s) due: 1 failed, 1 ok" in done.stdout, done.stdout + done.stderr
    records = {r.portal: r for r in scheduled(engine)}
    runs = query(engine, lambda s: {r.portal: r for r in s.scalars(select(CrawlRun))})
    ok, failed = records["taizhou"], records["tongxiang"]
    assert (ok.outcome, ok.exit_code, ok.run_id) == ("ok", 0, runs["taizhou"].id)
    assert (failed.outcome, failed.exit_code) == ("failed", 1)
    assert failed.run_id == runs["tongxiang"].id and runs["tongxiang"].status == "failed"
    assert {runs[p].kind for p in runs} == {"nightly"}
    # One batch: one crawl, one log, started at once.
    assert ok.log_path == failed.log_path and ok.started_at == failed.started_at
    assert ok.log_path is not None
    log = Path(ok.log_path).read_text("utf-8")
    lines = [line for line in log.splitlines() if line.startswith('{"')]
    printed = {row["portal"]: row for row in map(json.loads, lines) if "portal" in row}
    assert {p: printed[p]["run_id"] for p in printed} == {p: runs[p].id for p in runs}
    engine.dispose()
