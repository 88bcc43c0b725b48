"""parse_html / parse_bytes / decode_html on small hand-written pages in the portals' layouts."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from parsers import (
    CorruptFile,
    Metadata,
    ParseError,
    UnsupportedFormat,
    decode_html,
    parse_bytes,
    parse_html,
)

# Hanweb article page, metadata as text lines above the body (portals.md, seed 003's layout).
HANWEB_TEXT_BLOCK = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>台州市2018年度政府信息公开工作报告 - 台州市人民政府</title>
<meta name="ArticleTitle" content="台州市2018年度政府信息公开工作报告">
<meta name="PubDate" content="2019-03-28 16:02">
<meta name="ContentSource" content="台州市人民政府">
<meta name="ColumnName" content="政府信息公开年报">
</head><body>
<div class="crumb">当前位置:首页 &gt; 政务公开 &gt; 政府信息公开年报</div>
<div class="xxgk_top">
  <p>索引号: 331000000000/2019-66380 &nbsp; 公开方式: 主动公开</p>
  <p>发布机构: 市政府办公室 &nbsp; 成文日期: 2019-03-28</p>
</div>
<h1>台州市2018年度政府信息公开工作报告</h1>
<p>信息来源: 台州市人民政府 发布时间: 2019-03-28 16: 02 浏览次数:</p>
<div id="zoom">
  <p>　　本报告中所列数据的统计期限自2018年1月1日起至2018年12月31日止。</p>
  <p>　　2018年全市共收到信息公开申请１２０件，其中当面申请20件，网络申请80件，信函申请20件。</p>
  <p>　　2018年，我市未发生向政府信息公开申请人收取检索、复制、邮寄等费用的情况。</p>
  <p>附件：<a href="/module/download/downfile.jsp?classid=0&amp;filename=0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf">统计表</a>
     <a href="/attach/0/report.DOCX">全文</a> <a href="/art/2019/3/28/art_1_2.html">相关阅读</a></p>
</div>
<div class="footer"><a href="/guide.pdf">办事指南</a></div>
</body></html>
"""

# 椒江-style table of label/value cells, inner spaces in labels, mixed colons (portals.md).
TABLE_BLOCK = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>椒江区2024年度政府信息公开工作年度报告</title></head><body>
<table class="xxgk">
 <tr><td>信息索引号：</td><td>11331002002673575G/2025-143289</td>
     <td>主题分类：</td><td>政务公开</td></tr>
 <tr><td>发布机构:</td><td>区政府办公室</td><td>成文日期：</td><td>2025-01-03</td></tr>
 <tr><td>公 开 方 式：</td><td>主动公开</td><td>文件编号：</td><td></td></tr>
 <tr><td>文号：</td><td>发布日期：</td><td>2025-01-06</td></tr>
</table>
<div class="TRS_Editor"><p>椒江区2024年度政府信息公开工作年度报告</p>
<p>本年度报告根据《中华人民共和国政府信息公开条例》编制。</p></div>
</body></html>
"""

# TRS page whose statistics table is real HTML: rows are rendered one line each, cells tab-joined.
TRS_TABLE_PAGE = """<html><head><meta charset="utf-8"><title>某县2016年政府信息公开年度报告</title></head>
<body><div class="TRS_Editor">
<p>某县人民政府2016年度政府信息公开工作报告</p>
<p>政府信息公开情况统计表</p>
<table>
<tr><td>统计指标</td><td>单位</td><td>统计数</td></tr>
<tr><td>一、主动公开情况</td><td>——</td><td>——</td></tr>
<tr><td><p>（一）主动公开政府信息数</p><p>（不同渠道和方式公开相同信息计1条）</p></td><td>条</td><td>1,203</td></tr>
<tr><td>三、依申请公开情况</td><td>——</td><td>——</td></tr>
<tr><td>（一）收到申请数</td><td>件</td><td>12</td></tr>
<tr><td>1.当面申请数</td><td>件</td><td>2</td></tr>
<tr><td>2.传真申请数</td><td>件</td><td></td></tr>
<tr><td>3.网络申请数</td><td>件</td><td>9</td></tr>
<tr><td>4.信函申请数</td><td>件</td><td>1</td></tr>
<tr><td>四、行政复议数量</td><td>件</td><td>1</td></tr>
<tr><td>五、行政诉讼数量</td><td>件</td><td>0</td></tr>
<tr><td>七、依申请公开信息收取的费用</td><td>万元</td><td>0.05</td></tr>
</table></div></body></html>
"""

PLACEHOLDER_PAGE = """<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head>
<body><div class="nav">首页 &gt; 政府信息公开年报</div><div id="zoom"><p>暂无信息</p></div></body></html>
"""


def test_hanweb_text_block_metadata_and_meta_tags() -> None:
    r = parse_html(HANWEB_TEXT_BLOCK, "http://www.zjtz.gov.cn/art/2019/3/28/art_1_1.html")
    assert r.title == "台州市2018年度政府信息公开工作报告"
    assert r.metadata == Metadata(
        index_no="331000000000/2019-66380",
        publisher="市政府办公室",
        disclosure="主动公开",
        written_date="2019-03-28",
        category=None,
        doc_number=None,
        published_at="2019-03-28T16:02",
        source="台州市人民政府",
    )
    assert r.publisher == "市政府办公室"
    assert r.report_year == 2018
    assert r.is_report
    assert r.encoding is None


def test_hanweb_text_snapshot_is_the_zoom_div_with_paragraph_breaks() -> None:
    r = parse_html(HANWEB_TEXT_BLOCK)
    assert r.text.startswith("本报告中所列数据的统计期限")
    assert "索引号" not in r.text and "办事指南" not in r.text
    assert "\n2018年全市共收到信息公开申请１２０件" in r.text


def test_hanweb_headline_figures_and_provenance() -> None:
    r = parse_html(HANWEB_TEXT_BLOCK)
    assert r.values() == {
        "headline.applications_received": 120,  # full-width digits
        "headline.applications_in_person": 20,
        "headline.applications_online": 80,
        "headline.applications_letter": 20,
        "headline.fees_yuan": 0,
    }
    for f in r.figures:
        assert r.text[f.provenance.start : f.provenance.end] == f.provenance.text
    assert [c.rule for c in r.checks if c.ok] == ["applications_by_channel"]


def test_attachments_in_the_body_as_written() -> None:
    r = parse_html(HANWEB_TEXT_BLOCK)
    assert r.attachments == (
        "/module/download/downfile.jsp?classid=0&filename=0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf",
        "/attach/0/report.DOCX",
    )


def test_table_layout_metadata() -> None:
    r = parse_html(TABLE_BLOCK)
    assert r.metadata == Metadata(
        index_no="11331002002673575G/2025-143289",
        publisher="区政府办公室",
        disclosure="主动公开",
        written_date="2025-01-03",
        category="政务公开",
        doc_number=None,  # empty cell; 文号's neighbour is a label, never its value
        published_at="2025-01-06",
        source=None,
    )
    assert r.title == "椒江区2024年度政府信息公开工作年度报告"
    assert r.report_year == 2024
    assert r.text.splitlines()[0] == "椒江区2024年度政府信息公开工作年度报告"  # TRS_Editor fallback


def test_html_statistics_table_rows() -> None:
    r = parse_html(TRS_TABLE_PAGE)
    assert r.template == "national2014"
    values = r.values()
    assert values["stats.proactive_total"] == 1203
    assert values["stats.applications_received"] == 12
    assert values["stats.applications_fax"] == 0
    assert r.figure("stats.applications_fax").blank  # type: ignore[union-attr]
    assert values["stats.review_total"] == 1
    assert values["headline.fees_yuan"] == 500  # 0.05 万元
    assert r.title == "某县2016年政府信息公开年度报告"  # the title element, before body lines
    assert r.publisher == "某县"
    checks = {c.rule: c.ok for c in r.checks}
    assert checks["sum:stats.applications_received"] is True


def test_placeholder_module_page_is_not_a_report() -> None:
    r = parse_html(
        PLACEHOLDER_PAGE,
        "http://xxgk.tx.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=x&fbtime=2019",
    )
    assert not r.is_report
    assert r.figures == ()
    assert r.report_year == 2019  # from fbtime=


def test_gbk_bytes_declared_gb2312_decode_as_gb18030() -> None:
    page = HANWEB_TEXT_BLOCK.replace('charset="utf-8"', 'charset="gb2312"').replace(
        "市政府办公室",
        "市堃园办公室",  # 堃 is in GBK, not in GB2312
    )
    raw = page.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")
    r = parse_bytes(raw, "text/html", "http://example.org/a.html")
    assert r.encoding == "gb18030"
    assert r.metadata.publisher == "市堃园办公室"
    assert r.title == "台州市2018年度政府信息公开工作报告"


def test_header_charset_gb2312_wins_over_sniffing() -> None:
    raw = "<p>桐乡市堃</p>".encode("gbk")
    assert decode_html(raw, "GB2312") == decode_html(raw, None)
    assert decode_html(raw, "gb2312").encoding == "gb18030"
    assert "堃" in decode_html(raw, "gb2312").text
    r = parse_bytes(raw, "text/html; charset=gb2312")
    assert r.encoding == "gb18030" and "桐乡市堃" in r.text


def test_utf8_bom_wins() -> None:
    raw = codecs.BOM_UTF8 + "<html><body><div id='zoom'>桐乡</div></body></html>".encode()
    decoded = decode_html(raw, "gb2312")
    assert decoded.encoding == "utf-8"
    assert decoded.text.startswith("<html>")
    assert parse_bytes(raw, "text/html; charset=gb2312").text == "桐乡"


def test_wrong_header_charset_falls_back_to_meta() -> None:
    raw = '<meta http-equiv="Content-Type" content="text/html; charset=gbk"><p>报告</p>'.encode(
        "gbk"
    )
    assert decode_html(raw, "utf-8").encoding == "gb18030"


def test_undecodable_bytes_are_replaced_and_say_so() -> None:
    decoded = decode_html(b"<p>\x81\x30\xff\xfe</p>", None)
    assert decoded.encoding.endswith("/replace")
    assert "\ufffd" in decoded.text


def test_plain_text_bytes_go_to_parse_text() -> None:
    raw = "桐乡市商务局2013年度政府信息公开工作报告\n发布时间:2014-03-08\n".encode("gbk")
    r = parse_bytes(raw, "text/plain")
    assert r.encoding == "gb18030"
    assert r.title == "桐乡市商务局2013年度政府信息公开工作报告"
    assert r.metadata.published_at == "2014-03-08"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml word/document.xml", "DOCX"),
        (b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml", "XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le"), "XLS"),
    ],
)
def test_broken_binary_files_are_named_corrupt(raw: bytes, kind: str) -> None:
    with pytest.raises(CorruptFile) as info:
        parse_bytes(raw, "application/octet-stream")
    assert info.value.kind == kind
    assert isinstance(info.value, ParseError)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00mimetypeapplication/epub", "ZIP archive"),
        (b"{\\rtf1\\ansi", "RTF"),
    ],
)
def test_other_binary_formats_are_unsupported(raw: bytes, kind: str) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        parse_bytes(raw, "application/octet-stream")
    assert info.value.kind == kind


def test_title_element_used_when_no_article_title() -> None:
    html = "<html><head><title>桐乡市商务局2013年度政府信息公开工作报告_桐乡市人民政府</title></head><body><p>正文</p></body></html>"
    assert parse_html(html).title == "桐乡市商务局2013年度政府信息公开工作报告"


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    html = "<div>" * 5000 + "收到信息公开申请3件" + "</div>" * 5000
    try:
        r = parse_html(html)
    except ParseError:
        return  # a named refusal is acceptable; a RecursionError is not
    assert r.values().get("headline.applications_received") in (3, None)


# Real Hanweb articles (tests/pages/SOURCES.md), their metadata read by hand from the HTML:
# 浙江省教育厅's xxgk table has an empty 文件编号 cell before 发布机构, a date-only 发布日期 in the
# body and the time in <meta PubDate>; 江苏's article ends 来源 with 字号：默认 小 大.
REAL_ARTICLE_METADATA = {
    "hanweb-zj-jyt-article.html": Metadata(
        index_no="002482082/2024-00332",
        publisher="省教育厅",
        disclosure="主动公开",
        written_date="2024-10-21",
        category="教育",
        doc_number=None,
        published_at="2024-10-21T12:51",
        source="新闻办",
    ),
    "hanweb-jiangsu-article.html": Metadata(
        published_at="2024-10-14T10:17", source="省文化和旅游厅办公室"
    ),
}


@pytest.mark.parametrize("name", sorted(REAL_ARTICLE_METADATA))
def test_real_hanweb_article_metadata(name: str) -> None:
    raw = (Path(__file__).parent / "pages" / name).read_bytes()
    assert parse_bytes(raw, "text/html").metadata == REAL_ARTICLE_METADATA[name]
