"""The scheduler's jobs: plain importable functions, so the persistent job store can name them.

`crawl_portal` is each portal's job. It does not crawl alone: it joins a short queue (`Batcher`),
and the portals whose jobs fire within `batch_seconds` of the first are crawled as one batch,
`nianbao crawl P1 P2 … --kind nightly --jobs N --json` in one subprocess that spreads them over its
N crawl processes (crawler.process.run_batch). Each portal's job waits for its own result and
records its slot, outcome, exit code, the batch's log file and its run, read from the JSON line the
crawl prints for it; then the batch's portals' health is checked. `heartbeat` records that the
scheduler is alive and checks every scheduled portal.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete

from archive.db import session_scope
from archive.files import inside
from archive.models import SchedulerHeartbeat
from crawler.process import die_with_parent
from ops.health import HealthRules, beat, finish_scheduled, start_scheduled
from ops.leases import SKIPPED_EXIT_CODE, process_ident
from scheduler.alerts import Notifier, check_portals
from scheduler.config import SchedulerConfig

log = logging.getLogger(__name__)
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
_batcher: Batcher | None = None
_batcher_lock = threading.Lock()


def install(runtime: Runtime) -> None:
    global _runtime, _batcher
    _runtime, _batcher = runtime, None


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler runtime is not installed (scheduler.jobs.install)")
    return _runtime


def set_slot(slot: datetime | None) -> None:
    _slot.value = slot


def crawl_portal(portal: str) -> str:
    """The nightly job of one portal: crawled in the next batch; returns the outcome recorded."""
    slot: datetime | None = getattr(_slot, "value", None)
    return batcher().submit(portal, slot).result()


@dataclass
class Batcher:
    """The short queue of portals due: the first one opens a window of `seconds`, and what came
    in it is crawled as one batch, in a thread of its own (the next window opens meanwhile)."""

    seconds: float
    run: Callable[[list[tuple[str, datetime | None]]], dict[str, str]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[tuple[str, datetime | None, Future[str]]] = field(default_factory=list)
    timer: threading.Timer | None = None

    def submit(self, portal: str, slot: datetime | None) -> Future[str]:
        future: Future[str] = Future()
        with self.lock:
            if stopping.is_set():
                future.set_result("interrupted")
                return future
            self.waiting.append((portal, slot, future))
            if len(self.waiting) == 1:
                # Not a daemon: a scheduler stopping waits for the batch it started to record
                # its outcomes (`stop` cancels a window not yet closed).
                self.timer = threading.Timer(self.seconds, self._flush)
                self.timer.start()
        return future

    def stop(self) -> None:
        """The scheduler stops: the portals still waiting for their batch are not crawled."""
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            batch, self.waiting = self.waiting, []
        for _, _, future in batch:
            future.set_result("interrupted")

    def _flush(self) -> None:
        with self.lock:
            batch, self.waiting = self.waiting, []
        if not batch:
            return
        try:
            outcomes = self.run([(portal, slot) for portal, slot, _ in batch])
        except BaseException as exc:  # every job waiting must hear of it
            for _, _, future in batch:
                future.set_exception(exc)
            raise
        for portal, _, future in batch:
            future.set_result(outcomes.get(portal, "failed"))


def batcher() -> Batcher:
    global _batcher
    with _batcher_lock:
        if _batcher is None:
            rt = current()
            _batcher = Batcher(rt.config.batch_seconds, lambda due: crawl_batch(rt, due))
        return _batcher


def crawl_batch(rt: Runtime, due: list[tuple[str, datetime | None]]) -> dict[str, str]:
    """Crawl the portals `due` (each with the slot it was fired for) in one `nianbao crawl`,
    record each one's outcome and run; returns {portal: outcome}."""
    now = datetime.now(UTC)
    portals = list(dict.fromkeys(portal for portal, _ in due))
    log_path = inside(rt.config.log_dir, f"{now:%Y%m%dT%H%M%S%f}-nightly-{len(portals)}.log")
    if len(portals) == 1:  # a log named after its portal, as before batches
        log_path = inside(rt.config.log_dir, f"{portals[0]}-{now:%Y%m%dT%H%M%S%f}-nightly.log")
    rows = {}
    with session_scope(rt.engine) as session:
        for portal, slot in due:
            rows[portal] = start_scheduled(
                session, portal, "nightly", slot, rt.ident, str(log_path), now
            )
    code, lines = spawn_crawl(rt, portals, log_path)
    outcomes = {}
    with session_scope(rt.engine) as session:
        for portal, row in rows.items():
            outcome, run_id, portal_code = _portal_outcome(lines.get(portal), code)
            finish_scheduled(session, row, outcome, portal_code, run_id, datetime.now(UTC))
            outcomes[portal] = outcome
    log.info("nightly batch of %d: %s (exit %s), log %s", len(portals), outcomes, code, log_path)
    check_portals(rt.engine, portals, rt.rules, rt.notifier)
    return outcomes


def spawn_crawl(
    rt: Runtime, portals: list[str], log_path: Path
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run `nianbao crawl … --json` and wait for it (up to the timeout); returns its exit code
    and the JSON line it printed for each portal."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "nianbao", "--config", str(rt.config_path), "crawl"]
    command += [*portals, "--kind", "nightly", "--json", "--log", str(log_path)]
    if rt.config.jobs:
        command += ["--jobs", str(rt.config.jobs)]
    if rt.config.enqueue:  # the distributed workers crawl them (scheduler/distributed.py)
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
            log.error("a crawl ran longer than %s h; killed: %s", rt.config.timeout_hours, portals)
            proc.kill()
            out, _ = proc.communicate()
        finally:
            with _children_lock:
                _children.discard(proc)
    text = out.decode("utf-8", "replace")
    with open(log_path, "a", encoding="utf-8") as handle:
        handle.write(text)
    return proc.returncode, _json_lines(text)


def _json_lines(text: str) -> dict[str, dict[str, Any]]:
    """The crawl's JSON line per portal (`nianbao crawl --json`); anything else is passed over."""
    found: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("portal"), str):
            found[row["portal"]] = row
    return found


def _portal_outcome(row: dict[str, Any] | None, code: int) -> tuple[str, int | None, int]:
    """(outcome, run id, exit code) of one portal of a batch, from its JSON line: its run's
    status; skipped when another crawl held it; failed (or interrupted, when the scheduler is
    stopping) when its run failed or no line came. The exit code is the one a crawl of that
    portal alone would have had."""
    if row is None:
        return ("interrupted" if stopping.is_set() else "failed"), None, code or 1
    run_id = row.get("run_id") if isinstance(row.get("run_id"), int) else None
    status = row.get("status")
    if status in ("ok", "queued"):  # queued: the distributed workers crawl it
        return "ok", run_id, 0
    if status == "skipped":
        return "skipped", run_id, SKIPPED_EXIT_CODE
    return ("interrupted" if stopping.is_set() else "failed"), run_id, code or 1


def terminate_children() -> None:
    """Stop the crawls this scheduler started (their workers die with them)."""
    stopping.set()
    if _batcher is not None:
        _batcher.stop()
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
