"""Benchmark: `missing` and `late` for one year over 150,000 publishers x 15 years, on SQLite
and on PostgreSQL.

Example: .venv/bin/python bench/questions_bench.py                 (both databases)
         .venv/bin/python bench/questions_bench.py --db sqlite     (builds /tmp/nianbao-questions-bench-150000.db)
         .venv/bin/python bench/questions_bench.py --db postgresql --pg-url postgresql+psycopg://…
         .venv/bin/python bench/questions_bench.py --fresh --publishers 100000

The archive is synthetic but shaped like the real one, and built through the real migrations:
portals of 1,000 registered publishers (70% departments, 20% townships, 10% governments; 5% created
and 5% merged away part-way), one report a year each for 2010-2024 with about 3% never published,
12% published after their deadline, 5% dated only by 成文日期 and 2% republished at a second URL,
and 260 weekly crawl runs per portal (a tenth of the portals failing every third run). The rows
are loaded at migration LOAD_AT, before the statuses' cells and their triggers, then migrated to
head, so that migration 0008 fills the cells from the documents as it does for a real archive. The
SQLite file is built once (a few minutes) and reused; PostgreSQL is a throwaway server
(tests/pgserver.py: initdb and pg_ctl, fsync off) built at each run unless `--pg-url` names one
already loaded. Each question is timed as the library call the CLI makes, cold (first call in
the process) and warm (best of `--repeat` rounds, each calling every question in turn), rows
built as the command prints them; the yardstick is the bare indexed query in the same run (the
report year's publisher ids, read from the (report_year, publisher_id) index alone, through the
driver).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from archive.db import make_engine, session_scope, upgrade
from archive.models import CrawlRun, Document, Publisher
from questions.deadlines import DeadlineRules, deadline_for
from questions.status import late, missing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pgserver import postgres_server  # noqa: E402

LOAD_AT = "0007"  # the last migration before the statuses' cells
PORTALS = 150
PER_PORTAL = 1000
YEARS = range(2010, 2025)
KINDS = ["department"] * 7 + ["township"] * 2 + ["government"]
CHUNK = 50_000
RULES = DeadlineRules()
SHANGHAI_OFFSET = timedelta(hours=8)


def publishers(rng: random.Random) -> Iterator[dict[str, Any]]:
    for p in range(PORTALS):
        for i in range(PER_PORTAL):
            roll = rng.random()
            yield {
                "portal": f"portal{p:03d}",
                "name": f"模拟市第{p:03d}区单位{i:04d}局",
                "aliases": [f"单位{i:04d}局", f"区单位{i:04d}"],
                "kind": rng.choice(KINDS),
                "unit_code": f"33{p:03d}{i:05d}" if roll < 0.3 else None,
                "first_year": rng.randint(2011, 2016) if roll > 0.95 else None,
                "last_year": rng.randint(2017, 2022) if 0.9 < roll <= 0.95 else None,
            }


def documents(rng: random.Random, pubs: Sequence[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    for pub_id, portal, kind, first, last in pubs:
        for year in YEARS:
            if (first and year < first) or (last and year > last) or rng.random() < 0.03:
                continue
            due = deadline_for(RULES, year, kind)
            late_by = rng.randint(1, 90) if rng.random() < 0.12 else -rng.randint(0, 80)
            day = due + timedelta(days=late_by)
            for copy in range(2 if rng.random() < 0.02 else 1):
                yield _document(rng, pub_id, portal, year, day + timedelta(days=30 * copy), copy)


def _document(
    rng: random.Random, pub_id: int, portal: str, year: int, day: date, copy: int
) -> dict[str, Any]:
    published = f"{day.isoformat()}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"
    seen = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
        days=rng.randint(0, 400), seconds=rng.randint(0, 86399)
    )
    return {
        "portal": portal,
        "url": f"http://{portal}.example.gov.cn/art/{day.year}/{day.month}/{day.day}/"
        f"art_1229000001_{pub_id * 100 + year % 100}{copy}.html",
        "publisher_id": pub_id,
        "publisher_label": None,
        "title": f"单位{pub_id}{year}年度政府信息公开工作报告",
        "report_year": year,
        "index_no": None,
        "written_date": (day - timedelta(days=rng.randint(0, 5))).isoformat(),
        "published_at": published if rng.random() >= 0.05 else None,
        "first_seen_at": seen,
        "last_seen_at": seen,
        "template": "gov2019" if year >= 2019 else "local-pre2019",
    }


def runs() -> Iterator[dict[str, Any]]:
    start = datetime(2020, 1, 1, 18, 30, tzinfo=UTC)
    for p in range(PORTALS):
        for n in range(260):
            began = start + timedelta(days=7 * n)
            yield {
                "kind": "nightly",
                "portal": f"portal{p:03d}",
                "started_at": began,
                "finished_at": began + timedelta(minutes=20),
                "status": "failed" if (p % 10 == 0 and n % 3 == 0) else "ok",
                "pages": 900,
                "new_reports": 0,
                "new_versions": 0,
                "blocked": 0,
                "errors": 0,
            }


def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(engine: Engine) -> None:
    rng = random.Random(20240601)
    with session_scope(engine) as session:
        for chunk in chunks(publishers(rng)):
            session.execute(insert(Publisher), chunk)
        cols = (Publisher.id, Publisher.portal, Publisher.kind)
        pubs = session.execute(
            select(*cols, Publisher.first_year, Publisher.last_year).order_by(Publisher.id)
        ).all()
        for chunk in chunks(documents(rng, pubs)):
            session.execute(insert(Document), chunk)
        for chunk in chunks(runs()):
            session.execute(insert(CrawlRun), chunk)


def load(engine: Engine) -> None:
    """The rows at LOAD_AT, then the migrations to head (a no-op when built already)."""
    if "publishers" not in inspect(engine).get_table_names():
        upgrade(engine, LOAD_AT)
    with Session(engine) as session:
        built = session.scalar(select(func.count()).select_from(Publisher))
    if not built:
        t0 = time.perf_counter()
        build(engine)
        print(f"loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    t0 = time.perf_counter()
    upgrade(engine)
    print(f"migrated to head in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def timed(calls: Sequence[Callable[[], list[Any]]], repeat: int) -> list[tuple[float, float, int]]:
    """(cold ms, warm best ms, rows) of each call. The warm rounds take the calls in turn, so a
    burst of load on this shared machine weighs on all of them alike, not on one's ratio."""
    colds = []
    for call in calls:
        t0 = time.perf_counter()
        n = len(call())
        colds.append(((time.perf_counter() - t0) * 1000, n))
    warm = [float("inf")] * len(calls)
    for _ in range(repeat):
        for i, call in enumerate(calls):
            warm[i] = min(warm[i], _once(call) * 1000)
    return [(cold, best, n) for (cold, n), best in zip(colds, warm, strict=True)]


def _once(call: Callable[[], list[Any]]) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def measure(engine: Engine, name: str, year: int, repeat: int) -> None:
    """Bare, missing and late over `engine`, with each question's ratio to the bare query."""
    as_of = date(year + 2, 1, 1)
    with Session(engine) as session:
        docs = session.scalar(select(func.count()).select_from(Document))
        pubs = session.scalar(select(func.count()).select_from(Publisher))
        print(f"{pubs:,} publishers, {docs:,} documents ({name}); report year {year}")
        raw = session.connection().connection.dbapi_connection
        bare = "SELECT publisher_id FROM documents WHERE report_year = " + str(int(year))
        questions: list[tuple[str, Callable[[], list[Any]]]] = [
            ("bare", lambda: raw.cursor().execute(bare).fetchall()),
            ("missing", lambda: missing(session, year, as_of, RULES)),
            ("late", lambda: late(session, year, RULES)),
        ]
        found = timed([call for _, call in questions], repeat)
        yardstick = found[0][1]
        for (label, _), (cold, warm, n) in zip(questions, found, strict=True):
            print(
                f"  {label:8} {n:7,} rows   cold {cold:6.1f} ms   warm (best of {repeat}) "
                f"{warm:6.1f} ms   {warm / yardstick:4.2f}x bare"
            )


def main(argv: list[str] | None = None) -> int:
    global PORTALS
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sqlite", type=Path, help="the SQLite file (default under /tmp)")
    parser.add_argument("--pg-url", help="a PostgreSQL database already loaded by this bench")
    parser.add_argument("--publishers", type=int, default=150_000, help="a multiple of 1,000")
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--fresh", action="store_true", help="rebuild the SQLite file")
    args = parser.parse_args(argv)
    PORTALS = args.publishers // PER_PORTAL
    if args.db in ("sqlite", "both"):
        db = args.sqlite or Path(f"/tmp/nianbao-questions-bench-{args.publishers}.db")
        if args.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db}")
        load(engine)
        measure(engine, "SQLite", args.year, args.repeat)
        engine.dispose()
    if args.db in ("postgresql", "both"):
        with ExitStack() as stack:
            url = args.pg_url or stack.enter_context(postgres_server()).create_database()
            engine = make_engine(url)
            load(engine)
            with engine.connect() as conn:  # fresh statistics and visibility map, as autovacuum
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            measure(engine, "PostgreSQL", args.year, args.repeat)
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
