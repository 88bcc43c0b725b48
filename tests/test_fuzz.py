"""Fuzzing with thousands of examples (issue 7): the metadata, text, figure and number parsers and
the settings loader take anything and let only their own named errors out.

The strategies are built from what real pages carry (labels, dates in every spelling seen on the
portals, numerals, report titles), mixed with arbitrary text, so hypothesis reaches the paths that
handle near-misses, not only the early exits taken by random noise. In all about 4,000 cases in
CI's budget; `NIANBAO_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py` digs deeper.
"""

from __future__ import annotations

import contextlib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.settings import SettingsError, parse_settings
from parsers import Metadata, ParseError, parse_text, report_to_json
from parsers import metadata as meta
from parsers.headline import headline_figures
from parsers.identity import publisher, report_year, title_agency_year
from parsers.numbers import parse_number

EXAMPLES = int(os.environ.get("NIANBAO_FUZZ_EXAMPLES", "600"))
MANY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The strategies that build whole documents cost ten times more per case.
FEWER = settings(MANY, max_examples=max(1, EXAMPLES // 2))

LABELS = ["索引号", "索 引 号：", "发布机构:", "发布机构：", "成文日期：", "发布日期:", "发布时间：",
          "公开方式", "组配分类：", "文号：", "主题分类:", "信息来源：", "生成日期"]  # fmt: skip
DATES = st.one_of(
    st.builds(
        "{}-{:02d}-{:02d} {:02d}:{:02d}".format,
        st.integers(1890, 2210),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
    ),
    st.builds(
        "{}年{}月{}日".format, st.integers(1990, 2099), st.integers(0, 13), st.integers(0, 32)
    ),
    st.text("0123456789０１２３-/.年月日:： ", max_size=24),
)
PIECES = st.one_of(st.sampled_from(LABELS), DATES, st.text(max_size=12), st.just("\n"))
LINE = st.lists(PIECES, max_size=12).map("".join)
TITLES = st.one_of(
    st.builds(
        "{}{}年度政府信息公开工作{}".format,
        st.sampled_from(["桐乡市教育局", "台州市", "", "濮院镇", "市发改局"]),
        st.one_of(st.integers(1990, 2100).map(str), st.sampled_from(["二〇一九", "２０２１", ""])),
        st.sampled_from(["年度报告", "报告", "年报", ""]),
    ),
    st.text(max_size=40),
)
NUMBER = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.text("〇零一二三四五六七八九十百千万亿两0123456789０１２３,，.．万亿元件- ", max_size=16),
    st.text(max_size=16),
)


@MANY
@given(st.lists(LINE, max_size=8))
def test_metadata_lines_give_metadata(lines: list[str]) -> None:
    found = meta.from_lines(lines)
    built = meta.build(found)
    assert isinstance(built, Metadata)
    for value in (built.written_date, built.published_at):
        assert value is None or value[:4].isdigit()


@FEWER
@given(
    st.lists(st.lists(PIECES, max_size=6), max_size=6), st.dictionaries(st.text(max_size=12), LINE)
)
def test_metadata_cells_and_meta_tags_give_metadata(
    rows: list[list[str]], tags: dict[str, str]
) -> None:
    meta.build(meta.from_cells(rows), meta.from_meta_tags(tags))


@MANY
@given(DATES, st.booleans())
def test_any_date_is_iso_or_none(value: str, with_time: bool) -> None:
    iso = meta.iso_datetime(value, with_time)
    assert iso is None or (len(iso) in (10, 16) and iso[4] == "-" and iso[7] == "-")


@MANY
@given(
    st.one_of(st.none(), TITLES), st.text(max_size=200), st.one_of(st.none(), st.text(max_size=60))
)
def test_identity_from_anything(title: str | None, text: str, url: str | None) -> None:
    title_agency_year(title)
    year = report_year(title, text, url, Metadata())
    assert year is None or isinstance(year, int)
    publisher(title, Metadata())


@MANY
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["共收到申请", "件", "主动公开政府信息", "条", "答复", "万元"]), NUMBER
        ),
        max_size=30,
    ).map("".join)
)
def test_headline_figures_point_into_their_text(text: str) -> None:
    for figure in headline_figures(text):
        prov = figure.provenance
        assert text[prov.start : prov.end] == prov.text


@FEWER
@given(st.lists(st.one_of(LINE, TITLES, NUMBER), max_size=20).map("\n".join))
def test_report_text_parses_and_serialises(text: str) -> None:
    report = parse_text(text)
    report_to_json(report)
    for figure in report.figures:
        assert (
            report.text[figure.provenance.start : figure.provenance.end] == figure.provenance.text
        )


@MANY
@given(NUMBER)
def test_numbers_are_exact_or_a_named_error(token: str) -> None:
    with contextlib.suppress(ParseError):
        value = parse_number(token)
        assert isinstance(value, int | Decimal)


SETTING_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
)
PORTAL_KEYS = ["id", "family", "base_url", "entry_points", "annual_report", "name", "areas", "overlap",
               "article_pattern", "next_page_pattern", "record_selector", "max_file_mb"]  # fmt: skip
PUBLISHER_KEYS = ["name", "kind", "portal", "aliases", "years", "unit_code"]


def rows(keys: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), SETTING_VALUES, max_size=6),
        max_size=3,
    )


@FEWER
@given(
    rows(PORTAL_KEYS),
    rows(PUBLISHER_KEYS),
    st.dictionaries(
        st.sampled_from(["download_delay", "overlap", "max_file_mb", "retry_times"]), SETTING_VALUES
    ),
)
def test_settings_of_any_shape_load_or_name_the_problem(
    portals: list[dict[str, Any]], publishers: list[dict[str, Any]], crawler: dict[str, Any]
) -> None:
    raw = {"portals": portals, "publishers": publishers, "crawler": crawler}
    with contextlib.suppress(SettingsError):
        parse_settings(raw, Path("fuzz.toml"))
