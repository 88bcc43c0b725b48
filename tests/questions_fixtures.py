"""An archive with a history, built by crawling the replica portals at two moments.

1. At `T1` (2020-01-25 10:00, Asia/Shanghai) the portals are crawled as they stood then: a replica
   process started with `REPLICA_AS_OF` serves only the pages online by that moment, and the run's
   times are moved back to `T1` (a crawl cannot wait five years).
2. Then the whole replica is crawled now, after the truth's `revised` reports were revised through
   the replica's hook.

Both replicas are reached through one relay per portal on a fixed loopback port, so a portal keeps
one base URL (documents are keyed by URL) while the server behind it changes. One archive is
built per backend and process, and shared by the tests of the questions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from replica_fixtures import crawl_all, post, replica_settings
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from archive.db import make_engine, session_scope
from archive.models import Capture, CrawlRun, Document, DocumentVersion
from crawler.job import RunSummary
from nianbao.settings import Settings
from replica import settings_for
from replica.truth import AS_OF_ENV, load_truth

SHANGHAI = timezone(timedelta(hours=8))
T1 = "2020-01-25T10:00"
T1_PORTALS = ("taizhou",)  # the backdated report's portal; the other is first crawled now
TRUTH = load_truth()


class Relay:
    """Forwards every connection on a fixed loopback port to whichever server `target` names."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.target: tuple[str, int] | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def point_at(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe_both, args=(client,), daemon=True).start()

    def _pipe_both(self, client: socket.socket) -> None:
        if self.target is None:
            client.close()
            return
        try:
            server = socket.create_connection(self.target, timeout=30)
        except OSError:
            client.close()  # like a portal that is down: connection closed at once
            return
        threading.Thread(target=_pipe, args=(server, client), daemon=True).start()
        _pipe(client, server)

    def close(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@contextmanager
def replica_as_of(moment: str | None) -> Iterator[dict[str, str]]:
    """`python -m replica serve`, as the portals stood at `moment` (None: as they are)."""
    env = {k: v for k, v in os.environ.items() if k != AS_OF_ENV}
    if moment:
        env[AS_OF_ENV] = moment
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def shift_run(engine: Engine, run_id: int, moment: datetime) -> None:
    """Move one run, its captures and what indexing derived from them back to `moment`."""
    with session_scope(engine) as session:
        run = session.get_one(CrawlRun, run_id)
        delta = moment - run.started_at
        run.started_at = moment
        run.finished_at = (run.finished_at or moment) + delta
        for capture in session.scalars(select(Capture).where(Capture.run_id == run_id)):
            capture.fetched_at += delta
        session.flush()
        captured = select(Capture.id).where(Capture.run_id == run_id)
        for version in session.scalars(
            select(DocumentVersion).where(DocumentVersion.capture_id.in_(captured))
        ):
            version.seen_at += delta
        session.flush()
        _reseen(session)


def _reseen(session: Session) -> None:
    """first/last_seen_at of every document, from the captures that fetched it."""
    seen = (
        select(
            Capture.document_id,
            func.min(Capture.fetched_at).label("first"),
            func.max(Capture.fetched_at).label("last"),
        )
        .where(Capture.document_id.is_not(None))
        .group_by(Capture.document_id)
    )
    for doc_id, first, last in session.execute(seen).all():
        session.execute(
            update(Document)
            .where(Document.id == doc_id)
            .values(first_seen_at=_aware(first), last_seen_at=_aware(last))
        )


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class History:
    """The archive of two crawls and what is needed to question it."""

    settings: Settings
    engine: Engine
    config: Path  # a settings file pointing at this archive (and at the relays, now dead)
    first: list[RunSummary]  # at T1
    second: list[RunSummary]  # now

    @property
    def database_url(self) -> str:
        return self.settings.archive.database_url


def build_history(database_url: str, root: Path) -> History:
    relays = {p.id: Relay() for p in TRUTH.portals}
    try:
        urls = {pid: relay.url for pid, relay in relays.items()}
        settings = replica_settings(urls, database_url, root / "blobs")
        engine = make_engine(database_url)
        early = replace(settings, portals=tuple(p for p in settings.portals if p.id in T1_PORTALS))
        with replica_as_of(T1) as served:
            for pid, base in served.items():
                relays[pid].point_at(base)
            first = crawl_all(early)
        for summary in first:
            shift_run(engine, summary.run_id, datetime.fromisoformat(T1).replace(tzinfo=SHANGHAI))
        with replica_as_of(None) as served:
            for pid, base in served.items():
                relays[pid].point_at(base)
            for report in TRUTH.reports:
                if report.revised:
                    post(f"{served[report.portal]}/__replica__/revise?path={report.url}")
            second = crawl_all(settings)
    finally:
        for relay in relays.values():
            relay.close()
    config = root / "settings.toml"
    config.write_text(settings_for(urls, database_url, str(root / "blobs")), encoding="utf-8")
    return History(settings, engine, config, first, second)


_BUILT: dict[str, History] = {}


def history_of(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> History:
    """The history archive of the backend `request.param` names, built once per test process
    (the test modules of the questions share it; none of them writes to it)."""
    backend = request.param
    if backend not in _BUILT:
        root = factory.mktemp(f"history-{backend}")
        if backend == "sqlite":
            url = f"sqlite:///{root / 'archive.db'}"
        else:
            url = request.getfixturevalue("pg_server").create_database()
        _BUILT[backend] = build_history(url, root)
    return _BUILT[backend]
