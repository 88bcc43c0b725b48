"""Shared by the scheduler, backfill and health tests: a settings file pointed at a replica, the
real `nianbao` command in a subprocess, and polling the archive until something happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.db import make_engine, upgrade
from archive.models import ScheduledCrawl
from replica import settings_for

T = TypeVar("T")


def database_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of one backend (for the long tests that run on one backend each)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    url: str = request.getfixturevalue("pg_server").create_database()
    return url


def write_settings(
    tmp_path: Path,
    urls: dict[str, str],
    database_url: str,
    nightly: str,
    alerts: str = 'targets = ["log://"]',
    extra_scheduler: str = "",
) -> Path:
    """The replica's settings with a test schedule (seconds apart, no jitter) and alerts."""
    text = settings_for(urls, database_url=database_url, blob_dir=str(tmp_path / "blobs"))
    scheduler = (
        f'nightly = "{nightly}"\nlog_dir = "{tmp_path / "logs"}"\n'
        'timezone = "Asia/Shanghai"\n' + extra_scheduler
    )
    text = text.replace(
        'nightly = "30 2 * * *"\ntimezone = "Asia/Shanghai"\njitter_seconds = 600\n',
        scheduler + "jitter_seconds = 0\n",
    )
    assert nightly in text, "the replica settings' [scheduler] section changed shape"
    path = tmp_path / "settings.toml"
    path.write_text(text + f"\n[alerts]\n{alerts}\n", encoding="utf-8")
    return path


def env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k not in ("NIANBAO_CONFIG", "NIANBAO_DATABASE_URL")
    }


def nianbao(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
        check=False,
    )


@contextmanager
def background(config: Path, *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`nianbao ARGS` running in the background; stopped (SIGTERM, then SIGKILL) at the end."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nianbao", "--config", str(config), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env(),
        )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


SLOW_FACTOR = 3


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.2) -> T:
    """Poll until `probe` returns something truthy; fail naming `what` after `timeout` s.

    The timeouts are what an idle machine needs; a loaded CI box gets SLOW_FACTOR times more,
    which costs nothing when the test passes and only delays the failure when it does not."""
    timeout *= SLOW_FACTOR
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def query(engine: Engine, fn: Callable[[Session], T]) -> T:
    with Session(engine) as session:
        return fn(session)


def scheduled(engine: Engine) -> list[ScheduledCrawl]:
    """Every crawl a scheduler started, oldest first."""
    return query(
        engine,
        lambda s: list(s.scalars(select(ScheduledCrawl).order_by(ScheduledCrawl.id))),
    )


def engine_for(url: str) -> Engine:
    """An engine on the test's archive, migrated, so polling works before the first process."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def sleep_until(epoch: float) -> None:
    time.sleep(max(0.0, epoch - time.time()))
