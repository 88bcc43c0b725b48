"""The per-portal crawl lease: a row in the database, so crawls exclude each other across processes
and hosts (two schedulers, or a scheduler and a manual `nianbao crawl`).

A lease names its holder (a random token, host and pid) and expires unless renewed; a lease whose
holder is a dead process on this host, or that has expired, is taken over. The holder closes any run
a dead crawl left `running` (on taking the lease and on giving it back) and indexes what that crawl
had captured, so nothing is left half done.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from archive.db import insert_if_absent, make_engine, rowcount, session_scope, upgrade
from archive.models import CrawlRun, PortalLease

LEASE_TTL = timedelta(minutes=5)
RENEW_EVERY = 60.0  # seconds; several renewals fit in one TTL, so a slow database is tolerated
# `nianbao crawl` exits with this (EX_TEMPFAIL) when every portal it was asked for was busy.
SKIPPED_EXIT_CODE = 75
ORPHAN_FINDING = "the crawl process died before it finished"
# A process may hold hundreds of leases at once (a queue worker crawling 334 portals side by side):
# their statements are short, so they share a few connections to each archive rather than open one
# each at the same moment, which overflows PostgreSQL's max_connections (100 by default) and its
# listen backlog, and failed whole portals at the national bench's start.
LEASE_CONNECTIONS = 4
log = logging.getLogger(__name__)


@dataclass
class _Shared:
    """A lease engine (ops.leases._lease_engine) and how many leases of this process use it."""

    engine: Engine
    holders: int = 0


_gates: dict[str, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()
_engines: dict[str, _Shared] = {}
_engines_lock = threading.Lock()


class LeaseHeld(Exception):
    """Another live crawl holds the portal's lease: this crawl is skipped, not failed."""

    def __init__(self, lease: PortalLease) -> None:
        self.owner = lease.owner
        self.portal, self.holder = (
            lease.portal,
            f"{lease.kind} crawl, pid {lease.pid} on {lease.host}",
        )
        super().__init__(
            f"{lease.portal} is being crawled by another process ({self.holder}, "
            f"since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


@dataclass(frozen=True)
class Holder:
    """Who asks for a lease: a fresh token for this holding, this host, this process."""

    owner: str
    host: str
    pid: int
    kind: str

    @classmethod
    def me(cls, kind: str, token: str | None = None) -> Holder:
        """`token` starts the owner (`<token>/<random>`), so that a queue message redelivered
        after its worker died knows the lease its earlier delivery left behind."""
        unique = uuid.uuid4().hex
        return cls(
            f"{token}/{unique[:12]}" if token else unique, socket.gethostname(), os.getpid(), kind
        )


@dataclass(frozen=True)
class LeaseTerms:
    """How long a lease lasts unrenewed (renewed five times within it), and the holder's token.

    Across machines only the expiry frees the lease of a dead holder: a pid is checked only on
    the holder's own host. Distributed workers use a short TTL so that a dead worker's portal is
    taken over soon."""

    ttl: timedelta = LEASE_TTL
    token: str | None = None

    @property
    def renew_every(self) -> float:
        return min(RENEW_EVERY, self.ttl.total_seconds() / 5)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_ident() -> str:
    """How records name this process: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ident_alive(ident: str) -> bool:
    """Whether the `host:pid` process may still run: certainly known only on this host."""
    host, _, pid = ident.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return int(pid) == os.getpid() or pid_alive(int(pid))


def acquire(
    session: Session, portal: str, holder: Holder, now: datetime, ttl: timedelta = LEASE_TTL
) -> PortalLease | None:
    """Take the lease; returns the stale lease taken over (None when it was free), or raises
    `LeaseHeld`. The insert-or-nothing and the compare-and-set on `owner` are atomic on both
    backends, so of two processes asking at once exactly one wins."""
    values = _values(portal, holder, now, ttl)
    if insert_if_absent(session, PortalLease, values):
        return None
    current = session.get_one(PortalLease, portal, populate_existing=True)
    if not _stale(current, now):
        raise LeaseHeld(current)
    previous = PortalLease(**{c: getattr(current, c) for c in values})
    taken = rowcount(
        session,
        update(PortalLease)
        .where(PortalLease.portal == portal, PortalLease.owner == current.owner)
        .values(**values),
    )
    if taken != 1:
        raise LeaseHeld(session.get_one(PortalLease, portal, populate_existing=True))
    return previous


def renew(
    session: Session, portal: str, holder: Holder, now: datetime, ttl: timedelta = LEASE_TTL
) -> bool:
    """Push the expiry forward; False when the lease is no longer ours."""
    stmt = (
        update(PortalLease)
        .where(PortalLease.portal == portal, PortalLease.owner == holder.owner)
        .values(renewed_at=now, expires_at=now + ttl)
    )
    return rowcount(session, stmt) == 1


def release(session: Session, portal: str, holder: Holder) -> None:
    """Give the lease back (only if it is still ours)."""
    lease = session.get(PortalLease, portal, populate_existing=True)
    if lease is not None and lease.owner == holder.owner:
        session.delete(lease)
        session.flush()


def close_orphaned_runs(session: Session, portal: str, now: datetime) -> list[int]:
    """Close the runs of `portal` still `running`; call it only while holding the portal's lease,
    when any such run belongs to a crawl that died."""
    runs = session.scalars(
        select(CrawlRun).where(CrawlRun.portal == portal, CrawlRun.status == "running")
    ).all()
    for run in runs:
        run.status, run.finished_at, run.finding = "failed", now, ORPHAN_FINDING
    session.flush()
    return [run.id for run in runs]


@contextmanager
def portal_lease(
    database_url: str,
    portal: str,
    kind: str,
    terms: LeaseTerms | None = None,
    on_orphans: Callable[[Engine], None] | None = None,
) -> Iterator[Holder]:
    """Hold the portal's lease for the length of the block, renewing it in a thread.

    Runs of the portal still `running` while we hold the lease belong to a crawl that died: they
    are closed as failed on taking and on giving back the lease, and `on_orphans(engine)` is
    called then (the crawler indexes what the dead crawl captured; this module parses nothing).
    Commits its own short transactions: a lease that is not committed excludes nobody.
    """
    terms = terms or LeaseTerms()
    holder = Holder.me(kind, terms.token)
    with _lease_engine(database_url) as engine:
        _take(engine, portal, holder, terms.ttl, on_orphans)
        stop = threading.Event()
        keeper = threading.Thread(
            target=_keep,
            args=(engine, portal, holder, stop, terms),
            name=f"lease-{portal}",
            daemon=True,
        )
        keeper.start()
        try:
            yield holder
        finally:
            stop.set()
            keeper.join(timeout=10)
            try:
                _tidy(engine, portal, on_orphans)  # a worker that died leaves its run `running`
            finally:
                with _short(engine) as session:
                    release(session, portal, holder)


@contextmanager
def _lease_engine(url: str) -> Iterator[Engine]:
    """The engine of the leases this process holds on `url`'s archive, migrated: one for them
    all, its connections (at most LEASE_CONNECTIONS, by the gate) reused from one short
    transaction to the next, and closed when the last of those leases is given back, so that
    none outlives them. An engine per lease, its connections closed after each use, cost every
    lease statement a new connection (SQLite's pragmas, PostgreSQL's log-in): a tenth of a crawl
    process's CPU at 500 portals a process."""
    with _engines_lock:
        shared = _engines.get(url)
        if shared is None:
            engine = make_engine(url)
            try:
                with _gate(engine):
                    upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
            shared = _engines[url] = _Shared(engine)
        shared.holders += 1
    try:
        yield shared.engine
    finally:
        with _engines_lock:
            shared.holders -= 1
            if shared.holders == 0:
                del _engines[url]
                shared.engine.dispose()


def _gate(engine: Engine) -> threading.BoundedSemaphore:
    key = engine.url.render_as_string(hide_password=False)
    with _gates_lock:
        return _gates.setdefault(key, threading.BoundedSemaphore(LEASE_CONNECTIONS))


@contextmanager
def _short(engine: Engine) -> Iterator[Session]:
    """A short transaction of a lease, among at most LEASE_CONNECTIONS at once in this process
    for its archive (the others wait their turn: each is a statement or two)."""
    with _gate(engine), session_scope(engine) as session:
        yield session


def _take(
    engine: Engine,
    portal: str,
    holder: Holder,
    ttl: timedelta,
    on_orphans: Callable[[Engine], None] | None,
) -> None:
    with _short(engine) as session:
        previous = acquire(session, portal, holder, datetime.now(UTC), ttl)
    if previous is not None:
        log.warning(
            "took over the stale lease of %s (pid %s on %s)", portal, previous.pid, previous.host
        )
    _tidy(engine, portal, on_orphans)


def _tidy(engine: Engine, portal: str, on_orphans: Callable[[Engine], None] | None) -> None:
    """While we hold the lease, a run of the portal still `running` is one whose crawl died:
    close it, and let the caller deal with what it captured."""
    with _short(engine) as session:
        orphans = close_orphaned_runs(session, portal, datetime.now(UTC))
    if orphans and on_orphans is not None:
        on_orphans(engine)


def _keep(
    engine: Engine, portal: str, holder: Holder, stop: threading.Event, terms: LeaseTerms
) -> None:
    while not stop.wait(terms.renew_every):
        try:
            with _short(engine) as session:
                if not renew(session, portal, holder, datetime.now(UTC), terms.ttl):
                    log.error("lost the lease of %s to another crawl", portal)
                    return
        except Exception as exc:  # a database hiccup: the next renewal may succeed
            log.warning("could not renew the lease of %s: %s", portal, exc)


def _values(portal: str, holder: Holder, now: datetime, ttl: timedelta) -> dict[str, Any]:
    return {
        "portal": portal,
        "owner": holder.owner,
        "kind": holder.kind,
        "host": holder.host,
        "pid": holder.pid,
        "acquired_at": now,
        "renewed_at": now,
        "expires_at": now + ttl,
    }


def _stale(lease: PortalLease, now: datetime) -> bool:
    if lease.expires_at < now:
        return True
    return lease.host == socket.gethostname() and not pid_alive(lease.pid)
