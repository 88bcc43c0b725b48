"""What is a report (issue 13): the classifier on the corpus's reports and look-alikes, and on
the kinds of post a 年报 column carries that the corpus has no text of (图解, 解读)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import session_scope
from archive.indexing import index_captures
from archive.models import Capture, Document
from parsers import parse_text
from parsers.classify import OTHER, REPORT, classify
from questions.reports import get_report, list_reports
from tests.capture_support import html_capture

REAL = Path(__file__).parent / "real"
NOT_REPORTS = [json.loads(line) for line in (REAL / "not-reports.jsonl").read_text().splitlines()]
REPORTS = [json.loads(line) for line in (REAL / "corpus.jsonl").read_text().splitlines()]


def _parse(folder: str, name: str, url: str | None):
    return parse_text((REAL / folder / name).read_text(encoding="utf-8"), url)


@pytest.mark.parametrize("row", NOT_REPORTS, ids=lambda r: r["file"])
def test_every_look_alike_is_kept_out_with_a_reason(row: dict) -> None:
    parsed = _parse("not-reports", Path(row["file"]).name, row["url"])
    assert (parsed.kind, parsed.is_report) == (OTHER, False), parsed.reason
    assert parsed.reason


def test_every_corpus_report_is_a_report() -> None:
    wrong = {}
    for row in REPORTS:
        parsed = _parse("texts", Path(row["file"]).name, row["url"])
        if parsed.kind != REPORT or not parsed.is_report:
            wrong[row["file"]] = parsed.reason
    assert not wrong
    assert len(REPORTS) == 165


def test_no_text_from_pingtan() -> None:
    for path in (REAL / "not-reports").iterdir():
        assert "pingtan" not in path.read_text(encoding="utf-8").lower()
        assert "平潭" not in path.read_text(encoding="utf-8")
    assert all("pingtan" not in (r["url"] or "") for r in NOT_REPORTS)


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("图解：桐乡市2023年政府信息公开工作年度报告\n发布时间:2024-01-20\n", OTHER, "图解"),
        ("一图读懂丨桐乡市2023年政府信息公开工作年度报告\n", OTHER, "图解"),
        ("《桐乡市2023年政府信息公开工作年度报告》政策解读\n", OTHER, "解读"),
        (
            "关于做好2023年政府信息公开工作年度报告编制和发布工作的通知\n各乡镇人民政府：\n",
            OTHER,
            "通知",
        ),
        ("桐乡市召开2023年度政府信息公开工作年报编制部署会\n", OTHER, "news"),
        ("桐乡市2023年政府信息公开工作第三方评估报告\n", OTHER, "评估"),
        ("(文字版)桐乡市2023年政府信息公开工作年度报告\n一、总体情况\n", REPORT, "title"),
        ("桐乡市2023年政府信息公开工作年度报告\n一、总体情况\n", REPORT, "title"),
    ],
)
def test_kinds_of_post_in_a_report_column(text: str, kind: str, reason: str) -> None:
    parsed = parse_text(text)
    assert parsed.kind == kind
    assert reason in parsed.reason


def test_a_notice_publishing_the_report_it_carries_is_the_report() -> None:
    # reports/0014: 贺州市人民政府办公室关于公布贺州市2009年度…年度报告的通知, the report follows.
    parsed = _parse("texts", "0014.txt", None)
    assert parsed.kind == REPORT


def test_verdict_without_evidence_is_other() -> None:
    verdict = classify(None, "各位市民：今天天气晴。", None)
    assert verdict.kind == OTHER and "no annual report" in verdict.reason


# --- the archive: a non-report kept as kind `other` with its reason, never listed ---------------

BASE = "http://www.zjtz.gov.cn"
T0 = datetime(2024, 1, 21, 2, 0, tzinfo=UTC)
REPORT_PAGE = (
    "<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
    "<div id='zoom'><p>一、总体情况</p><p>2023年，台州市主动公开政府信息共计1234条。</p></div>"
    "</body></html>"
)


def _page(url: str, title: str, at: datetime) -> CaptureIn:
    return html_capture(url, REPORT_PAGE.format(title=title).encode(), at)


def _index(engine: Engine, store: BlobStore, *captures: CaptureIn) -> None:
    with session_scope(engine) as session:
        for cap in captures:
            record_capture(session, store, cap)
        index_captures(session, store)


def test_a_companion_is_archived_as_other_with_its_reason(engine: Engine, store: BlobStore) -> None:
    report = _page(f"{BASE}/art/1.html", "台州市2023年政府信息公开工作年度报告", T0)
    graphic = _page(f"{BASE}/art/2.html", "一图读懂台州市2023年政府信息公开工作年度报告", T0)
    notice = _page(
        f"{BASE}/art/3.html", "关于做好2023年政府信息公开工作年度报告编制发布工作的通知", T0
    )
    _index(engine, store, report, graphic, notice)
    with session_scope(engine) as session:
        [row] = list_reports(session)
        assert row.url == report.url and row.kind == "report"
        reasons = dict(session.execute(select(Capture.url, Capture.not_report)).all())
        assert reasons[report.url] is None
        assert reasons[graphic.url].startswith("other: graphic companion (图解)")
        assert reasons[notice.url].startswith("other: notice (通知)")


def test_a_report_judged_other_at_its_latest_fetch_is_no_longer_listed(
    engine: Engine, store: BlobStore
) -> None:
    url = f"{BASE}/art/4.html"
    _index(engine, store, _page(url, "台州市2023年政府信息公开工作年度报告", T0))
    later = _page(url, "图解：台州市2023年政府信息公开工作年度报告", T0 + timedelta(days=1))
    _index(engine, store, later)
    with session_scope(engine) as session:
        assert list_reports(session) == []
        doc_id = session.scalar(select(Document.id))
        assert doc_id is not None
        detail = get_report(session, doc_id)  # `show` says what it is now, and why
        assert detail is not None and detail.report.kind == "other"
        assert "图解" in (detail.report.reason or "")
