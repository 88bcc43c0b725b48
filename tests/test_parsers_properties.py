"""Property tests: arbitrary text, HTML and bytes into every entry point; only named errors escape."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseError, decode_html, parse_bytes, parse_html, parse_text, report_to_json
from parsers.numbers import parse_number

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text made of what reports are made of, so the table readers' paths are exercised.
WORDS = st.sampled_from(
    ["政府信息公开情况统计表", "一、主动公开情况", "（一）收到申请数", "本年新收政府信息公开申请数量",
     "三安全一稳定", "（七）总计", "行政复议", "行政诉讼", "历年累计", "本年制发件数", "0", "12",
     "1,024", "24252.311082", "——", "\t", "\n", " ", "万元", "人次", "十五", "-3", "<td>", "</tr>",
     "<table>", "<tr>", "colspan=999", "rowspan=0", "共收到申请5件", "未收取费用"]
)  # fmt: skip
REPORTISH = st.lists(WORDS, max_size=60).map("".join)
TEXT = st.one_of(st.text(max_size=400), REPORTISH)


@FAST
@given(TEXT)
def test_parse_text_never_raises(text: str) -> None:
    r = parse_text(text)
    report_to_json(r)
    for f in r.figures:
        assert r.text[f.provenance.start : f.provenance.end] == f.provenance.text


@FAST
@given(
    st.one_of(
        TEXT,
        TEXT.map(lambda t: f"<html><body><div id=zoom><table><tr><td>{t}</td></tr></table></div>"),
    )
)
def test_parse_html_never_raises(html: str) -> None:
    report_to_json(parse_html(html, "http://example.org/a?fbtime=2019"))


MAGIC = st.sampled_from([b"", b"%PDF-1.4\n", b"PK\x03\x04word/", b"PK\x03\x04xl/", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1WordDocument",
                         b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1Workbook", b"\xef\xbb\xbf", b"\xff\xfe", b"<html>"])  # fmt: skip


@FAST
@given(
    MAGIC,
    st.binary(max_size=300),
    st.sampled_from([None, "text/html; charset=gbk", "application/pdf"]),
)
def test_parse_bytes_raises_only_parse_errors(
    magic: bytes, raw: bytes, content_type: str | None
) -> None:
    with contextlib.suppress(ParseError):
        report_to_json(parse_bytes(magic + raw, content_type))


@FAST
@given(st.binary(max_size=300), st.one_of(st.none(), st.text(max_size=20)))
def test_decode_html_never_raises(raw: bytes, charset: str | None) -> None:
    decode_html(raw, charset)


@FAST
@given(st.text(max_size=40))
def test_parse_number_raises_only_bad_number(token: str) -> None:
    with contextlib.suppress(ParseError):
        parse_number(token)
