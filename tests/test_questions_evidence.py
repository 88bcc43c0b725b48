"""The evidence behind `unreachable` and `gone`: a real crawl of a portal that is down, and runs
and captures recorded as the crawler records blocked and deleted pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from replica_fixtures import crawl_all, replica_settings
from sqlalchemy import Engine

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import make_engine, session_scope
from archive.registry import PublisherSpec, sync_publishers
from archive.runs import finish_run, start_run
from questions.deadlines import DeadlineRules
from questions.status import missing
from replica.truth import load_truth

RULES = DeadlineRules()
TRUTH = load_truth()
BASE = "http://xxgk.tx.gov.cn"
PUBLISHERS = [
    PublisherSpec("tongxiang", "桐乡市教育局", ("市教育局",), "department"),
    PublisherSpec("tongxiang", "桐乡市人民政府", ("市政府",), "government", "330483ZFC00000"),
    PublisherSpec("taizhou", "台州市财政局", ("市财政局",), "department"),
]


def test_a_portal_that_is_down_is_unreachable_not_missing(
    database_url: str, tmp_path: Path
) -> None:
    # Port 9 (discard) is closed on loopback: every fetch is refused, as from a portal that is down.
    settings = replica_settings({"tongxiang": "http://127.0.0.1:9"}, database_url, tmp_path / "b")
    settings = replace(settings, crawler=replace(settings.crawler, retries=0))
    [summary] = crawl_all(settings)
    assert summary.status == "failed"
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        rows = missing(session, 2019, date(2026, 1, 1), RULES)
    engine.dispose()
    expected = {p.name for p in TRUTH.publishers_of("tongxiang") if p.existed(2019)}
    assert {r.publisher for r in rows} == expected
    assert {r.status for r in rows} == {"unreachable"}
    assert all("0 ok, 1 failed" in r.evidence and "ran clean" in r.evidence for r in rows)


def add_run(engine: Engine, portal: str, status: str, finished: datetime, blocked: int = 0) -> int:
    with session_scope(engine) as session:
        run = start_run(session, portal, "nightly", at=finished - timedelta(minutes=10))
        finish_run(session, run, status, pages=10, blocked=blocked, at=finished)
        return run.id


@pytest.fixture
def registry(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        sync_publishers(session, PUBLISHERS)
    return engine


def statuses(engine: Engine, year: int, as_of: date) -> dict[str, tuple[str, str]]:
    with session_scope(engine) as session:
        return {r.publisher: (r.status, r.evidence) for r in missing(session, year, as_of, RULES)}


def test_blocked_or_failing_since_the_deadline_is_unreachable(registry: Engine) -> None:
    # Searched cleanly before the 2020-01-31 deadline, then only blocked or failed after it.
    add_run(registry, "tongxiang", "ok", datetime(2020, 1, 20, 2, tzinfo=UTC))
    add_run(registry, "tongxiang", "ok", datetime(2020, 2, 3, 2, tzinfo=UTC), blocked=3)
    add_run(registry, "tongxiang", "failed", datetime(2020, 2, 4, 2, tzinfo=UTC))
    got = statuses(registry, 2019, date(2020, 5, 1))
    status, evidence = got["桐乡市教育局"]
    assert status == "unreachable"
    assert "none of the 2 since the deadline 2020-01-31 ran clean" in evidence
    assert "(2 ok, 1 failed, 1 blocked)" in evidence
    # The government's deadline (2020-03-31) came after all three: not searched since, but the
    # last search before it was clean, so the portal was reachable and the report is missing.
    status, evidence = got["桐乡市人民政府"]
    assert status == "missing" and "not searched since the deadline 2020-03-31" in evidence


def test_one_clean_search_after_the_deadline_makes_it_missing(registry: Engine) -> None:
    add_run(registry, "tongxiang", "failed", datetime(2020, 2, 3, 2, tzinfo=UTC))
    clean = add_run(registry, "tongxiang", "ok", datetime(2020, 2, 4, 18, 30, tzinfo=UTC))
    status, evidence = statuses(registry, 2019, date(2020, 5, 1))["桐乡市教育局"]
    assert status == "missing"
    assert f"last clean search: run {clean} at 2020-02-05T02:30" in evidence  # Asia/Shanghai


def gone_capture(url: str, title: str | None, run_id: int, kind: str = "article") -> CaptureIn:
    return CaptureIn(
        portal="tongxiang",
        run_id=run_id,
        url=url,
        final_url=url,
        status=404,
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=b"<html><body>404</body></html>",
        fetched_at=datetime(2021, 2, 10, 1, tzinfo=UTC),
        kind=kind,
        outcome="gone",
        listed_title=title,
    )


def test_a_report_deleted_before_capture_is_gone(registry: Engine, store: BlobStore) -> None:
    run = add_run(registry, "tongxiang", "ok", datetime(2021, 2, 10, 2, tzinfo=UTC))
    page = f"{BASE}/art/2021/1/20/art_1229425520_3040000.html"
    module = f"{BASE}/module/xxgk/xxgkAnnualReport.jsp?area=330483ZFC00000&fbtime=2020"
    with session_scope(registry) as session:
        record_capture(
            session, store, gone_capture(page, "桐乡市教育局2020年度政府信息公开工作报告", run)
        )
        record_capture(session, store, gone_capture(module, None, run, kind="module"))
        # A deleted page of another year says nothing about 2020.
        other = f"{BASE}/art/2020/1/20/art_1229425520_3030000.html"
        record_capture(
            session, store, gone_capture(other, "桐乡市教育局2019年度政府信息公开工作报告", run)
        )
    got = statuses(registry, 2020, date(2021, 6, 1))
    status, evidence = got["桐乡市教育局"]
    assert status == "gone"
    assert page in evidence and "2020年度" in evidence and f"(run {run})" in evidence
    assert got["桐乡市人民政府"][0] == "gone" and module in got["桐乡市人民政府"][1]
    # Before its deadline a deleted page is still only not yet due.
    assert statuses(registry, 2020, date(2021, 1, 31))["桐乡市教育局"][0] == "not_yet_due"


def test_searches_of_many_portals_read_in_one_pass_equal_each_read_alone(engine: Engine) -> None:
    """Past `_LISTED` portals the runs are read in one pass and the portals not asked about are
    dropped in Python: every portal's searches equal those of a question about it alone, and a
    portal not asked about is not in the answer. Invented runs: 40 portals, each with its own mix
    of clean, failed and blocked runs around two deadlines."""
    from questions.evidence import _LISTED, searches

    portals = [f"p{i:02d}" for i in range(40)]
    base = datetime(2024, 1, 1, 4, 0, tzinfo=UTC)
    for i, portal in enumerate(portals):
        for n in range(i % 5 + 1):
            status = "failed" if (i + n) % 3 == 0 else "ok"
            add_run(
                engine, portal, status, base + timedelta(days=20 * n + i), blocked=(i + n) % 4 == 0
            )
    deadlines = [date(2024, 1, 31), date(2024, 3, 31)]
    asked = portals[: _LISTED + 3]
    with session_scope(engine) as session:
        together = searches(session, asked, deadlines)
        alone = {k: v for p in asked for k, v in searches(session, [p], deadlines).items()}
    assert len(asked) > _LISTED
    assert together == alone
    assert {portal for portal, _ in together} == set(asked)
    assert len({s.last_clean for s in together.values()}) > 5  # the portals' runs differ
