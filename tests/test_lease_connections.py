"""A process holding many portal leases at once (a queue worker crawling hundreds of portals side
by side) shares a few connections to the archive among them. Found by the national bench: 3
workers × 334 leases opening their connections at the same moment overflowed PostgreSQL's
max_connections (100) and failed most portals of the night."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.pool import Pool

from archive.db import make_engine, session_scope, upgrade
from archive.models import PortalLease
from ops.leases import LEASE_CONNECTIONS, portal_lease

LEASES = 150  # past PostgreSQL's default max_connections


def test_many_leases_at_once_share_a_few_connections(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    lock = threading.Lock()
    open_now, most = 0, 0

    def out(*_: Any) -> None:
        nonlocal open_now, most
        with lock:
            open_now += 1
            most = max(most, open_now)

    def back(*_: Any) -> None:
        nonlocal open_now
        with lock:
            open_now -= 1

    start = threading.Barrier(LEASES)
    held: list[int] = []
    errors: list[BaseException] = []

    def hold(n: int) -> None:
        try:
            start.wait()
            with portal_lease(database_url, f"p{n:03d}", "nightly"):
                held.append(n)
                time.sleep(0.2)
        except BaseException as exc:  # noqa: BLE001 (reported below, with the rest)
            errors.append(exc)

    event.listen(Pool, "checkout", out)
    event.listen(Pool, "checkin", back)
    try:
        threads = [threading.Thread(target=hold, args=(n,)) for n in range(LEASES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        event.remove(Pool, "checkout", out)
        event.remove(Pool, "checkin", back)
    assert errors == []
    assert sorted(held) == list(range(LEASES))
    assert 1 <= most <= LEASE_CONNECTIONS
    with session_scope(engine) as session:
        assert session.scalars(select(PortalLease.portal)).all() == []
    engine.dispose()
