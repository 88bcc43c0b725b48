"""`nianbao schedule` for real: a scheduler process whose trigger fires seconds apart spawns real
`nianbao crawl` subprocesses against the replica, records them, survives being killed, and
shares the archive with a second scheduler and a manual crawl without two crawls of one portal.

Each long test runs on one backend (catch-up on SQLite, concurrency on PostgreSQL) to keep the
suite fast; the lease and the records they rely on are tested on both in test_schedule_units.py.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from replica_fixtures import replica_process
from schedule_support import (
    background,
    database_for,
    engine_for,
    nianbao,
    query,
    scheduled,
    sleep_until,
    stop,
    wait_for,
    write_settings,
)
from sqlalchemy import Engine, select

from archive.models import CrawlRun, ScheduledCrawl, SchedulerHeartbeat
from ops.leases import SKIPPED_EXIT_CODE

PERIOD = 5  # seconds between slots
T = TypeVar("T")
SLOW = "download_delay = 0.03\nautothrottle = false\n"


@pytest.fixture(scope="module")
def replica() -> Iterator[dict[str, str]]:
    with replica_process() as urls:
        yield urls


def _of(engine: Engine, pid: int) -> list[ScheduledCrawl]:
    """The crawls the scheduler process `pid` started."""
    return [r for r in scheduled(engine) if r.scheduler.endswith(f":{pid}")]


def test_a_missed_slot_runs_once_after_a_restart(
    replica: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_for("sqlite", request, tmp_path)
    config = write_settings(tmp_path, {"taizhou": replica["taizhou"]}, url, f"*/{PERIOD} * * * * *")
    engine = engine_for(url)
    with background(config, "schedule", log=tmp_path / "first.log") as first:
        wait_for(
            "a scheduled crawl to finish",
            lambda: [r for r in scheduled(engine) if r.outcome == "ok"],
            40,
        )
        first.send_signal(signal.SIGKILL)  # a crash: no chance to tidy up
        first.wait(timeout=10)
    killed = time.time()
    done_before = scheduled(engine)

    # Stay down over at least two slots, and come back one second after a slot.
    restart = (int(killed) // PERIOD + 3) * PERIOD + 1.0
    sleep_until(restart)
    with background(config, "schedule", log=tmp_path / "second.log") as second:
        wait_for(
            "the catch-up crawl to finish",
            lambda: [r for r in _of(engine, second.pid) if r.outcome not in ("running", "lost")],
            40,
        )
        stop(second)
    assert int(restart // PERIOD) - int(killed // PERIOD) >= 2  # slots missed while down
    assert all(r.started_at.timestamp() < killed for r in done_before)  # nothing ran while down

    # A catch-up run is one for a slot that passed before the scheduler was up again.
    (beat,) = [b for b in _rows(engine, SchedulerHeartbeat) if b.pid == second.pid]
    mine = _of(engine, second.pid)
    catch_up = [r for r in mine if r.scheduled_for and r.scheduled_for < beat.started_at]
    assert len(catch_up) == 1, [(r.scheduled_for, r.started_at, r.outcome) for r in mine]
    (row,) = catch_up
    assert row.scheduled_for is not None and killed < row.scheduled_for.timestamp()
    assert row.started_at - row.scheduled_for > timedelta(seconds=1)  # it ran late, once
    assert row.outcome == "ok" and row.exit_code == 0
    assert row.log_path and Path(row.log_path).is_file()

    # Every ok record names its nightly run; the run the kill interrupted (if any) was closed.
    runs = query(engine, lambda s: {r.id: r for r in s.scalars(select(CrawlRun))})
    for rec in scheduled(engine):
        if rec.outcome == "ok":
            assert rec.run_id is not None and runs[rec.run_id].kind == "nightly"
            assert runs[rec.run_id].status == "ok"
    assert all(r.status != "running" for r in runs.values())
    assert not [r for r in done_before if r.outcome == "running"] or any(
        r.outcome == "lost" for r in scheduled(engine)
    )
    engine.dispose()


def _rows(engine: Engine, model: type[T]) -> list[T]:
    return query(engine, lambda s: list(s.scalars(select(model))))


def _finished(engine: Engine, **least: int) -> bool:
    runs = [r for r in _rows(engine, CrawlRun) if r.status != "running"]
    return all(sum(r.portal == p for r in runs) >= n for p, n in least.items())


def _overlaps(runs: list[CrawlRun]) -> list[tuple[int, int]]:
    spans = sorted(
        (r.started_at, r.finished_at or datetime.max.replace(tzinfo=UTC), r.id) for r in runs
    )
    return [(a[2], b[2]) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]


def test_two_schedulers_and_a_manual_crawl_never_crawl_one_portal_twice_at_once(
    replica: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_for("postgresql", request, tmp_path)
    config = write_settings(tmp_path, {"taizhou": replica["taizhou"]}, url, f"*/{PERIOD} * * * * *")
    # A little politeness makes each crawl last seconds, long enough to start a manual one inside.
    config.write_text(config.read_text("utf-8").replace("download_delay = 0\n", SLOW, 1), "utf-8")
    engine = engine_for(url)
    with (
        background(config, "schedule", log=tmp_path / "a.log"),
        background(config, "schedule", log=tmp_path / "b.log"),
    ):
        wait_for("both schedulers to beat", lambda: len(_rows(engine, SchedulerHeartbeat)) == 2, 30)
        busy = wait_for(
            "a scheduled crawl of taizhou to be under way",
            lambda: [
                r for r in _rows(engine, CrawlRun) if (r.portal, r.status) == ("taizhou", "running")
            ],
            30,
            every=0.1,
        )[0]
        manual = nianbao(config, "crawl", "taizhou")
        assert manual.returncode == SKIPPED_EXIT_CODE, manual.stderr
        assert "taizhou: skipped" in manual.stdout and "being crawled" in manual.stdout
        wait_for("two finished crawls", lambda: _finished(engine, taizhou=2), 60)
    assert busy.kind == "nightly"
    runs = _rows(engine, CrawlRun)
    assert not _overlaps(runs)
    records = scheduled(engine)
    assert all(r.outcome in ("ok", "skipped", "interrupted", "lost", "failed") for r in records)
    assert not [r for r in records if r.outcome == "failed"], [
        (r.portal, r.exit_code) for r in records
    ]
    engine.dispose()
