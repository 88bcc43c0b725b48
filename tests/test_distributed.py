"""Distributed crawls: three `nianbao worker`s on one Redis queue and one PostgreSQL archive.

Fifty small replica portals (the TRS county replica, each on its own port) are queued with
`nianbao crawl --queue`; each worker runs in its own UTS namespace under its own host name, so
that for the portal leases they are three machines: a dead worker's lease is freed by its expiry,
never by a pid check. The worker crawling the first portal (slowed by a download delay) is
SIGKILLed mid-crawl: its portal must be crawled again by another worker once its lease expired,
its half run closed as failed, and the archive must verify and hold what an uninterrupted crawl
of that portal holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from dramatiq import Message
from pgserver import PgServer
from redisserver import RedisUnavailable, redis_server
from schedule_support import engine_for, write_settings
from schedule_support import nianbao as schedule_cli
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from test_schedule_once import stored_due

from archive.db import ArchiveUnavailable, make_engine, session_scope, upgrade
from archive.models import Capture, CrawlRun, Document, DocumentVersion, PortalLease
from crawler.job import CrawlJob
from crawler.process import CrawlStream, run_crawl
from nianbao.errors import SettingsError
from nianbao.settings import parse_settings
from ops.leases import ORPHAN_FINDING, Holder, acquire
from replica import settings_for
from replica.server import ReplicaServer
from scheduler.distributed import (
    NAMESPACE,
    UNREACHABLE_DELAY_MS,
    UNREACHABLE_TRIES,
    CrawlActor,
    QueueConfig,
    WorkerSetup,
    make_broker,
)

PORTALS = 50
WORKERS = 3
VICTIM = "p00"  # queued first, and slow enough to be killed mid-crawl
VICTIM_DELAY = 0.4  # seconds between its requests: its crawl lasts several seconds
HEARTBEAT, LEASE = 2, 3  # seconds: a dead worker is noticed soon
AT_ONCE = 3  # portals each worker crawls side by side, in its one crawl process
# Each worker starts one crawl process (about 2 s of CPU, most of it imports) for all its portals;
# the deadline leaves room for a loaded machine.
DEADLINE = 300.0
pytestmark = pytest.mark.timeout(2 * DEADLINE)


@dataclass
class Night:
    """What the distributed crawl left, and what the test saw happen."""

    engine: Engine
    config: Path
    killed_host: str
    killed_at: datetime
    lease_expired_at: datetime
    reference_url: str
    env: dict[str, str]


def fleet_settings(urls: list[str], database_url: str, blob_dir: Path, extra: str) -> str:
    """One settings file for PORTALS copies of the TRS county replica, `p00`, `p01`, …"""
    header, body = "", []
    for i, url in enumerate(urls):
        text = settings_for({"trs_county": url}, database_url=database_url, blob_dir=str(blob_dir))
        head, _, portal = text.partition("[[portals]]")
        header = header or head
        portal = "[[portals]]" + portal.replace('"trs_county"', f'"p{i:02d}"')
        if i == 0 and "queue" in extra:
            portal = portal.replace(
                'family = "trs"\n', f'family = "trs"\ndownload_delay = {VICTIM_DELAY}\n', 1
            )
        body.append(portal)
    return header + extra + "\n" + "\n".join(body)


def start_worker(
    config: Path, host: str, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """`nianbao worker` as if on machine `host`: its own UTS namespace and host name (the pid is
    the worker's own: unshare and sh exec into it)."""
    script = f'hostname {host} && exec "$0" -m nianbao --config "$1" worker --jobs {AT_ONCE}'
    return subprocess.Popen(
        ["unshare", "--uts", "sh", "-c", script, sys.executable, str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115 (the child holds it)
    )


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """One throwaway redis-server for the module; its absence fails the run, never skips it."""
    try:
        with redis_server() as url:
            yield url
    except RedisUnavailable as exc:
        pytest.fail(f"Redis is required for the distributed tests: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def night(
    pg_server: PgServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Night]:
    tmp = tmp_path_factory.mktemp("distributed")
    with ExitStack() as stack:
        database_url = pg_server.create_database()
        stack.callback(pg_server.drop_database, database_url)
        servers = [stack.enter_context(ReplicaServer(["trs_county"])) for _ in range(PORTALS)]
        urls = [s.urls["trs_county"] for s in servers]
        queue = (
            f'[queue]\nurl = "{redis_url}"\nheartbeat_seconds = {HEARTBEAT}\n'
            f"lease_seconds = {LEASE}\n"
        )
        text = fleet_settings(urls, database_url, tmp / "blobs", queue)
        text = text.replace("[scheduler]\n", f'[scheduler]\nlog_dir = "{tmp / "logs"}"\n', 1)
        config = tmp / "settings.toml"
        config.write_text(text, encoding="utf-8")
        env = {**os.environ, "NIANBAO_CONFIG": str(config)}
        env.pop("NIANBAO_DATABASE_URL", None)
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        nianbao(env, "archive", "upgrade")
        workers = {}
        for n in range(WORKERS):
            host = f"machine-{n + 1}"
            workers[host] = start_worker(config, host, env, tmp / f"{host}.log")
            stack.callback(stop, workers[host])
        nianbao(env, "crawl", "--queue", "--kind", "nightly")
        killed_host, killed_at, expires = kill_mid_crawl(engine, workers)
        # As a supervisor would, a new worker takes the dead one's place.
        workers["machine-4"] = start_worker(config, "machine-4", env, tmp / "machine-4.log")
        stack.callback(stop, workers["machine-4"])
        wait_until_all_crawled(engine, tmp)
        reference = f"sqlite:///{tmp / 'reference.db'}"
        crawl_uninterrupted(urls[0], reference, tmp / "reference-blobs")
        yield Night(engine, config, killed_host, killed_at, expires, reference, env)


def nianbao(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_mid_crawl(
    engine: Engine, workers: dict[str, subprocess.Popen[bytes]]
) -> tuple[str, datetime, datetime]:
    """SIGKILL the worker holding VICTIM's lease once its run has captured a few pages; returns
    its host, when it died, and when its lease expired (it renews no more)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with Session(engine) as session:
            lease = session.get(PortalLease, VICTIM)
            run = session.scalar(
                select(CrawlRun).where(CrawlRun.portal == VICTIM, CrawlRun.status == "running")
            )
            pages = 0 if run is None else len(run_captures(session, run.id))
        if lease is not None and pages >= 3:
            workers[lease.host].kill()
            workers[lease.host].wait()
            killed_at = datetime.now(lease.acquired_at.tzinfo)
            with Session(engine) as session:
                last = session.get_one(PortalLease, VICTIM)
                expires = last.expires_at if last.owner == lease.owner else killed_at
            return lease.host, killed_at, expires
        time.sleep(0.05)
    raise AssertionError(f"{VICTIM} was never seen mid-crawl")


def run_captures(session: Session, run_id: int) -> list[int]:
    return list(session.scalars(select(Capture.id).where(Capture.run_id == run_id)))


def wait_until_all_crawled(engine: Engine, logs: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with Session(engine) as session:
            done = set(session.scalars(select(CrawlRun.portal).where(CrawlRun.status == "ok")))
            running = session.scalar(select(CrawlRun.id).where(CrawlRun.status == "running"))
        if len(done) == PORTALS and running is None:
            return
        time.sleep(0.5)
    tails = {log.name: log.read_text(errors="replace")[-1500:] for log in logs.glob("*.log")}
    raise AssertionError(f"only {len(done)} of {PORTALS} portals crawled in {DEADLINE} s: {tails}")


def crawl_uninterrupted(url: str, database_url: str, blob_dir: Path) -> None:
    text = fleet_settings([url], database_url, blob_dir, "")
    settings = parse_settings(tomllib.loads(text), Path("reference.toml"))
    job = CrawlJob(
        portal=settings.portal(VICTIM),
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
        kind="nightly",
    )
    assert run_crawl(job).status == "ok"


def runs(engine: Engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.started_at)))


def held(database_url: str) -> tuple[set[tuple[str, str | None]], set[tuple[str, tuple[str, ...]]]]:
    """VICTIM's captures (URL, sha256 of the bytes) and reports (URL, digests of its versions)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        captures = set(
            session.execute(
                select(Capture.url, Capture.sha256).where(
                    Capture.portal == VICTIM, Capture.sha256.is_not(None)
                )
            ).all()
        )
        versions: dict[int, list[str]] = {}
        for doc_id, digest in session.execute(
            select(DocumentVersion.document_id, DocumentVersion.content_sha256)
        ):
            versions.setdefault(doc_id, []).append(digest)
        docs = session.execute(select(Document.id, Document.url).where(Document.portal == VICTIM))
        reports = {(url, tuple(sorted(versions.get(i, [])))) for i, url in docs}
    engine.dispose()
    return captures, reports


def test_three_workers_crawl_each_of_fifty_portals_once(night: Night) -> None:
    by_portal: dict[str, list[CrawlRun]] = {}
    for run in runs(night.engine):
        by_portal.setdefault(run.portal, []).append(run)
    assert sorted(by_portal) == [f"p{i:02d}" for i in range(PORTALS)]
    cut_short = []
    for portal, rows in by_portal.items():
        statuses = [r.status for r in rows]
        # Crawled once; or, when the killed worker had it under way, cut short and crawled again.
        assert statuses in (["ok"], ["failed", "ok"]), (portal, statuses)
        assert all(r.kind == "nightly" and r.finished_at is not None for r in rows)
        if statuses == ["failed", "ok"]:
            assert rows[0].finding == ORPHAN_FINDING, (portal, rows[0].finding)
            cut_short.append(portal)
    assert VICTIM in cut_short and len(cut_short) <= AT_ONCE, cut_short


def test_a_killed_workers_portal_is_finished_by_another_after_its_lease_expired(
    night: Night,
) -> None:
    first, second = [r for r in runs(night.engine) if r.portal == VICTIM]
    assert first.status == "failed" and first.finding == ORPHAN_FINDING
    assert first.pages == 0  # the dead crawl never counted; its captures are kept and indexed
    # The other workers are other machines: the lease was taken over only once it had expired.
    assert second.started_at >= night.lease_expired_at > night.killed_at
    assert second.status == "ok" and second.pages > 0


def test_two_workers_never_crawl_one_portal_at_once(night: Night) -> None:
    by_portal: dict[str, list[CrawlRun]] = {}
    for run in runs(night.engine):
        by_portal.setdefault(run.portal, []).append(run)
    for portal, rows in by_portal.items():
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.finished_at is not None
            assert after.started_at >= before.finished_at, portal
    with Session(night.engine) as session:
        assert session.scalar(select(PortalLease.portal)) is None  # every lease given back
        first = min(r.id for r in runs(night.engine) if r.portal == VICTIM)
        fetched = session.scalars(select(Capture.fetched_at).where(Capture.run_id == first)).all()
    second = max((r for r in runs(night.engine) if r.portal == VICTIM), key=lambda r: r.id)
    assert fetched and max(fetched) < second.started_at


def test_the_archive_verifies_and_equals_an_uninterrupted_crawl(night: Night) -> None:
    done = nianbao(night.env, "archive", "verify")
    assert "ok" in done.stdout.lower() or done.returncode == 0
    url = night.engine.url.render_as_string(hide_password=False)
    captures, reports = held(url)
    expected_captures, expected_reports = held(night.reference_url)
    assert len(expected_reports) >= 10
    assert captures == expected_captures
    assert reports == expected_reports


def test_a_lease_held_by_another_crawl_skips_and_by_this_messages_dead_worker_comes_back(
    pg_server: PgServer, redis_url: str, tmp_path: Path
) -> None:
    database_url = pg_server.create_database()
    engine = make_engine(database_url)
    upgrade(engine)
    text = fleet_settings(["http://127.0.0.1:9"], database_url, tmp_path / "blobs", "")
    settings = parse_settings(tomllib.loads(text), Path("one.toml"))
    config = QueueConfig(url=redis_url, name="held", heartbeat_seconds=2, lease_seconds=4)
    setup = WorkerSetup(
        job_for=lambda portal, kind, full: CrawlJob(
            portal=settings.portal(portal),
            crawler=settings.crawler,
            archive=settings.archive,
            publishers=settings.publishers,
            kind=kind,
        ),
        log_dir=tmp_path / "logs",
        timeout_seconds=60,
    )
    client = redis.Redis.from_url(redis_url)
    broker = make_broker(config)
    broker.declare_queue(config.name)
    stream = CrawlStream(tmp_path / "logs")
    crawl = CrawlActor(config, setup, broker, stream)
    try:
        # A manual crawl elsewhere holds the portal: the message is done, nothing queued again.
        with session_scope(engine) as session:
            acquire(
                session, VICTIM, Holder("manual-crawl", "machine-9", 1, "manual"), datetime.now(UTC)
            )
        assert crawl.handle(VICTIM, "nightly", False, "a" * 32) == "skipped"
        assert client.hlen(f"{NAMESPACE}:held.DQ.msgs") == 0
        # This message's own first delivery (its worker on another machine died): come back later.
        with session_scope(engine) as session:
            session.execute(delete(PortalLease))
            dead = Holder.me("nightly", "b" * 32)
            acquire(
                session, VICTIM, Holder(dead.owner, "machine-9", 1, "nightly"), datetime.now(UTC)
            )
        assert crawl.handle(VICTIM, "nightly", False, "b" * 32) == "later"
        (again,) = client.hvals(f"{NAMESPACE}:held.DQ.msgs")
        assert tuple(Message.decode(again).args) == (VICTIM, "nightly", False, "b" * 32)
        assert Message.decode(again).options["eta"] > time.time() * 1000 + 1000
    finally:
        stream.close()
        broker.close()
        engine.dispose()
        pg_server.drop_database(database_url)


def test_an_unreachable_archive_puts_the_portal_back_on_the_queue_a_few_times(
    redis_url: str, tmp_path: Path
) -> None:
    # No server listens on this socket directory: taking the lease cannot reach the archive.
    database_url = f"postgresql+psycopg://nianbao@/none?host={tmp_path}&port=5432"
    text = fleet_settings(["http://127.0.0.1:9"], database_url, tmp_path / "blobs", "")
    settings = parse_settings(tomllib.loads(text), Path("one.toml"))
    config = QueueConfig(url=redis_url, name="unreachable")
    setup = WorkerSetup(
        job_for=lambda portal, kind, full: CrawlJob(
            portal=settings.portal(portal),
            crawler=settings.crawler,
            archive=settings.archive,
            publishers=settings.publishers,
            kind=kind,
        ),
        log_dir=tmp_path / "logs",
        timeout_seconds=60,
    )
    client = redis.Redis.from_url(redis_url)
    broker = make_broker(config)
    broker.declare_queue(config.name)
    stream = CrawlStream(tmp_path / "logs")
    crawl = CrawlActor(config, setup, broker, stream)
    try:
        assert crawl.handle(VICTIM, "nightly", False, "c" * 32) == "later"
        (again,) = client.hvals(f"{NAMESPACE}:unreachable.DQ.msgs")
        message = Message.decode(again)
        assert tuple(message.args) == (VICTIM, "nightly", False, "c" * 32)
        assert message.kwargs == {"tries": 1}
        assert message.options["eta"] > time.time() * 1000 + UNREACHABLE_DELAY_MS / 2
        # The last try says why, in the worker's log, and the portal is not queued again.
        client.delete(f"{NAMESPACE}:unreachable.DQ.msgs")
        with pytest.raises(ArchiveUnavailable, match="cannot reach archive database"):
            crawl.handle(VICTIM, "nightly", False, "c" * 32, UNREACHABLE_TRIES - 1)
        assert client.hlen(f"{NAMESPACE}:unreachable.DQ.msgs") == 0
    finally:
        stream.close()
        broker.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[queue]\nurl = "http://127.0.0.1:6379"\n', "a Redis URL is required"),
        ('[queue]\nurl = "redis://127.0.0.1:6379/0"\nheartbeat_seconds = 1\n', "heartbeat_seconds"),
        ('[queue]\nurl = "redis://127.0.0.1:6379/0"\nbroker = "x"\n', "unknown key 'broker'"),
    ],
)
def test_queue_settings_are_checked(extra: str, message: str) -> None:
    text = fleet_settings(["http://127.0.0.1:9"], "sqlite:///x.db", Path("blobs"), extra)
    with pytest.raises(SettingsError, match=message):
        parse_settings(tomllib.loads(text), Path("bad.toml"))


def test_the_scheduler_enqueues_only_with_a_queue() -> None:
    text = fleet_settings(["http://127.0.0.1:9"], "sqlite:///x.db", Path("blobs"), "")
    text = text.replace("[scheduler]\n", "[scheduler]\nenqueue = true\n", 1)
    with pytest.raises(SettingsError, match=r"enqueue = true needs a \[queue\]"):
        parse_settings(tomllib.loads(text), Path("bad.toml"))


def test_crawl_queue_without_a_reachable_queue_is_one_line(tmp_path: Path) -> None:
    base = fleet_settings(["http://127.0.0.1:9"], "sqlite:///x.db", tmp_path / "blobs", "")
    for extra, said in (
        ("", "no [queue] table"),
        (
            '[queue]\nurl = "redis://127.0.0.1:9/0"\n',
            "cannot reach the queue at redis://127.0.0.1:9/0",
        ),
    ):
        config = tmp_path / "settings.toml"
        config.write_text(base.replace("[deadlines]", extra + "[deadlines]", 1), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "nianbao", "--config", str(config), "crawl", "--queue"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 1
        assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_scheduler_puts_due_portals_on_the_queue(redis_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = engine_for(url)
    unreachable = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}
    extra = 'enqueue = true\noverrides = { taizhou = "off" }\n'
    config = write_settings(tmp_path, unreachable, url, "0 * * * * *", extra_scheduler=extra)
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[queue]\nurl = "{redis_url}"\nname = "scheduled"\n')
    stored_due(engine, config, timedelta(minutes=1, seconds=10))
    done = schedule_cli(config, "schedule", "--once")
    assert done.returncode == 0 and "1 crawl(s) due: 1 ok" in done.stdout, done.stderr
    (queued,) = redis.Redis.from_url(redis_url).hvals(f"{NAMESPACE}:scheduled.msgs")
    assert tuple(Message.decode(queued).args)[:3] == ("tongxiang", "nightly", False)
    with Session(engine) as session:
        assert session.scalar(select(CrawlRun.id)) is None  # queued for the workers, not crawled
    engine.dispose()
