"""The forms real report texts take (issue 14), one small made-up text per class.

Tables flattened with '|', one cell per line, a text stopping at a row, digits lost from styled
spans, traditional-character and pinyin-glossed copies, and prose phrasings. The real texts and
their hand labels are in tests/real (test_parsers_real.py); these pin each class down alone.
"""

from __future__ import annotations

from parsers import parse_text, report_to_json
from parsers.model import ParsedReport

GOV2021_HEAD = "第二十条第(一)项\n信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n"
APPS_HEAD = "三、收到和处理政府信息公开申请情况\n"


def values(r: ParsedReport, prefix: str = "") -> dict[str, object]:
    return {f.key: f.value for f in r.figures if f.key.startswith(prefix)}


def test_pipe_table_rows_are_read_with_their_cells() -> None:
    text = (
        GOV2021_HEAD + "规章 | 0 | 0 | 6 |\n行政规范性文件 | 4 | 0 | 32 |\n" + APPS_HEAD
        + "一、本年新收政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 1 | 4 | ||\n"
    )  # fmt: skip
    r = parse_text(text)
    assert values(r, "proactive.art20_1.normative_docs") == {
        "proactive.art20_1.normative_docs.issued": 4,
        "proactive.art20_1.normative_docs.repealed": 0,
        "proactive.art20_1.normative_docs.in_force": 32,
    }
    assert list(values(r, "applications.new_received").values()) == [3, 0, 0, 0, 0, 1, 4]
    fig = r.figure("applications.new_received.total")
    assert fig is not None and fig.provenance.form == "pipe-table" and not fig.blank


def test_one_cell_per_line_with_lone_pipes_and_a_negative_change() -> None:
    text = (
        "第二十条第(五)项\n|\n信息内容\n|\n上一年项目数量\n|\n本年增/减\n|\n处理决定数量\n|\n"
        "行政许可\n|\n1215\n|\n-35\n|\n1180\n|\n本年新收政府信息公开申请数量\n"
    )
    r = parse_text(text)
    assert values(r, "proactive.art20_5.licensing") == {
        "proactive.art20_5.licensing.prev_year_items": 1215,
        "proactive.art20_5.licensing.change": -35,
        "proactive.art20_5.licensing.decisions": 1180,
    }


def test_trailing_pipes_and_empty_cells_one_per_line() -> None:
    text = (
        "第二十条第(一)项 | |||\n信息内容 |\n本年新 制作数量 |\n本年新 公开数量 |\n对外公开总数量 |\n|\n"
        "规章(设区的市、自治州人民政府应提供相关数据) |\n|||\n|\n规范性文件 |\n47 |\n0 |\n0 |\n|\n"
        "本年新收政府信息公开申请数量\n"
    )
    r = parse_text(text)
    rules = values(r, "proactive.art20_1.rules")
    assert list(rules.values()) == [0, 0, 0]
    assert all(f.blank for f in r.figures if f.key.startswith("proactive.art20_1.rules"))
    assert list(values(r, "proactive.art20_1.normative_docs").values()) == [47, 0, 0]


def test_a_text_stopping_at_a_row_label_states_nothing_of_it() -> None:
    text = (
        APPS_HEAD + "一、本年新收政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ||\n"
        "三、本年度办理结果 | (一)予以公开 |"
    )
    r = parse_text(text)
    assert not values(r, "applications.granted")
    assert list(values(r, "applications.new_received").values()) == [0] * 7


def test_a_text_stopping_inside_a_row_states_only_the_printed_cells() -> None:
    r = parse_text(GOV2021_HEAD + "规章 | 0 | 0 | 0 |\n行政规范性文件 | 0 | 0 |")
    assert values(r, "proactive.art20_1.normative_docs") == {
        "proactive.art20_1.normative_docs.issued": 0,
        "proactive.art20_1.normative_docs.repealed": 0,
    }


def test_digits_lost_from_styled_spans_give_no_figure_or_date() -> None:
    text = (
        "某县人民政府2025年政府信息公开工作年度报告\n发布日期：2026111231日\n"
        "本报告中所列数据的统计期限为2025111231日。按照国办公开办函〔202130号要求编制。\n"
    )
    r = parse_text(text)
    assert r.figures == () and r.report_year == 2025
    assert r.metadata.published_at is None and r.metadata.written_date is None


def test_traditional_and_pinyin_glossed_copies_read_as_simplified() -> None:
    text = (
        "2009年度下管鎮(zhèn)政府信息公開年度報(bào)告\n"
        "全年我鎮(zhèn)在政府門戶網(wǎng)站上主動公開信息數(shù)量為46件。"
        "全年未收到政府信息公開申請。\n"
    )
    r = parse_text(text)
    assert r.report_year == 2009
    assert values(r, "headline.") == {
        "headline.proactive_total": 46,
        "headline.applications_received": 0,
    }
    assert "(zhèn)" not in r.text and "報" not in r.text


def test_prose_phrasings_of_issue_14() -> None:
    text = (
        "2023年，全年主动公开政务信息312条，其中通过政府网站发布信息 2150条。"
        "微博账号(1个)发布信息149条。本年度共收到政府信息公开申请24件(含上年结转1件)，"
        "其中予以公开的21件、部分公开的2件，结转下年度继续办理1件。"
        "未发生因政府信息公开引起的行政复议、行政诉讼。历年累计主动公开信息1200条。\n"
    )
    got = values(parse_text(text))
    assert got == {
        "headline.proactive_total": 312,
        "headline.applications_received": 23,
        "headline.applications_carried_over": 1,
        "headline.applications_granted": 21,
        "headline.applications_partially_granted": 2,
        "headline.applications_carried_to_next": 1,
        "headline.review_total": 0,
        "headline.litigation_total": 0,
        "prose.via_website": 2150,
        "prose.via_weibo": 149,
    }


def test_messages_answered_are_not_applications_answered() -> None:
    got = values(parse_text("县长信箱留言76条，答复76条；受理咨询投诉3607件，办结3607件。"))
    assert "headline.applications_answered" not in got


def test_a_cumulative_count_is_not_the_years() -> None:
    got = values(parse_text("截至目前，历年累计主动公开政府信息1200条。"))
    assert "headline.proactive_total" not in got


def test_json_provenance_names_the_form() -> None:
    r = parse_text(GOV2021_HEAD + "规章 | 0 | 0 | 6 |\n")
    prov = report_to_json(r)["provenance"]["proactive.art20_1.rules.in_force"]
    assert prov["form"] == "pipe-table"


def test_the_report_year_without_a_title() -> None:
    assert parse_text("一、总体情况\n现汇报我镇2023年政府信息公开工作。\n").report_year == 2023
    assert parse_text("一、总体情况\n2025年,郭仓镇严格遵循《条例》。\n").report_year == 2025
    assert parse_text("某镇2009年度政府信息公开年度报告 | ||\n正文。\n").report_year == 2009


def test_a_count_of_several_channels_is_no_one_channels() -> None:
    assert values(parse_text("通过区政府门户网站、微信公众号公开发布信息330条。")) == {}
    assert values(parse_text("“西山发布”微信和微博分别发布信息1408条、6502条。")) == {}
