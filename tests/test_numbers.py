"""parsers.numbers: printed numbers -> int or exact Decimal; and no parser raises anything else."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseError, parse_bytes, parse_html, parse_text
from parsers.errors import BadNumber
from parsers.numbers import NUMBER_PATTERN, ascii_digits, parse_number


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("一百二十三", 123),
        ("两千零五", 2005),
        ("十五", 15),
        ("二十", 20),
        ("一万二千", 12000),
        ("三亿五千万", 350_000_000),
        ("一千万", 10_000_000),
        ("二〇一三", 2013),  # years are written digit by digit
        ("二○一三", 2013),  # seed 004 prints the zero as ○ (U+25CB)
        ("零", 0),
        ("壹佰", 100),
        ("3万5千", 35000),
        ("3千", 3000),
    ],
)
def test_chinese_numerals(token: str, expected: int) -> None:
    assert parse_number(token) == expected
    assert type(parse_number(token)) is int


@pytest.mark.parametrize(
    ("token", "expected"),
    [("２２４", 224), ("１２．５", Decimal("12.5")), ("０", 0), ("１，２３４", 1234)],
)
def test_full_width(token: str, expected: int | Decimal) -> None:
    assert parse_number(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [("1,234", 1234), ("12,345,678", 12_345_678), ("1,234.5", Decimal("1234.5"))],
)
def test_thousands_separators(token: str, expected: int | Decimal) -> None:
    assert parse_number(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("1.03万", 10300),  # figures.md: 1.03万人次 is 10300
        ("2万", 20000),
        ("2.5亿", 250_000_000),
        ("0.5万", 5000),
        ("1.234567万", Decimal("12345.67")),
        ("1万亿", 10**12),
    ],
)
def test_wan_yi_units(token: str, expected: int | Decimal) -> None:
    value = parse_number(token)
    assert value == expected
    assert type(value) is type(expected)


def test_decimals_are_kept_exactly_as_printed() -> None:
    value = parse_number("24252.311082")
    assert value == Decimal("24252.311082")
    assert str(value) == "24252.311082"
    assert not isinstance(value, float)
    assert str(parse_number("5.10")) == "5.10"  # trailing zero as printed


def test_chinese_decimal() -> None:
    assert parse_number("三点五") == Decimal("3.5")


@pytest.mark.parametrize("token", ["", "abc", "1.2.3", "二三百", "十点", "1" * 40, "１,２３"])
def test_bad_numbers_raise_a_named_error(token: str) -> None:
    with pytest.raises(BadNumber):
        parse_number(token)
    assert issubclass(BadNumber, ParseError)


def test_number_pattern_matches_whole_tokens() -> None:
    rx = re.compile(NUMBER_PATTERN)
    assert [m.group() for m in rx.finditer("共12,345件，其中1.03万人次，一百二十件")] == [
        "12,345",
        "1.03万",
        "一百二十",
    ]


def test_a_bare_unit_word_is_no_number() -> None:
    # 万元 in 收取的费用万元0 (seed 003) is a unit; reading its 万 as 10000 was a real bug.
    assert [m.group() for m in re.finditer(NUMBER_PATTERN, "费用万元0，百分之")] == ["0"]


def test_ascii_digits_only_touches_digits() -> None:
    assert ascii_digits("２０１８年３月．") == "2018年3月."


@given(st.integers(min_value=0, max_value=10**15))
def test_arabic_round_trip(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n


@given(st.text(max_size=30))
def test_parse_number_raises_only_bad_number(token: str) -> None:
    try:
        value = parse_number(token)
    except BadNumber:
        return
    assert isinstance(value, int | Decimal)


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_HTML_BITS = st.sampled_from(
    ["<div id='zoom'>", "</div>", "<table><tr><td>", "</td><td>", "</td></tr></table>", "<p>",
     "<br>", "索引号：", "发布时间:", "2018-01-17 08: 52", "政府信息公开情况统计表", "一、主动公开情况",
     "(一)收到申请数", "224", "——", "收到申请", "件", "<meta charset='gb2312'>", "<a href='x.pdf'>",
     "\n", "\u3000", "\xa0", "<!--", "-->", "<script>", "</script>", "&nbsp;", "<"]
)  # fmt: skip


def _must_not_escape(fn: Callable[[Any], object], arg: object) -> None:
    # A ParseError (e.g. UnsupportedFormat) is a named refusal; anything else fails the test.
    with contextlib.suppress(ParseError):
        fn(arg)


@_FUZZ
@given(st.text() | st.lists(_HTML_BITS | st.text(max_size=5)).map("".join))
def test_parse_text_and_html_raise_only_parse_errors(text: str) -> None:
    _must_not_escape(parse_text, text)
    _must_not_escape(parse_html, text)


@_FUZZ
@given(
    st.binary()
    | st.lists(_HTML_BITS | st.text(max_size=5)).map(lambda xs: "".join(xs).encode("gb18030"))
    | st.sampled_from(
        [b"%PDF-1.4", b"PK\x03\x04word/", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]
    ).flatmap(lambda head: st.binary().map(lambda tail: head + tail))
)
def test_parse_bytes_raises_only_parse_errors(raw: bytes) -> None:
    _must_not_escape(parse_bytes, raw)
