"""The scheduler's jobs: plain importable functions, so the persistent job store can name them.

`crawl_portal` spawns `nianbao crawl PORTAL --kind nightly` as a subprocess (a crawl per process,
as Scrapy needs), records its slot, exit code, log file and run, then checks the portal's health.
`heartbeat` records that the scheduler is alive and checks every scheduled portal.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete

from archive.db import session_scope
from archive.files import inside
from archive.health import HealthRules, beat, finish_scheduled, start_scheduled
from archive.locks import SKIPPED_EXIT_CODE, process_ident
from archive.models import SchedulerHeartbeat
from crawler.process import die_with_parent
from scheduler.alerts import Notifier, check_portals
from scheduler.config import SchedulerConfig

log = logging.getLogger(__name__)
RUN_LINE = re.compile(r"^\S+: run (\d+) ", re.M)
KEEP_HEARTBEATS = timedelta(days=7)


@dataclass(frozen=True)
class Runtime:
    """What the jobs of this scheduler process need: set once at start by `install`."""

    config_path: Path
    engine: Engine
    portals: tuple[str, ...]
    config: SchedulerConfig
    rules: HealthRules
    notifier: Notifier
    mode: str = "forever"

    @property
    def ident(self) -> str:
        return process_ident()


_runtime: Runtime | None = None
_slot = threading.local()  # the run time APScheduler fired the current job for
_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()
stopping = threading.Event()


def install(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler runtime is not installed (scheduler.jobs.install)")
    return _runtime


def set_slot(slot: datetime | None) -> None:
    _slot.value = slot


def crawl_portal(portal: str) -> str:
    """The nightly job of one portal; returns the outcome it recorded."""
    rt = current()
    slot: datetime | None = getattr(_slot, "value", None)
    now = datetime.now(UTC)
    log_path = inside(rt.config.log_dir, f"{portal}-{now:%Y%m%dT%H%M%S%f}-nightly.log")
    with session_scope(rt.engine) as session:
        row = start_scheduled(session, portal, "nightly", slot, rt.ident, str(log_path), now)
    code, output = spawn_crawl(rt, portal, log_path)
    outcome = _outcome(code)
    match = RUN_LINE.search(output)
    with session_scope(rt.engine) as session:
        run_id = int(match.group(1)) if match else None
        finish_scheduled(session, row, outcome, code, run_id, datetime.now(UTC))
    log.info("%s: nightly crawl %s (exit %s), log %s", portal, outcome, code, log_path)
    check_portals(rt.engine, [portal], rt.rules, rt.notifier)
    return outcome


def spawn_crawl(rt: Runtime, portal: str, log_path: Path) -> tuple[int, str]:
    """Run `nianbao crawl` and wait for it (up to the timeout); returns exit code and stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "nianbao", "--config", str(rt.config_path), "crawl", portal]
    command += ["--kind", "nightly", "--log", str(log_path)]
    if rt.config.enqueue:  # the distributed workers crawl it (scheduler/distributed.py)
        command.append("--queue")
    with open(log_path, "ab") as stderr:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, preexec_fn=die_with_parent()
        )
        with _children_lock:
            _children.add(proc)
        try:
            out, _ = proc.communicate(timeout=rt.config.timeout_hours * 3600)
        except subprocess.TimeoutExpired:
            log.error("%s: the crawl ran longer than %s h; killed", portal, rt.config.timeout_hours)
            proc.kill()
            out, _ = proc.communicate()
        finally:
            with _children_lock:
                _children.discard(proc)
    text = out.decode("utf-8", "replace")
    with open(log_path, "a", encoding="utf-8") as handle:
        handle.write(text)
    return proc.returncode, text


def terminate_children() -> None:
    """Stop the crawls this scheduler started (their workers die with them)."""
    stopping.set()
    with _children_lock:
        for proc in _children:
            proc.send_signal(signal.SIGTERM)


def heartbeat() -> None:
    """Every minute: say the scheduler is alive, and check every scheduled portal's health."""
    rt = current()
    now = datetime.now(UTC)
    with session_scope(rt.engine) as session:
        beat(session, socket.gethostname(), os.getpid(), rt.mode, now)
        session.execute(
            delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - KEEP_HEARTBEATS)
        )
    check_portals(rt.engine, rt.portals, rt.rules, rt.notifier)


def _outcome(code: int) -> str:
    if code == 0:
        return "ok"
    if code == SKIPPED_EXIT_CODE:
        return "skipped"
    return "interrupted" if stopping.is_set() else "failed"
