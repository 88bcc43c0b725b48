"""`nianbao worker` and `nianbao crawl --queue`: crawls shared by workers on several machines."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from types import FrameType

import click

from archive.clock import LogFormatter
from crawler.config import PortalConfig
from crawler.job import CrawlJob
from nianbao.clikit import Context, pass_ctx
from nianbao.errors import NianbaoError
from nianbao.settings import Settings
from scheduler.distributed import CrawlRequest, QueueConfig, WorkerSetup, enqueue, serve


def queue_of(settings: Settings) -> QueueConfig:
    """The `[queue]` settings, or a one-line error saying they are needed."""
    if settings.queue is None:
        raise NianbaoError(
            f'{settings.path}: no [queue] table: set [queue] url = "redis://HOST:6379/0"'
        )
    return settings.queue


def enqueue_portals(
    settings: Settings, portals: list[PortalConfig], kind: str, full: bool, as_json: bool = False
) -> None:
    """`nianbao crawl --queue`: one message per portal, for the workers to crawl. With --json a
    line per portal, status `queued` (the scheduler reads them as it reads crawls' lines)."""
    config = queue_of(settings)
    requests = [CrawlRequest(p.id, kind, full) for p in portals]
    try:
        enqueue(config, requests)
    except Exception as exc:  # redis-py's connection and auth errors: one line, not a traceback
        raise NianbaoError(f"cannot reach the queue at {config.url}: {_first_line(exc)}") from None
    if as_json:
        for p in portals:
            click.echo(
                json.dumps({"portal": p.id, "kind": kind, "status": "queued", "run_id": None})
            )
        return
    click.echo(f"queued {len(requests)} portal(s) on {config.name!r}: {_names(portals)}")


@click.command()
@click.option(
    "--jobs",
    type=click.IntRange(1, 1000),
    default=None,
    help="Portals this worker crawls at once, side by side in its one crawl process, and so the "
    "messages it takes off the queue at a time.  [default: [crawler] portals_per_process]",
)
@pass_ctx
def worker(obj: Context, jobs: int | None) -> None:
    """Crawl the portals put on the [queue] (by `nianbao crawl --queue` or the scheduler), until
    Ctrl-C or SIGTERM, which let the crawls under way finish.

    Every worker's settings name the same PostgreSQL archive and a blob_dir all workers mount.
    A worker that dies mid-crawl: after [queue] heartbeat_seconds its portal goes back on the
    queue, and another worker crawls it once the portal's lease (lease_seconds) has expired.

    Example: nianbao worker --jobs 50
    """
    settings = obj.settings
    jobs = jobs or settings.crawler.portals_per_process
    config = queue_of(settings)
    with obj.session():
        pass  # migrated, and the registry synced once here rather than by racing crawls
    handler = logging.StreamHandler()
    handler.setFormatter(LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for name in ("dramatiq", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)  # their chatter, not our crawls
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    setup = WorkerSetup(
        job_for=lambda portal, kind, full: _job(settings, portal, kind, full),
        log_dir=settings.scheduler.log_dir,
        timeout_seconds=settings.scheduler.timeout_hours * 3600,
    )
    click.echo(f"worker: {jobs} portal(s) at a time from {config.name!r}", err=True)
    serve(config, setup, jobs, stop)
    sys.stdout.flush()


def _job(settings: Settings, portal: str, kind: str, full: bool) -> CrawlJob:
    return CrawlJob(
        portal=settings.portal(portal),
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
        kind=kind,
        full=full,
    )


def _names(portals: list[PortalConfig]) -> str:
    names = [p.id for p in portals[:10]]
    return ", ".join(names) + (f" and {len(portals) - 10} more" if len(portals) > 10 else "")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
