"""`nianbao schedule --once` (for cron users): what is due runs once, however many slots it missed;
a slot older than the grace is recorded as missed, never dropped silently. On SQLite; the portal
is unreachable, so each crawl fails fast (and is recorded as failed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from schedule_support import engine_for, nianbao, scheduled, write_settings
from sqlalchemy import Engine

from nianbao.settings import load_settings
from scheduler.service import JOBS_TABLE, job_specs, sync_jobs

UNREACHABLE = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}


def stored_due(engine: Engine, config: Path, late_by: timedelta) -> None:
    """The jobs of `config` as a scheduler stores them, tongxiang's due `late_by` ago: as if the
    scheduler had been down since then."""
    settings = load_settings(config)
    scheduler = BackgroundScheduler(timezone="UTC")
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    store.start(scheduler, "default")
    grace = settings.scheduler.misfire_grace_seconds
    sync_jobs(scheduler, store, job_specs(settings.scheduler, ("tongxiang", "taizhou")), grace)
    job = store.lookup_job("crawl:tongxiang")
    assert job is not None and store.lookup_job("crawl:taizhou") is None  # switched off
    job.next_run_time = datetime.now(UTC) - late_by
    store.update_job(job)


def test_once_runs_a_due_crawl_once_and_records_a_missed_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = engine_for(url)
    hourly = 'overrides = { taizhou = "off" }\n'
    tight = write_settings(
        tmp_path,
        UNREACHABLE,
        url,
        "0 0 * * * *",
        extra_scheduler=hourly + "misfire_grace_hours = 0.0003\n",
    )

    stored_due(engine, tight, timedelta(minutes=3))
    late = nianbao(tight, "schedule", "--once")
    assert late.returncode == 0 and "0 crawl(s) due" in late.stdout, late.stderr
    (missed,) = scheduled(engine)
    assert (missed.portal, missed.outcome, missed.exit_code) == ("tongxiang", "missed", None)

    # Every minute, with hours of grace: three missed minutes make one crawl.
    minutely = write_settings(tmp_path, UNREACHABLE, url, "0 * * * * *", extra_scheduler=hourly)
    stored_due(engine, minutely, timedelta(minutes=3, seconds=10))
    due = nianbao(minutely, "schedule", "--once")
    assert due.returncode == 1 and "1 crawl(s) due: 1 failed" in due.stdout, due.stdout + due.stderr
    records = scheduled(engine)
    ran = [r for r in records if r.outcome != "missed"]
    assert len(ran) == 1 and ran[0].portal == "tongxiang" and ran[0].outcome == "failed"
    slot = ran[0].scheduled_for
    assert slot is not None and slot.second == 0 and ran[0].started_at - slot < timedelta(minutes=1)
    assert ran[0].exit_code == 1 and ran[0].log_path and Path(ran[0].log_path).is_file()
    engine.dispose()
