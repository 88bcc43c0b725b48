"""A portal breaks under a running schedule: exactly one alert reaches a local webhook however
many crawls fail, and `nianbao runs --health` exits non-zero. Runs on PostgreSQL (the rules and
alert state are tested on both backends in test_health_rules.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from replica_fixtures import post, replica_process
from schedule_support import (
    background,
    database_for,
    engine_for,
    nianbao,
    query,
    wait_for,
    write_settings,
)
from sqlalchemy import select

from archive.models import AlertState, CrawlRun


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append({"path": self.path, **json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny webhook receiver on 127.0.0.1: its json:// URL and what it received."""
    handler = type("Received", (Hook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/nianbao-alerts", handler.received
    server.shutdown()
    server.server_close()


def test_a_broken_listing_raises_one_alert_and_fails_the_health_check(
    webhook: tuple[str, list[dict[str, Any]]], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target, received = webhook
    url = database_for("postgresql", request, tmp_path)
    with replica_process() as replica:
        post(replica["taizhou"] + "/__replica__/break")  # the 年报 listing now shows no records
        config = write_settings(
            tmp_path,
            {"taizhou": replica["taizhou"]},
            url,
            "*/3 * * * * *",
            alerts=f'targets = ["{target}", "log://"]\nfailed_runs = 2',
        )
        engine = engine_for(url)

        def failed() -> list[CrawlRun]:
            stmt = select(CrawlRun).where(CrawlRun.status == "failed")
            return query(engine, lambda s: list(s.scalars(stmt)))

        with background(config, "schedule", log=tmp_path / "schedule.log"):
            wait_for("three failed crawls", lambda: len(failed()) >= 3, 60)
            wait_for("the alert", lambda: received, 10)
    assert all("no records" in (r.finding or "") or "layout" in (r.finding or "") for r in failed())
    assert len(received) == 1, received
    (alert,) = received
    assert alert["path"] == "/nianbao-alerts" and alert["type"] == "failure"
    assert "taizhou" in alert["title"] and "failing" in alert["title"]
    assert "failed" in alert["message"]
    state = query(engine, lambda s: s.scalars(select(AlertState)).one())
    assert (state.subject, state.rule, state.active) == ("taizhou", "failing", True)
    assert state.notified_at is not None

    health = nianbao(config, "runs", "--health")
    assert health.returncode == 1
    assert health.stderr.strip() == "nianbao: error: unhealthy: taizhou (failing)"
    assert "failing: the last" in health.stdout
    engine.dispose()
