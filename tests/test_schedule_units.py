"""The portal lease, the scheduler's settings and its job store, without crawling anything."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from archive.db import session_scope
from archive.models import EXTERNAL_TABLES, Base, CrawlRun, PortalLease, include_object
from archive.runs import start_run
from nianbao.errors import SettingsError
from nianbao.progress import progress
from nianbao.settings import parse_settings
from ops.leases import (
    ORPHAN_FINDING,
    Holder,
    LeaseHeld,
    acquire,
    portal_lease,
    release,
    renew,
)
from replica import settings_for
from scheduler.config import SchedulerConfig, cron_trigger
from scheduler.service import JOBS_TABLE, job_specs, sync_jobs

NOW = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_held_lease_refuses_a_second_crawl_until_released(engine: Engine) -> None:
    first, second = Holder.me("nightly"), Holder.me("manual")
    with session_scope(engine) as session:
        assert acquire(session, "tongxiang", first, NOW) is None
    with pytest.raises(LeaseHeld) as held, session_scope(engine) as session:
        acquire(session, "tongxiang", second, NOW)
    assert "tongxiang is being crawled" in str(held.value) and "nightly crawl" in str(held.value)
    with session_scope(engine) as session:
        assert acquire(session, "taizhou", second, NOW) is None  # another portal is free
        assert renew(session, "tongxiang", first, NOW + timedelta(minutes=1))
        assert not renew(session, "tongxiang", second, NOW)
        release(session, "tongxiang", first)
        assert acquire(session, "tongxiang", second, NOW) is None


def test_a_dead_or_expired_holder_is_taken_over(engine: Engine) -> None:
    dead = Holder("token-of-the-dead", Holder.me("nightly").host, dead_pid(), "nightly")
    far = Holder("elsewhere", "another-host", 1, "nightly")
    with session_scope(engine) as session:
        acquire(session, "tongxiang", dead, NOW)
        acquire(session, "taizhou", far, NOW)
    with session_scope(engine) as session:
        taken = acquire(session, "tongxiang", Holder.me("manual"), NOW)
        assert taken is not None and taken.owner == "token-of-the-dead"
    with pytest.raises(LeaseHeld), session_scope(engine) as session:
        acquire(session, "taizhou", Holder.me("manual"), NOW)  # alive as far as we can tell
    with session_scope(engine) as session:
        later = NOW + timedelta(minutes=6)  # past the lease's expiry
        assert acquire(session, "taizhou", Holder.me("manual"), later) is not None


def test_of_many_asking_at_once_exactly_one_gets_the_lease(engine: Engine) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                acquire(session, "tongxiang", Holder.me("nightly"), datetime.now(UTC))
            results.append("got")
        except LeaseHeld:
            results.append("held")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["got"] + ["held"] * 5


def test_the_lease_closes_a_dead_crawls_run(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        orphan = start_run(session, "tongxiang", "nightly").id
        acquire(
            session, "tongxiang", Holder("dead", Holder.me("x").host, dead_pid(), "nightly"), NOW
        )
    with portal_lease(database_url, "tongxiang", "manual"):
        with pytest.raises(LeaseHeld), portal_lease(database_url, "tongxiang", "nightly"):
            pass
        with session_scope(engine) as session:
            run = session.get_one(CrawlRun, orphan)
            assert (run.status, run.finding) == ("failed", ORPHAN_FINDING)
    with session_scope(engine) as session:
        assert session.scalars(select(PortalLease)).all() == []  # released


def test_crontab_weekdays_and_seconds() -> None:
    monday = cron_trigger("30 2 * * 1", "Asia/Shanghai")
    fire = monday.get_next_fire_time(None, datetime(2025, 3, 8, tzinfo=UTC))  # a Saturday
    assert fire is not None and (fire.weekday(), fire.hour, fire.minute) == (0, 2, 30)
    weekdays = cron_trigger("0 3 * * 1-5", "UTC")
    assert "mon,tue,wed,thu,fri" in str(weekdays)
    every = cron_trigger("*/10 * * * * *", "UTC")
    first = every.get_next_fire_time(None, NOW)
    assert first is not None and every.get_next_fire_time(first, first) == first + timedelta(
        seconds=10
    )


def _settings(tmp_path: Path, scheduler: str, alerts: str = "") -> None:
    text = settings_for({"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"})
    text = text.replace('nightly = "30 2 * * *"\n', scheduler + "\n")
    parse_settings(tomllib.loads(text + alerts), tmp_path / "s.toml")


@pytest.mark.parametrize(
    ("scheduler", "alerts", "words"),
    [
        ('nightly = "30 25 * * *"', "", ["cron expression", "30 25"]),
        ('nightly = "* * *"', "", ["5 fields"]),
        ('nightly = "30 2 * * *"\nmisfire_grace = 3', "", ["misfire_grace"]),
        ('nightly = "30 2 * * *"\noverrides = { nowhere = "off" }', "", ["nowhere"]),
        ('nightly = "30 2 * * *"\nmisfire_grace_hours = -1', "", ["misfire_grace_hours"]),
        ('nightly = "30 2 * * *"', '\n[alerts]\ntargets = ["not a url"]', ["not a url"]),
        ('nightly = "30 2 * * *"', "\n[alerts]\nfailed_run = 2", ["failed_run"]),
    ],
)
def test_bad_scheduler_and_alert_settings_are_rejected_by_name(
    tmp_path: Path, scheduler: str, alerts: str, words: list[str]
) -> None:
    with pytest.raises(SettingsError) as error:
        _settings(tmp_path, scheduler, alerts)
    assert all(w in str(error.value) for w in words), str(error.value)


def test_per_portal_overrides_and_off() -> None:
    config = SchedulerConfig(overrides={"taizhou": "off", "tongxiang": "0 4 * * *"})
    specs = job_specs(config, ("tongxiang", "taizhou"))
    assert [s.portal for s in specs] == ["tongxiang"]
    assert "hour='4'" in str(specs[0].trigger)


def test_stored_jobs_keep_their_next_run_time_unless_settings_change(engine: Engine) -> None:
    """What makes a catch-up happen: a restart must not reset a job's next run time."""
    scheduler = BackgroundScheduler(timezone="UTC")
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    store.start(scheduler, "default")
    config = SchedulerConfig(nightly="30 2 * * *", jitter_seconds=0, timezone="UTC")
    assert sync_jobs(scheduler, store, job_specs(config, ("tongxiang", "taizhou")), 3600) == {
        "tongxiang": "added",
        "taizhou": "added",
    }
    job = store.lookup_job("crawl:tongxiang")
    assert (
        job is not None
        and job.misfire_grace_time == 3600
        and job.coalesce
        and job.max_instances == 1
    )
    job.next_run_time = NOW - timedelta(days=2)  # as if the scheduler had been down two nights
    store.update_job(job)

    changes = sync_jobs(scheduler, store, job_specs(config, ("tongxiang",)), 3600)
    assert changes == {"tongxiang": "kept", "taizhou": "removed"}
    kept = store.lookup_job("crawl:tongxiang")
    assert kept is not None and kept.next_run_time == NOW - timedelta(days=2)

    moved = SchedulerConfig(nightly="0 4 * * *", jitter_seconds=0, timezone="UTC")
    assert sync_jobs(scheduler, store, job_specs(moved, ("tongxiang",)), 3600) == {
        "tongxiang": "updated"
    }
    updated = store.lookup_job("crawl:tongxiang")
    assert updated is not None and updated.next_run_time > datetime.now(UTC)


def test_the_job_store_table_is_left_out_of_the_migrations(engine: Engine) -> None:
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    store.start(BackgroundScheduler(), "default")
    assert JOBS_TABLE in EXTERNAL_TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with progress("backfill tongxiang", total=3) as bar:  # stderr is captured: not a terminal
        bar.update(1, "module 2019: ok")
        bar.update(3, "listing: ok")
    assert capsys.readouterr().err.splitlines() == [
        "backfill tongxiang: 1/3 module 2019: ok",
        "backfill tongxiang: 3/3 listing: ok",
    ]
    screen = Terminal()
    with progress("backfill tongxiang", total=3, stream=screen) as bar:
        bar.update(2, "module 2020: ok")
    drawn = screen.getvalue()
    assert "backfill tongxiang" in drawn and "module 2020: ok" in drawn and "2/3" in drawn
    assert "━" in drawn
