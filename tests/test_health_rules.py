"""Health rules and alert state on recorded runs, and `nianbao runs --health`, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from schedule_support import nianbao
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.models import Blob, Capture, CrawlRun
from archive.runs import finish_run, start_run
from ops.alerts import claim_undelivered, clear_alerts, raise_alert, unclaim
from ops.health import HealthRules, Problem, beat, portal_health, scheduler_health
from replica import settings_for

NOW = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)
RULES = HealthRules(stale_days=3, failed_runs=3, heartbeat_stale=timedelta(minutes=5))


def run(
    session: Session, status: str, days_ago: float, kind: str = "nightly", reports: int = 1
) -> CrawlRun:
    """A finished run of tongxiang that archived `reports` report pages."""
    at = NOW - timedelta(days=days_ago)
    row = start_run(session, "tongxiang", kind, at=at)
    for i in range(reports):
        session.merge(Blob(sha256="0" * 64, size=0, stored_at=at))
        session.add(
            Capture(
                run_id=row.id,
                portal="tongxiang",
                url=f"http://x/{row.id}/{i}",
                final_url=f"http://x/{row.id}/{i}",
                status=200,
                headers=[],
                fetched_at=at,
                sha256="0" * 64,
                kind="article",
            )
        )
    finish_run(session, row, status, pages=reports + 1, at=at + timedelta(minutes=5))
    return row


def rules_of(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return {p.rule for p in portal_health(session, "tongxiang", RULES, NOW).problems}


def test_a_portal_that_crawls_well_is_healthy(engine: Engine) -> None:
    with session_scope(engine) as session:
        run(session, "ok", 2)
        run(session, "ok", 1)
        health = portal_health(session, "tongxiang", RULES, NOW)
    assert health.healthy and health.last_status == "ok" and health.failed_in_a_row == 0


def test_no_success_for_n_days_is_stale(engine: Engine) -> None:
    with session_scope(engine) as session:
        run(session, "ok", 5)
        run(session, "failed", 1, reports=1)
    assert rules_of(engine) == {"stale"}


def test_n_failed_runs_in_a_row_is_failing_and_backfills_do_not_count(engine: Engine) -> None:
    with session_scope(engine) as session:
        run(session, "ok", 1.5)
        for hours in (30, 20, 10):
            run(session, "failed", hours / 24)
        run(session, "ok", 0.1, kind="backfill")  # never compared with nightly runs
        health = portal_health(session, "tongxiang", RULES, NOW)
    assert {p.rule for p in health.problems} == {"failing"} and health.failed_in_a_row == 3


def test_a_run_that_archived_nothing_after_one_that_did_is_empty(engine: Engine) -> None:
    with session_scope(engine) as session:
        run(session, "ok", 1, kind="manual", reports=0)  # another kind: not comparable
        run(session, "ok", 0.5, reports=4)
        run(session, "failed", 0.2, reports=0)
        (problem,) = portal_health(session, "tongxiang", RULES, NOW).problems
    assert problem.rule == "empty" and "archived no report page" in problem.detail


def test_a_portal_never_crawled_goes_stale_once_the_scheduler_has_run_long_enough(
    engine: Engine,
) -> None:
    assert rules_of(engine) == set()  # nothing to judge by yet
    with session_scope(engine) as session:
        beat(session, "host", 1, "forever", NOW - timedelta(days=4))
    assert rules_of(engine) == {"stale"}


def test_the_scheduler_heartbeat(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert (
            "no scheduler has ever run" in scheduler_health(session, RULES, NOW).problems[0].detail
        )
        beat(session, "host", 1, "forever", NOW - timedelta(minutes=20))
        assert "20 min ago" in scheduler_health(session, RULES, NOW).problems[0].detail
        beat(session, "host", 1, "forever", NOW - timedelta(minutes=1))
        assert scheduler_health(session, RULES, NOW).healthy


def test_each_condition_alerts_once_until_it_clears(engine: Engine) -> None:
    problem = Problem("tongxiang", "failing", "the last 3 runs failed")
    with session_scope(engine) as session:
        assert raise_alert(session, problem, NOW)
        assert not raise_alert(session, problem, NOW + timedelta(hours=1))
        assert raise_alert(session, Problem("tongxiang", "stale", "…"), NOW)
    with session_scope(engine) as session:
        claimed = claim_undelivered(session, NOW)
        assert sorted(a.rule for a in claimed) == ["failing", "stale"]
        assert claim_undelivered(session, NOW) == []  # nobody sends it twice
        unclaim(session, "tongxiang", "stale")  # its delivery failed: it waits for the next try
        assert [a.rule for a in claim_undelivered(session, NOW)] == ["stale"]
    with session_scope(engine) as session:
        assert clear_alerts(session, "tongxiang", {"stale"}, NOW) == ["failing"]
        assert raise_alert(session, problem, NOW + timedelta(days=1))  # back again: alert again


def test_runs_health_exits_non_zero_when_anything_is_unhealthy(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    config = tmp_path / "settings.toml"
    urls = {"tongxiang": "http://127.0.0.1:9"}
    config.write_text(settings_for(urls, database_url, str(tmp_path / "blobs")), "utf-8")
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        beat(session, "host", 1, "forever", now)
        row = start_run(session, "tongxiang", "nightly", at=now - timedelta(hours=1))
        finish_run(session, row, "ok", pages=10, at=now)
    healthy = nianbao(config, "runs", "--health", "--format", "json")
    assert healthy.returncode == 0, healthy.stderr
    assert '"subject": "scheduler"' in healthy.stdout and '"healthy": true' in healthy.stdout

    with session_scope(engine) as session:
        beat(session, "host", 1, "forever", now - timedelta(minutes=30))
    stale = nianbao(config, "runs", "--health")
    assert stale.returncode != 0
    assert stale.stderr.strip() == "nianbao: error: unhealthy: scheduler (heartbeat)"
    assert "30 min ago" in stale.stdout
