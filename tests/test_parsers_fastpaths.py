"""The parsers' fast paths (bench/parse_bench.py) give what the plain definitions give.

Each shortcut is checked against the straightforward code it replaced, on arbitrary text and on
text made of the words the rules look for.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.anchored import WordIndex, _occurrences, anchored, leading_words
from parsers.errors import BadNumber
from parsers.headline import _N
from parsers.metadata import _FIELD_BY_LABEL, label_field
from parsers.numbers import ascii_digits, parse_number
from parsers.rowtext import VALUE_SOURCE, compact, is_value
from parsers.rules.core import HEADLINE_RULES, NONE_RULES, PROSE_RULES

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PATTERNS = [r.pattern.replace("{N}", _N) for r in (*HEADLINE_RULES, *PROSE_RULES)] + [
    r.pattern for r in NONE_RULES
]
# Words of the rules, numbers and separators: text in which the rules do match, often twice.
PIECES = st.sampled_from(
    ["收到", "受理", "承办", "接到", "新收", "申请", "当面", "网上", "信函", "办结", "答复", "同意",
     "不同意", "予以", "不予以", "部分公开", "公开", "不予公开", "行政复议", "行政诉讼", "收取", "费用",
     "网站", "政府网站", "门户", "发布", "信息", "未", "没有", "无", "上年结转", "上年无结转", "件", "条",
     "元", "5", "12", "3万", "十五", "，", "。", "\n", " ", "　", "未发生", "政府信息公开网站", "免收"]
)  # fmt: skip
RULE_TEXT = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=200))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_rule_opens_with_a_word_or_a_group_of_words(pattern: str) -> None:
    # What keeps the headline search fast: a literal first character, or leading words.
    assert pattern[0] not in "([\\." or leading_words(pattern) is not None


@FAST
@given(RULE_TEXT)
def test_anchored_search_finds_what_finditer_finds(text: str) -> None:
    for pattern in PATTERNS:
        expected = [(m.start(), m.end(), m.groupdict()) for m in re.finditer(pattern, text)]
        got = [(m.start(), m.end(), m.groupdict()) for m in anchored(pattern).finditer(text)]
        assert got == expected, pattern


@FAST
@given(RULE_TEXT)
def test_anchored_search_with_a_word_index_finds_what_finditer_finds(text: str) -> None:
    index = WordIndex(w for p in PATTERNS for w in leading_words(p) or ())
    seen = index.positions(text)
    assert seen == {w: _occurrences(text, w) for w in index.words}
    for pattern in PATTERNS:
        expected = [(m.start(), m.end()) for m in re.finditer(pattern, text)]
        assert [(m.start(), m.end()) for m in anchored(pattern).finditer(text, seen)] == expected


def test_a_word_index_finds_words_inside_and_overlapping_others() -> None:
    index = WordIndex(["门户网站", "网站", "未", "未发生", "11"])
    assert index.positions("在门户网站上未发生111") == {
        "门户网站": [1], "网站": [3], "未发生": [6], "未": [6], "11": [9, 10],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(?:收到|受理)申请", ("收到", "受理")),
        (r"(?:a|b)c|d", None),  # may start with d
        (r"(?:a|b)?c", None),
        (r"(?:a|b)*c", None),
        (r"(?:a|b)[]|]c", ("a", "b")),
        (r"(?:a|b)[^]|]c|d", None),
        (r"(?:a|b)\|c", ("a", "b")),
        (r"(?:a|b)(?:c|d)", ("a", "b")),
        (r"(?:a|b)\\|c", None),
        (r"主动公开", None),  # a literal start: the regex engine is fast on it already
    ],
)
def test_leading_words(pattern: str, words: tuple[str, ...] | None) -> None:
    assert leading_words(pattern) == words


@FAST
@given(st.text(alphabet=st.sampled_from("０１２３４５６７８９．，0123456789.,年 a　"), max_size=30))
def test_ascii_digits_is_the_translation(text: str) -> None:
    assert ascii_digits(text) == text.translate(
        str.maketrans("０１２３４５６７８９．，", "0123456789.,")
    )


@FAST
@given(st.text(max_size=60))
def test_compact_removes_what_regex_whitespace_matches(text: str) -> None:
    assert compact(text) == re.sub(r"\s+", "", text)


_VALUE_RE = re.compile(VALUE_SOURCE)


@FAST
@given(st.one_of(st.text(max_size=20), st.from_regex(VALUE_SOURCE, fullmatch=True)))
def test_is_value_is_the_full_match(cell: str) -> None:
    assert is_value(cell) == (_VALUE_RE.fullmatch(ascii_digits(compact(cell))) is not None)


@FAST
@given(st.one_of(st.text(max_size=12), st.sampled_from([*_FIELD_BY_LABEL, " 索 引 号：", "来源:"])))
def test_label_field_is_the_lookup(cell: str) -> None:
    key = re.sub(r"\s+", "", cell).rstrip(":：")
    assert label_field(cell) == (key in _FIELD_BY_LABEL, _FIELD_BY_LABEL.get(key))


@FAST
@given(st.from_regex(r"[0-9]{1,35}", fullmatch=True))
def test_plain_digits_parse_as_through_decimal(token: str) -> None:
    if len(token) > 30:
        with pytest.raises(BadNumber):
            parse_number(token)
    else:
        assert parse_number(token) == int(Decimal(token))
