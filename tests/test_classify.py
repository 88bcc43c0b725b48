"""What is a report (issue 13): the classifier on the corpus's reports and look-alikes, and on
the kinds of post a 年报 column carries that the corpus has no text of (图解, 解读)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers import parse_text
from parsers.classify import OTHER, REPORT, classify

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
