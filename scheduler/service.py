"""`nianbao schedule`: APScheduler 3 with its jobs persisted in the archive database.

Each scheduled portal is one job: `max_instances=1`, `coalesce=True` and a misfire grace of hours
(APScheduler's default is one second, which silently drops a crawl that starts a little late). The
job store keeps each job's next run time, so after downtime over a slot the missed crawl runs once
when the scheduler comes back: APScheduler coalesces the missed run times into the latest one.
The jobs fired together (the night's portals) are crawled as one batch (scheduler.jobs.Batcher);
`--once` crawls every due portal in one batch.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from archive.db import session_scope
from ops.health import finish_scheduled, mark_lost, start_scheduled
from ops.leases import ident_alive
from scheduler import jobs
from scheduler.alerts import deliver
from scheduler.config import SchedulerConfig, zone

JOBS_TABLE = "scheduler_jobs"  # in archive.models.EXTERNAL_TABLES: migrations leave it alone
JOB_PREFIX = "crawl:"
HEARTBEAT_SECONDS = 60
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """One portal's job as settings want it; `signature` tells whether the stored job is stale."""

    portal: str
    trigger: CronTrigger
    signature: str

    @property
    def job_id(self) -> str:
        return JOB_PREFIX + self.portal


def job_specs(config: SchedulerConfig, portals: tuple[str, ...]) -> list[JobSpec]:
    """A job per portal that is not switched off."""
    specs = []
    for portal in portals:
        trigger = config.trigger_for(portal)
        if trigger is not None:
            signature = (
                f"{config.cron_for(portal)} {config.timezone} jitter={config.jitter_seconds}s "
                f"grace={config.misfire_grace_hours}h"
            )
            specs.append(JobSpec(portal, trigger, signature))
    return specs


class SlotExecutor(ThreadPoolExecutor):
    """A thread pool that tells the job which run time it was fired for, so the record of a
    catch-up run names the slot it makes up for."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def run(*args: Any) -> Any:
            jobs.set_slot(run_times[-1])
            try:
                return run_job(*args)
            finally:
                jobs.set_slot(None)

        def done(future: Any) -> None:
            error = future.exception()
            if error is None:
                self._run_job_success(job.id, future.result())
            else:
                self._run_job_error(job.id, error, error.__traceback__)

        future = self._pool.submit(run, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(done)


def build(rt: jobs.Runtime) -> tuple[BlockingScheduler, SQLAlchemyJobStore]:
    """A scheduler on the archive's job store, its jobs in sync with settings."""
    store = SQLAlchemyJobStore(engine=rt.engine, tablename=JOBS_TABLE)
    grace = rt.config.misfire_grace_seconds
    scheduler = BlockingScheduler(
        jobstores={"default": store, "local": MemoryJobStore()},
        executors={"default": SlotExecutor(max(2, len(rt.portals) + 1))},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": grace},
        timezone=zone(rt.config.timezone),
    )
    store.start(scheduler, "default")
    sync_jobs(scheduler, store, job_specs(rt.config, rt.portals), grace)
    return scheduler, store


def sync_jobs(
    scheduler: BaseScheduler, store: SQLAlchemyJobStore, specs: list[JobSpec], grace: int
) -> dict[str, str]:
    """Bring the stored jobs in line with settings. A job whose settings did not change is kept
    as stored, with its next run time: that is what makes a missed slot run after a restart."""
    existing = {job.id: job for job in store.get_all_jobs() if job.id.startswith(JOB_PREFIX)}
    now = datetime.now(UTC)
    changes = {}
    for spec in specs:
        old = existing.pop(spec.job_id, None)
        if old is not None and old.name == spec.signature:
            changes[spec.portal] = "kept"
            continue
        job = Job(
            scheduler,
            id=spec.job_id,
            func=jobs.crawl_portal,
            args=(spec.portal,),
            kwargs={},
            name=spec.signature,
            trigger=spec.trigger,
            executor="default",
            misfire_grace_time=grace,
            coalesce=True,
            max_instances=1,
            next_run_time=spec.trigger.get_next_fire_time(None, now),
        )
        changes[spec.portal] = _put(store, job, replace=old is not None)
    for job_id in existing:
        store.remove_job(job_id)
        changes[job_id.removeprefix(JOB_PREFIX)] = "removed"
    return changes


def _put(store: SQLAlchemyJobStore, job: Job, replace: bool) -> str:
    if not replace:
        try:
            store.add_job(job)
            return "added"
        except ConflictingIdError:  # another scheduler added it a moment ago
            pass
    store.update_job(job)
    return "updated"


def run_forever(rt: jobs.Runtime) -> None:
    """Run until SIGTERM or SIGINT, beating every minute; the crawls it started are stopped."""
    scheduler, _ = _start(rt)
    scheduler.add_job(
        jobs.heartbeat,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        id="heartbeat",
        jobstore="local",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=HEARTBEAT_SECONDS,
    )
    scheduler.add_listener(_missed, EVENT_JOB_MISSED)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler and its crawls", signum)
        jobs.terminate_children()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()


def run_once(rt: jobs.Runtime) -> list[str]:
    """Run the crawls that are due (each missed slot once, within the grace), then return."""
    _, store = _start(rt)
    jobs.heartbeat()
    now = datetime.now(UTC)
    due: list[tuple[str, datetime | None]] = []
    for job in store.get_due_jobs(now):
        slot = _latest_slot(job, now)
        job.next_run_time = job.trigger.get_next_fire_time(slot, now)
        store.update_job(job)  # claimed first, as APScheduler does, so a crash does not repeat it
        if now - slot > timedelta(seconds=job.misfire_grace_time):
            _record_missed(job.id, slot)
            continue
        due.append((job.args[0], slot))
    outcomes = list(jobs.crawl_batch(rt, due).values()) if due else []  # one batch, at once
    deliver(rt.engine, rt.notifier)
    return outcomes


def _start(rt: jobs.Runtime) -> tuple[BlockingScheduler, SQLAlchemyJobStore]:
    jobs.install(rt)
    with session_scope(rt.engine) as session:
        lost = mark_lost(session, ident_alive, datetime.now(UTC))
    if lost:
        log.warning("%d scheduled crawl(s) of a scheduler that died are recorded as lost", lost)
    scheduler, store = build(rt)
    log.info(
        "scheduling %s",
        ", ".join(f"{j.id} next at {j.next_run_time}" for j in store.get_all_jobs()) or "nothing",
    )
    return scheduler, store


def _latest_slot(job: Job, now: datetime) -> datetime:
    slot = job.next_run_time
    while (following := job.trigger.get_next_fire_time(slot, now)) and following <= now:
        slot = following
    return slot


def _missed(event: JobExecutionEvent) -> None:
    _record_missed(event.job_id, event.scheduled_run_time)


def _record_missed(job_id: str, slot: datetime) -> None:
    """A slot later than the grace is not run, but it is recorded, never silently dropped."""
    if not job_id.startswith(JOB_PREFIX):
        return
    rt, now = jobs.current(), datetime.now(UTC)
    portal = job_id.removeprefix(JOB_PREFIX)
    log.warning("%s: the crawl due at %s was missed by more than the grace", portal, slot)
    with session_scope(rt.engine) as session:
        row = start_scheduled(session, portal, "nightly", slot, rt.ident, None, now)
        finish_scheduled(session, row, "missed", None, None, now)
