"""The statuses kept as the archive changes (report_cells, migration 0008, issue 16 item 5):
`missing` and `late` read from the cells answer exactly as when judged from the documents
(questions.status's computed path, taken for `--as-of`), after every kind of write: indexing,
copies, a page judged no report since, a re-parse, the registry's sync adding, changing and
removing publishers; on SQLite and PostgreSQL, and over the crawled replica history."""

from __future__ import annotations

import random
import re
import string
from datetime import UTC, date, datetime, timedelta

import pytest
from db_support import trigger_names
from questions_fixtures import History, history_of
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.cells import dated, without_report
from archive.db import session_scope
from archive.indexing import index_captures
from archive.models import INDEXED_URL, Document, Publisher, ReportCell
from archive.registry import PublisherSpec, sync_publishers
from questions.deadlines import DeadlineRules
from questions.status import missing, timeliness
from replica.truth import load_truth
from tests.capture_support import html_capture

RULES = DeadlineRules()
AS_OF = date(2026, 1, 1)
NEVER = datetime(2100, 1, 1, tzinfo=UTC)  # a cut after everything: the computed path
BASE = "http://www.zjtz.gov.cn"
T0 = datetime(2024, 1, 20, 2, 0, tzinfo=UTC)
# Invented pages, in the shape of tests/test_classify.py's.
PAGE = (
    "<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
    "{date}<div id='zoom'><p>一、总体情况</p><p>{year}年，主动公开政府信息共计1234条。</p></div>"
    "</body></html>"
)
SPECS = [
    PublisherSpec("taizhou", "台州市人民政府", (), "government"),
    PublisherSpec("taizhou", "台州市教育局", (), "department"),
    PublisherSpec("taizhou", "台州市民政局", (), "department", first_year=2023),
]


def answers(session: Session, year: int, until: datetime | None) -> tuple[object, ...]:
    told = timeliness(session, year, RULES, until)
    return missing(session, year, AS_OF, RULES, until), told.late, told.undated, told.seen_in_time


def assert_same(engine: Engine, years: range = range(2021, 2025)) -> None:
    with Session(engine) as session:
        for year in years:
            assert answers(session, year, None) == answers(session, year, NEVER), year


def page(path: str, title: str, year: int, at: datetime, published: str | None) -> CaptureIn:
    stamp = f"<div>发布时间：{published}</div>" if published else ""
    return html_capture(
        f"{BASE}{path}", PAGE.format(title=title, date=stamp, year=year).encode(), at
    )


def index(engine: Engine, store: BlobStore, *captures: CaptureIn, reparse: bool = False) -> None:
    with session_scope(engine) as session:
        for cap in captures:
            record_capture(session, store, cap)
        index_captures(session, store, reparse=reparse)


def cells(engine: Engine, year: int) -> dict[str, tuple[str, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ReportCell.name, ReportCell.claimed, ReportCell.reports).where(
                ReportCell.year == year
            )
        )
        return {name: (claimed, reports) for name, claimed, reports in rows}


def test_the_triggers_exist_at_head(engine: Engine) -> None:
    names = trigger_names(engine)
    assert {n for n in names if n.startswith("report_cells_")} >= {
        "report_cells_doc_insert",
        "report_cells_doc_update",
    }


def test_the_cells_follow_every_write(engine: Engine, store: BlobStore) -> None:
    gov, edu = "台州市人民政府", "台州市教育局"
    with session_scope(engine) as session:
        sync_publishers(session, SPECS)
    index(
        engine,
        store,
        page("/a/1.html", f"{gov}2023年政府信息公开工作年度报告", 2023, T0, "2024-04-02 09:00"),
        page("/a/2.html", f"{edu}2023年政府信息公开工作年度报告", 2023, T0, None),  # undated
        page("/a/3.html", f"{edu}2022年政府信息公开工作年度报告", 2022, T0, "2023-01-10"),
    )
    assert cells(engine, 2023)[gov] == ("2024-04-02", 1)
    assert cells(engine, 2023)[edu] == ("", 1)
    assert cells(engine, 2022)[gov] == ("", 0)  # a covered year: every publisher has its cell
    assert_same(engine)
    # A second copy claiming an earlier date, then the first copy judged a 图解.
    later = T0 + timedelta(days=1)
    index(engine, store, page("/a/4.html", f"{gov}2023年政府信息公开工作年度报告", 2023, later,
                              "2024-03-30 10:00"))  # fmt: skip
    assert cells(engine, 2023)[gov] == ("2024-03-30", 2)
    index(engine, store, page("/a/4.html", f"图解：{gov}2023年政府信息公开工作年度报告", 2023,
                              later + timedelta(days=1), "2024-03-30 10:00"))  # fmt: skip
    assert cells(engine, 2023)[gov] == ("2024-04-02", 1)
    assert_same(engine)
    # A new year through indexing; the registry changes a kind, adds one, removes one.
    index(engine, store, page("/a/5.html", f"{gov}2024年政府信息公开工作年度报告", 2024,
                              later, "2025-03-01"))  # fmt: skip
    assert set(cells(engine, 2024)) == {s.name for s in SPECS}
    changed = [SPECS[0], PublisherSpec("taizhou", edu, (), "township"), SPECS[2]]
    with session_scope(engine) as session:
        sync_publishers(
            session, [*changed, PublisherSpec("taizhou", "台州市财政局", (), "department")]
        )
    with Session(engine) as session:
        kinds = session.execute(select(ReportCell.kind).where(ReportCell.name == edu)).scalars()
        assert set(kinds) == {"township"}
    assert_same(engine)
    with session_scope(engine) as session:
        sync_publishers(session, [SPECS[1], SPECS[2]])  # the government is gone
    assert gov not in cells(engine, 2023)
    assert_same(engine)
    # A re-parse; a document matched to nobody since; one written and deleted outright.
    index(engine, store, reparse=True)
    assert_same(engine)
    with session_scope(engine) as session:
        session.execute(update(Document).where(Document.report_year == 2022).values(
            publisher_id=None))  # fmt: skip
    assert cells(engine, 2022)[edu] == ("", 0)
    assert_same(engine)
    with session_scope(engine) as session:
        pub = session.scalar(select(Publisher.id).where(Publisher.name == edu))
        session.add(Document(portal="taizhou", url=f"{BASE}/x", publisher_id=pub, report_year=2021,
                             written_date="2022-01-05", first_seen_at=T0, last_seen_at=T0))  # fmt: skip
    assert cells(engine, 2021)[edu] == ("2022-01-05", 1)
    with session_scope(engine) as session:
        session.execute(delete(Document).where(Document.url == f"{BASE}/x"))
    assert cells(engine, 2021)[edu] == ("", 0)
    assert_same(engine)


TRUTH = load_truth()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


def test_the_cells_answer_as_the_documents_over_the_crawled_history(history: History) -> None:
    assert_same(history.engine, range(TRUTH.first_year, TRUTH.last_year + 1))


def add_copy(session: Session, pub: int, path: str, seen: datetime, **dates: str) -> None:
    session.add(Document(portal="taizhou", url=f"{BASE}{path}", publisher_id=pub, report_year=2023,
                         first_seen_at=seen, last_seen_at=seen, **dates))  # fmt: skip


def test_late_from_the_cells_with_a_long_url_and_dateless_copies(engine: Engine) -> None:
    """The cells `late` reads beside ix_report_cells_late (archive.models): a URL too long for its
    btree rows (a write that would otherwise fail on PostgreSQL), and a dated late copy beside a
    dateless one, seen by the deadline (on time) or after it (late)."""
    gov, edu, civil = (s.name for s in SPECS)
    # Letters that do not compress: past btree's ~2.7 KB even after PostgreSQL's compression.
    letters = random.Random(16).choices(string.ascii_letters, k=INDEXED_URL + 1500)
    long_path = "/a/" + "".join(letters) + ".html"
    with session_scope(engine) as session:
        sync_publishers(session, SPECS)
        ids = {name: pid for name, pid in session.execute(select(Publisher.name, Publisher.id))}
        add_copy(session, ids[gov], long_path, T0, published_at="2024-04-10T09:00")
        add_copy(session, ids[edu], "/b/1.html", T0, written_date="2024-02-05")
        add_copy(session, ids[edu], "/b/2.html", datetime(2024, 1, 31, 15, 59, tzinfo=UTC))
        add_copy(session, ids[civil], "/c/1.html", T0, published_at="2024-02-10T10:00")
        add_copy(session, ids[civil], "/c/2.html", datetime(2024, 1, 31, 16, 0, tzinfo=UTC))
    with Session(engine) as session:
        told = timeliness(session, 2023, RULES)
    # 人 (U+4EBA) sorts before 民 (U+6C11): the order of (portal, publisher) by code point.
    assert [(r.publisher, r.days_late, r.url) for r in told.late] == [
        (gov, 10, f"{BASE}{long_path}"),
        (civil, 10, f"{BASE}/c/1.html"),
    ]
    assert [(r.publisher, r.status, r.url) for r in told.seen_in_time] == [
        (edu, "on_time", f"{BASE}/b/2.html")
    ]
    assert told.late[0].first_seen_at.isoformat() == "2024-01-20T10:00:00+08:00"
    assert_same(engine, range(2023, 2024))


def test_late_reads_its_cells_from_the_index_on_postgresql(engine: Engine) -> None:
    """The statement `late` runs matches the partial index's predicate, so PostgreSQL can read
    the candidates from it alone; with scans of the table ruled out, the plan names it."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's table is itself in the key's order: its twin index is empty
    deadlines = {kind: date(2024, 1, 31) for kind in ("department", "township", "government")}
    with Session(engine) as session:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_indexscan"):
            session.execute(text(f"SET LOCAL {setting} = off"))
        # At a test's few rows (no statistics, no visibility map) the planner takes the board's
        # index (migration 0010) over the late one; this test asks whether the late statement
        # can be answered from the late index alone, so the board's is dropped in this
        # transaction, rolled back at the end.
        session.execute(text("DROP INDEX ix_report_cells_board"))
        plans = []
        for stmt in dated(session.connection(), 2023, deadlines):
            compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
            plans.append("\n".join(session.scalars(text(f"EXPLAIN {compiled}"))))
    assert "Index Only Scan using ix_report_cells_late on" in plans[0], plans[0]
    assert "ix_report_cells_late_rest" in plans[1], plans[1]


def test_missing_reads_its_cells_from_the_gaps_index_on_postgresql(engine: Engine) -> None:
    """The statement `missing` runs matches ix_report_cells_gaps' predicate (literals: a bound
    parameter cannot prove a partial index) even as the generic plan of a prepared statement,
    which psycopg makes of a statement run often; with other scans ruled out, the plan names the
    index, read alone."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's table is itself in the key's order: its twin index is empty
    compiled = without_report(2023, None).compile(engine)
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", str(compiled))))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", str(compiled))
    with Session(engine) as session:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_indexscan"):
            session.execute(text(f"SET LOCAL {setting} = off"))
        session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        session.execute(text(f"PREPARE gaps ({', '.join(['int'] * len(names))}) AS {numbered}"))
        plan = "\n".join(
            session.scalars(text(f"EXPLAIN EXECUTE gaps ({', '.join(['2023'] * len(names))})"))
        )
    assert "Index Only Scan using ix_report_cells_gaps on" in plan, plan
