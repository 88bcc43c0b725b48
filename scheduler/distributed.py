"""Distributed crawls: workers on several machines share the night's portal queue in Redis.

The queue is Dramatiq's Redis broker, chosen for what happens when a worker dies mid-crawl. A
worker moves each message it takes into its own set of unacknowledged messages and acknowledges it
only when the crawl has ended; every call it makes to Redis (at least one a second, idle or busy)
refreshes its heartbeat. A worker silent for `heartbeat_seconds` is dead, and the next worker's
maintenance puts its unacknowledged messages back on the queue, so another worker crawls the
portal. RQ instead moves a dead worker's job to its failed-job registry (nobody crawls the portal
that night), and Celery on Redis redelivers an unacknowledged task after a visibility timeout
whether or not its worker is still alive and busy (a long crawl would be started twice).

Exclusion is not the queue's job: a redelivered message may meet the portal's lease still held by
its first delivery (`ops.leases`: a row in the archive's database that expires unless renewed,
taken over across machines only once expired). The lease's owner starts with the message's token,
so the redelivery knows its own earlier holding and comes back after the lease can have expired;
the crawl that takes the lease over closes the dead crawl's run as failed and indexes what it had
captured. A lease held by some other crawl (a manual one) means the portal is being crawled: the
message is done, as `nianbao crawl` skips such a portal.

One message per portal: (portal id, run kind, full, token). Each worker builds the crawl from its
own settings file, which names the same archive (PostgreSQL) and a blob directory all workers mount.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from archive.db import ArchiveUnavailable
from crawler.job import CrawlJob
from crawler.lease import crawl_lease
from crawler.process import CrawlStream
from ops.leases import LeaseHeld, LeaseTerms

if TYPE_CHECKING:  # Dramatiq and redis-py are imported when a queue is used, not by every command
    from dramatiq.brokers.redis import RedisBroker

ACTOR = "crawl_portal"
NAMESPACE = "nianbao"
POLL_MS = 1000  # how often an idle consumer asks Redis for work (and so beats its heart)
# An archive that cannot be reached when a portal's lease is taken: the portal goes back on the
# queue this much later, this many times, before the night gives it up (its log line says why).
UNREACHABLE_DELAY_MS = 30_000
UNREACHABLE_TRIES = 5
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueConfig:
    """The `[queue]` settings: the Redis server, the queue's name, and the failure timings.

    `heartbeat_seconds`: a worker silent this long is taken for dead and its portal requeued.
    `lease_seconds`: how long a portal lease lasts unrenewed (the workers renew it five times
    within that); a dead worker's portal is crawled again at most this long after its death.
    """

    url: str
    name: str = "crawls"
    heartbeat_seconds: float = 60.0
    lease_seconds: float = 300.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


@dataclass(frozen=True)
class CrawlRequest:
    """One message: a portal to crawl, how the run is recorded, and the message's own token."""

    portal: str
    kind: str = "nightly"
    full: bool = False
    token: str = ""

    def args(self) -> tuple[str, str, bool, str]:
        return (self.portal, self.kind, self.full, self.token or uuid.uuid4().hex)


def make_broker(config: QueueConfig) -> RedisBroker:
    """The Redis broker, without Dramatiq's default middleware: no retries of a failed crawl (its
    run row says why; the next night tries again) and no time limit (run_crawl has a timeout)."""
    from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

    # Maintenance (requeueing the dead's messages) runs on a random share of the calls; about two
    # chances per heartbeat period per polling worker keeps the wait near the heartbeat timeout.
    chance = min(1.0, 2 * POLL_MS / 1000 / config.heartbeat_seconds)
    return RedisBroker(
        url=config.url,
        middleware=[],
        namespace=NAMESPACE,
        heartbeat_timeout=int(config.heartbeat_seconds * 1000),
        maintenance_chance=max(1, int(chance * MAINTENANCE_SCALE)),
    )


def enqueue(config: QueueConfig, requests: Iterable[CrawlRequest]) -> list[str]:
    """Put one message per request on the queue; returns the message ids."""
    from dramatiq import Message

    broker = make_broker(config)
    try:
        broker.declare_queue(config.name)
        sent = []
        for request in requests:
            message: Message[None] = Message(
                queue_name=config.name,
                actor_name=ACTOR,
                args=request.args(),
                kwargs={},
                options={},
            )
            sent.append(broker.enqueue(message).message_id)
        return sent
    finally:
        broker.close()


JobFor = Callable[[str, str, bool], CrawlJob]


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs besides the queue: how to build a crawl job from a message (from its
    settings), where each crawl's log goes, and how long a crawl may run."""

    job_for: JobFor
    log_dir: Path
    timeout_seconds: float


def serve(config: QueueConfig, setup: WorkerSetup, jobs: int, stop: threading.Event) -> None:
    """Take portals off the queue and crawl them, `jobs` at a time side by side in one crawl
    process that lives as long as the worker, until `stop` is set; then finish the crawls under
    way (the ones cut short go back on the queue after the heartbeat)."""
    from dramatiq import Actor, Worker

    broker = make_broker(config)
    stream = CrawlStream(setup.log_dir)
    crawl = CrawlActor(config, setup, broker, stream)
    Actor(crawl, broker=broker, actor_name=ACTOR, queue_name=config.name, priority=0, options={})
    worker = Worker(broker, worker_threads=jobs, worker_timeout=POLL_MS)
    # No message waits in a busy worker's memory while another worker is idle.
    worker.queue_prefetch = jobs
    worker.start()
    log.info("worker %s on queue %r of %s", broker.broker_id, config.name, _safe(config.url))
    try:
        stop.wait()
    finally:
        worker.stop(timeout=int(setup.timeout_seconds * 1000))
        stream.close()
        broker.close()


class CrawlActor:
    """The actor: one portal's crawl in the worker's crawl process (`CrawlStream`), the lease
    held here, in the worker, and tied to the message."""

    def __init__(
        self, config: QueueConfig, setup: WorkerSetup, broker: RedisBroker, stream: CrawlStream
    ) -> None:
        self.config, self.setup, self.broker, self.stream = config, setup, broker, stream
        self.__name__ = ACTOR  # Dramatiq names actors after their function

    def __call__(self, portal: str, kind: str, full: bool, token: str, tries: int = 0) -> None:
        self.handle(portal, kind, full, token, tries)  # Dramatiq keeps no result: the run tells

    def handle(self, portal: str, kind: str, full: bool, token: str, tries: int = 0) -> str:
        """Crawl; returns ok, failed, skipped (another crawl holds the portal), later (our own
        dead delivery still holds it, or the archive could not be reached) or unknown (a portal
        our settings do not name)."""
        try:
            job = self.setup.job_for(portal, kind, full)
        except Exception as exc:  # a portal this worker's settings do not know: said, not retried
            log.error("%s: not crawled: %s", portal, exc)
            return "unknown"
        return self._crawl(job, token, tries)

    def _crawl(self, job: CrawlJob, token: str, tries: int) -> str:
        portal = job.portal.id
        terms = LeaseTerms(ttl=self.config.lease, token=token)
        crawling = False
        try:
            with crawl_lease(job, terms):
                crawling = True
                result = self.stream.crawl(job, self.setup.timeout_seconds)
        except LeaseHeld as busy:
            return self._busy(job, token, busy)
        except ArchiveUnavailable as exc:
            if crawling or tries + 1 >= UNREACHABLE_TRIES:
                raise
            log.warning("%s: %s; on the queue again in %d ms", portal, exc, UNREACHABLE_DELAY_MS)
            self._again(job, token, UNREACHABLE_DELAY_MS, tries + 1)
            return "later"
        if result.summary is None:
            log.error("%s: crawl failed: %s", portal, result.error or result.skipped)
            return "failed"
        summary = result.summary
        log.info("%s: run %s %s", portal, summary.run_id, summary.status)
        return summary.status

    def _busy(self, job: CrawlJob, token: str, busy: LeaseHeld) -> str:
        if not busy.owner.startswith(f"{token}/"):
            log.info("%s: skipped: %s", job.portal.id, busy)
            return "skipped"
        # Our own earlier delivery holds the lease: its worker died (or has lost Redis). Come
        # back when the lease can have expired, so that one crawl takes it over.
        delay = int(self.config.lease_seconds * 1000 / 2)
        log.warning(
            "%s: lease still held by this message's dead worker; again in %d ms",
            job.portal.id,
            delay,
        )
        self._again(job, token, delay, 0)
        return "later"

    def _again(self, job: CrawlJob, token: str, delay_ms: int, tries: int) -> None:
        """Put the portal back on the queue, `delay_ms` from now, under the same token."""
        from dramatiq import Message

        message: Message[None] = Message(
            queue_name=self.config.name,
            actor_name=ACTOR,
            args=(job.portal.id, job.kind, job.full, token),
            kwargs={"tries": tries} if tries else {},
            options={},
        )
        self.broker.enqueue(message, delay=delay_ms)


def _safe(url: str) -> str:
    """The Redis URL without its password, for the log."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"
