"""A page archived as a report and judged no report since (issue 13's leftover): `missing` and
`late` no longer count it as the publisher's report. The archive is built through the real
indexing code (record_capture + index_captures), on SQLite and PostgreSQL. The pages are invented,
in the shape of tests/test_classify.py's: a dated report, then a 图解 at the same URL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import session_scope
from archive.indexing import index_captures
from archive.models import Document
from archive.registry import PublisherSpec, sync_publishers
from questions.deadlines import DeadlineRules
from questions.status import late, missing, timeliness
from tests.capture_support import html_capture

BASE = "http://www.zjtz.gov.cn"
T0 = datetime(2024, 4, 12, 2, 0, tzinfo=UTC)
RULES = DeadlineRules()
PAGE = (
    "<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
    "<div>发布时间：{published}</div>"
    "<div id='zoom'><p>一、总体情况</p><p>2023年，台州市主动公开政府信息共计1234条。</p></div>"
    "</body></html>"
)
REPORT = "台州市人民政府2023年政府信息公开工作年度报告"
SPECS = [
    PublisherSpec("taizhou", "台州市人民政府", (), "government"),
    PublisherSpec("taizhou", "台州市教育局", (), "department"),
]


def _page(url: str, title: str, at: datetime, published: str = "2024-04-10 09:30") -> CaptureIn:
    return html_capture(url, PAGE.format(title=title, published=published).encode(), at)


def _index(engine: Engine, store: BlobStore, *captures: CaptureIn) -> None:
    with session_scope(engine) as session:
        sync_publishers(session, SPECS)
        for cap in captures:
            record_capture(session, store, cap)
        index_captures(session, store)


def _answers(engine: Engine) -> tuple[set[str], set[str], set[str]]:
    with session_scope(engine) as session:
        gaps = {r.publisher for r in missing(session, 2023, date(2025, 1, 1), RULES)}
        told = timeliness(session, 2023, RULES)
        dateless = {r.publisher for r in [*told.undated, *told.seen_in_time]}
        return gaps, {r.publisher for r in late(session, 2023, RULES)}, dateless


def test_a_report_judged_other_since_is_missing_not_late(engine: Engine, store: BlobStore) -> None:
    url = f"{BASE}/art/1.html"
    _index(engine, store, _page(url, REPORT, T0))
    gaps, overdue, _ = _answers(engine)
    assert "台州市人民政府" not in gaps and overdue == {"台州市人民政府"}  # late: 04-10 > 03-31
    # The page is now a 图解 (a better classifier, or the portal replaced it): no report.
    _index(engine, store, _page(url, f"图解：{REPORT}", T0 + timedelta(days=1)))
    with session_scope(engine) as session:
        assert session.scalar(select(Document.not_report)) is not None
    gaps, overdue, dateless = _answers(engine)
    assert gaps == {"台州市人民政府", "台州市教育局"}
    assert overdue == set() and dateless == set()


def test_a_report_copy_judged_other_leaves_the_other_copy(engine: Engine, store: BlobStore) -> None:
    on_time, judged = f"{BASE}/art/2.html", f"{BASE}/art/3.html"
    _index(
        engine,
        store,
        _page(on_time, REPORT, T0, "2024-05-20 10:00"),  # late, but the only report left
        _page(judged, REPORT, T0, "2024-03-01 10:00"),  # on time, until judged a 图解
    )
    assert _answers(engine)[1] == set()  # the on-time copy makes the publisher on time
    _index(engine, store, _page(judged, f"图解：{REPORT}", T0 + timedelta(days=1)))
    gaps, overdue, _ = _answers(engine)
    assert "台州市人民政府" not in gaps and overdue == {"台州市人民政府"}
    with session_scope(engine) as session:
        [row] = late(session, 2023, RULES)
    assert (row.url, row.published_at, row.days_late) == (on_time, "2024-05-20T10:00", 50)
