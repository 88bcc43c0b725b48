"""The runs' tallies (archive.models.RunTally, migration 0012's triggers on crawl_runs): after
every kind of write to a run (opened, finished ok, failed or blocked, a half-run closed as
failed, its counts changed, deleted) each (portal, status, blocked) tally equals a count of its
runs; two transactions finishing runs of one portal at once both count; and the evidence read
from the tallies equals the evidence read from the runs themselves. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from db_support import trigger_names
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from archive.clock import utc
from archive.db import session_scope
from archive.models import CrawlRun, RunTally
from archive.runs import finish_run, start_run
from questions.evidence import searches

T0 = datetime(2024, 1, 10, 18, 0, tzinfo=UTC)
NEVER = datetime(2100, 1, 1, tzinfo=UTC)  # a cut after everything: the runs themselves


def tallies(engine: Engine) -> dict[tuple[str, str, int], tuple[object, ...]]:
    t = RunTally
    with Session(engine) as session:
        rows = session.execute(
            select(
                t.portal, t.status, t.blocked, t.runs, t.first_finished, t.last_finished, t.last_id
            )
        )
        return {(p, s, b): tuple(rest) for p, s, b, *rest in rows}


def recount(engine: Engine) -> dict[tuple[str, str, int], tuple[object, ...]]:
    r = CrawlRun
    stmt = select(
        r.portal, r.status, r.blocked, func.count(), func.min(r.finished_at),
        func.max(r.finished_at), func.max(r.id),
    ).group_by(r.portal, r.status, r.blocked)  # fmt: skip
    with Session(engine) as session:
        # min/max come back as SQLite's text: read them through the column's type, as a tally's
        found = {}
        for p, s, b, n, first, last, last_id in session.execute(stmt):
            found[(p, s, b)] = (n, _utc(first), _utc(last), last_id)
        return found


def _utc(value: datetime | str | None) -> datetime | None:
    return None if value is None else utc(value)


def run(engine: Engine, portal: str, status: str | None, at: datetime, blocked: int = 0) -> int:
    with session_scope(engine) as session:
        opened = start_run(session, portal, "nightly", at=at - timedelta(minutes=10))
        if status is not None:
            finish_run(session, opened, status, pages=5, blocked=blocked, at=at)
        return opened.id


def test_the_triggers_exist_at_head(engine: Engine) -> None:
    assert {"run_tallies_insert", "run_tallies_update"} <= trigger_names(engine)


def test_the_tallies_follow_every_write(engine: Engine) -> None:
    assert tallies(engine) == {}
    ok = [run(engine, "tongxiang", "ok", T0 + timedelta(days=n)) for n in range(3)]
    run(engine, "tongxiang", "failed", T0 + timedelta(days=4))
    run(engine, "tongxiang", "ok", T0 + timedelta(days=5), blocked=2)
    half = run(engine, "taizhou", None, T0)  # still running
    assert tallies(engine) == recount(engine)
    assert tallies(engine)[("tongxiang", "ok", 0)][0] == 3
    assert tallies(engine)[("taizhou", "running", 0)][1:3] == (None, None)
    with session_scope(engine) as session:  # the half-run closed as failed (ops.leases)
        session.execute(
            update(CrawlRun).where(CrawlRun.id == half).values(status="failed", finished_at=T0)
        )
    assert ("taizhou", "running", 0) not in tallies(engine)
    with session_scope(engine) as session:  # its counts corrected: it met a challenge page
        session.execute(update(CrawlRun).where(CrawlRun.id == ok[1]).values(blocked=1))
    with session_scope(engine) as session:  # the newest clean run deleted
        session.execute(delete(CrawlRun).where(CrawlRun.id == ok[2]))
    with session_scope(engine) as session:  # a change the tallies do not hold: no recount
        session.execute(update(CrawlRun).where(CrawlRun.id == ok[0]).values(pages=99))
    assert tallies(engine) == recount(engine)
    assert tallies(engine)[("tongxiang", "ok", 0)] == (1, T0, T0, ok[0])
    with session_scope(engine) as session:
        session.execute(delete(CrawlRun))
    assert tallies(engine) == {}


def test_two_transactions_finishing_runs_of_one_portal_both_count(engine: Engine) -> None:
    """The first transaction holds its run uncommitted while the second writes one of the same
    portal; on PostgreSQL the second waits for the first (the tallies' lock), so neither counts
    without the other. (SQLite takes one writer at a time anyway.)"""
    if engine.dialect.name != "postgresql":
        return
    first = Session(engine)
    opened = start_run(first, "tongxiang", "nightly", at=T0)
    finish_run(first, opened, "ok", at=T0 + timedelta(minutes=5))
    done = threading.Event()

    def second() -> None:
        run(engine, "tongxiang", "ok", T0 + timedelta(hours=1))
        done.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not done.wait(1.0)  # waiting for the first transaction's lock
    first.commit()
    first.close()
    worker.join(30)
    assert done.is_set()
    assert tallies(engine)[("tongxiang", "ok", 0)][0] == 2
    assert tallies(engine) == recount(engine)


def test_the_evidence_from_the_tallies_equals_the_evidence_from_the_runs(engine: Engine) -> None:
    """Invented runs: a clean portal, one failing since the deadline, one blocked since it, one
    not searched since it, and one told run (its challenge pages recorded): every field of every
    search, at two deadlines, is the same read either way."""
    day = timedelta(days=1)
    for n in range(4):
        run(engine, "clean", "ok", T0 + n * 20 * day)
        run(engine, "failing", "ok" if n < 2 else "failed", T0 + n * 20 * day)
        run(engine, "blocked", "ok", T0 + n * 20 * day, blocked=n)
        run(engine, "quiet", "ok", T0 - n * day)
    told = run(engine, "told", "ok", T0 + 40 * day, blocked=3)
    run(engine, "told", "ok", T0 + 45 * day, blocked=3)
    run(engine, "told", "failed", T0 + 50 * day)
    portals = ["clean", "failing", "blocked", "quiet", "told", "never crawled"]
    deadlines = [date(2024, 1, 31), date(2024, 3, 31)]
    with Session(engine) as session:
        for told_runs in ((), (told,)):
            tallied = searches(session, portals, deadlines, None, told_runs)
            counted = searches(session, portals, deadlines, NEVER, told_runs)
            assert tallied == counted
    by = {(s.portal, s.deadline): s for s in tallied.values()}
    assert by[("failing", deadlines[0])].evidence.endswith(
        "none of the 2 since the deadline 2024-01-31 ran clean"
    )
    assert not by[("blocked", deadlines[0])].reachable
    assert by[("told", deadlines[0])].reachable  # the told run is clean
    assert not by[("quiet", deadlines[0])].since and by[("quiet", deadlines[0])].reachable
