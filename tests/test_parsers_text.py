"""parse_text on short hand-written texts: templates, year fallbacks, metadata forms, prose rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from parsers import PARSER_VERSION, Metadata, parse_text, report_to_json

TITLE = "某市某局2019年度政府信息公开工作年度报告\n"


@pytest.mark.parametrize(
    ("body", "template"),
    [
        (
            "二、主动公开政府信息情况\n信息内容\t本年新制作数量\t本年新公开数量\t对外公开总数量\n",
            "gov2019",
        ),
        (
            "二、主动公开政府信息情况\n信息内容\t本年制发件数\t本年废止件数\t现行有效件数\n",
            "gov2021",
        ),
        (
            "政府信息公开情况统计表\n指标\t本年度\t历年累计\n主动公开信息\t120\t3400\n",
            "local-pre2019",
        ),
        ("一、概述\n本年度主动公开政府信息120条。\n", "narrative"),
        # A narrative report naming its table as an attachment is still narrative.
        ("附件：政府信息公开情况统计表\n本年度主动公开政府信息120条。\n", "narrative"),
    ],
)
def test_template_detection(body: str, template: str) -> None:
    assert parse_text(TITLE + body).template == template


def test_year_from_statistics_period_when_the_title_has_none() -> None:
    r = parse_text(
        "政府信息公开工作报告\n本报告中所列数据的统计期限自2016年1月1日起至2016年12月31日止。"
    )
    assert r.report_year == 2016


def test_year_from_fbtime_then_from_publication() -> None:
    url = "http://xxgk.tx.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=330483ZFC00000&fbtime=2020"
    assert parse_text("一、总体情况\n正文。", url).report_year == 2020
    assert parse_text("发布时间:2021-01-20\n一、总体情况\n正文。").report_year == 2020


def test_metadata_text_forms() -> None:
    text = (
        "索 引 号：330483/2015-00012 | 公开方式：依申请公开\n"
        "发布机构：市林业局 生成日期：2015年3月8日\n"
        "主题分类：  \n"
        "文号：桐林〔2015〕3号\n"
        "发布日期：2015/03/09 点击数：12\n"
        "信息来源：市林业局办公室\n"
        "市林业局2014年度政府信息公开工作报告\n"
    )
    assert parse_text(text).metadata == Metadata(
        index_no="330483/2015-00012",
        publisher="市林业局",
        disclosure="依申请公开",
        written_date="2015-03-08",
        category=None,  # label with nothing after it
        doc_number="桐林〔2015〕3号",
        published_at="2015-03-09",
        source="市林业局办公室",
    )


def test_labels_inside_prose_are_not_metadata() -> None:
    r = parse_text(TITLE + "本报告数据来源：市统计局。发布时间以网站为准。")
    assert r.metadata == Metadata()


def test_published_at_with_seconds_and_bad_dates() -> None:
    assert (
        parse_text("发布时间：2018-01-17 08:52:07\n").metadata.published_at == "2018-01-17T08:52:07"
    )
    assert parse_text("发布时间：2018-02-30\n").metadata.published_at is None
    assert parse_text("发布时间：２０１８－０１－１７\n").metadata.published_at == "2018-01-17"


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        ("全年共收到政府信息公开申请十五件。", "headline.applications_received", 15),
        ("本年新收政府信息公开申请12件，上年结转3件。", "headline.applications_carried_over", 3),
        ("全年收取检索、复制费用0.5万元。", "headline.fees_yuan", 5000),
        ("全年收取费用120.50元。", "headline.fees_yuan", Decimal("120.50")),
        ("全年主动公开政府信息1.03万条。", "headline.proactive_total", 10300),
        ("全年主动公开政府信息１２０条。", "headline.proactive_total", 120),
        ("全年未收到政府信息公开申请。", "headline.applications_received", 0),
        ("本年度未收取信息处理费。", "headline.fees_yuan", 0),
        ("无行政复议、行政诉讼案件。", "headline.litigation_total", 0),
    ],
)
def test_prose_rules(sentence: str, key: str, value: int | Decimal) -> None:
    r = parse_text(TITLE + sentence)
    assert r.values()[key] == value
    assert type(r.values()[key]) is type(value)


@pytest.mark.parametrize(
    ("sentence", "absent"),
    [
        ("不断规范行政事业性收费行为。", "headline.fees_yuan"),  # 不断…收费 is no 'none charged'
        ("印发4734份，均免费发放至各机关部门。", "headline.fees_yuan"),  # seed 002
        ("于15个工作日内答复申请人。", "headline.applications_answered"),  # seed 000
        ("今年申请数量为224件，比2016年(435件)减少了48%。", "headline.applications_received"),
        ("复议结果为维持5件，被依法纠错1件。", "headline.review_total"),
    ],
)
def test_prose_that_gives_nothing(sentence: str, absent: str) -> None:
    assert absent not in parse_text(TITLE + sentence).values()


def test_positive_statement_wins_over_none_sentence() -> None:
    r = parse_text(TITLE + "未发生行政复议，行政诉讼2件。")
    assert r.values()["headline.litigation_total"] == 2
    assert r.values()["headline.review_total"] == 0


def test_outcomes_check_fails_when_outcomes_exceed_answered() -> None:
    r = parse_text(TITLE + "共收到申请10件，办结8件，同意公开6件、同意部分公开2件，不同意公开3件。")
    check = next(c for c in r.checks if c.rule == "outcomes_within_answered")
    assert not check.ok and "11" in check.detail


def test_report_to_json_shape_and_exact_decimals() -> None:
    r = parse_text(TITLE + "全年收取费用24252.311082元。")
    out = report_to_json(r)
    assert list(out) == [
        "title", "report_year", "template", "metadata", "figures", "provenance", "checks", "needs_ocr"
    ]  # fmt: skip
    assert list(out["metadata"]) == [
        "index_no", "publisher", "disclosure", "written_date", "category", "doc_number",
        "published_at", "source",
    ]  # fmt: skip
    assert out["figures"] == {"headline.fees_yuan": "24252.311082"}
    prov = out["provenance"]["headline.fees_yuan"]
    assert r.text[prov["start"] : prov["end"]] == prov["text"] == "全年收取费用24252.311082元。"
    json.dumps(out)  # plain JSON, no custom encoder needed
    assert PARSER_VERSION == "0.3.0"


def test_empty_text_is_no_report_and_no_error() -> None:
    r = parse_text("")
    assert (r.title, r.report_year, r.is_report, r.figures, r.template) == (
        None, None, False, (), "narrative"
    )  # fmt: skip
