"""The settings loader: typos rejected by name, wrong types named, and nothing but SettingsError
escapes whatever document or text it is given."""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.errors import SettingsError
from nianbao.settings import load_settings, parse_settings, parse_years

SHIPPED = Path(__file__).resolve().parent.parent / "settings.toml"


def shipped() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text("utf-8"))


def test_the_shipped_settings_load() -> None:
    loaded = parse_settings(shipped(), SHIPPED)
    assert {p.id for p in loaded.portals} == {"tongxiang", "taizhou"}
    assert loaded.crawler.obey_robots_txt and loaded.crawler.download_delay >= 1.0


@pytest.mark.parametrize(
    ("where", "typo"),
    [
        ("crawler", "downlod_delay"),
        ("archive", "databse_url"),
        ("scheduler", "nigthly"),
        ("deadlines", "from2019"),
    ],
)
def test_a_typo_in_a_section_key_is_rejected_by_name(where: str, typo: str) -> None:
    raw = shipped()
    raw.setdefault(where, {})[typo] = "x"
    with pytest.raises(SettingsError, match=typo):
        parse_settings(raw, SHIPPED)


@pytest.mark.parametrize("table", ["portals", "publishers"])
def test_a_typo_in_a_row_key_is_rejected_by_name(table: str) -> None:
    raw = shipped()
    raw[table][0]["aliasses"] = []
    with pytest.raises(SettingsError, match="aliasses"):
        parse_settings(raw, SHIPPED)


def test_an_unknown_section_is_rejected_by_name() -> None:
    with pytest.raises(SettingsError, match="crawlr"):
        parse_settings({**shipped(), "crawlr": {}}, SHIPPED)


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("crawler", "download_delay", "fast", "download_delay"),
        ("crawler", "obey_robots_txt", 1, "obey_robots_txt"),
        ("crawler", "retries", True, "retries"),
        ("deadlines", "from_2019", {"department": "1-31"}, "MM-DD"),
        ("deadlines", "before_2019", {"agency": "03-31"}, "agency"),
    ],
)
def test_a_wrong_value_is_named(section: str, key: str, value: Any, words: str) -> None:
    raw = shipped()
    raw.setdefault(section, {})[key] = value
    with pytest.raises(SettingsError, match=words):
        parse_settings(raw, SHIPPED)


def test_rows_are_checked_against_each_other() -> None:
    raw = shipped()
    raw["portals"].append(dict(raw["portals"][0]))
    with pytest.raises(SettingsError, match="duplicate 'tongxiang'"):
        parse_settings(raw, SHIPPED)
    raw = shipped()
    raw["publishers"][0]["portal"] = "nowhere"
    with pytest.raises(SettingsError, match="unknown portal 'nowhere'"):
        parse_settings(raw, SHIPPED)


@pytest.mark.parametrize("text", ["2013-2017", " 2013 - 2017 ", "2017"])
def test_year_ranges_parse(text: str) -> None:
    assert parse_years(text)[1] == 2017


@pytest.mark.parametrize("text", ["2017-2013", "13-17", "2013..2017", "", "2013-", "0000-2017"])
def test_bad_year_ranges_are_one_line_errors(text: str) -> None:
    with pytest.raises(SettingsError, match="year range"):
        parse_years(text)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "archive",
    "crawler",
    "scheduler",
    "deadlines",
    "portals",
    "publishers",
    "id",
    "family",
    "base_url",
    "entry_points",
    "annual_report",
    "name",
    "kind",
    "portal",
    "aliases",
    "years",
    "path",
    "areas",
]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), toml_values, max_size=6))
def test_any_document_gives_settings_or_a_settings_error(raw: dict[str, Any]) -> None:
    with contextlib.suppress(SettingsError):
        parse_settings(raw, Path("fuzz.toml"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_file_text_gives_settings_or_a_settings_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "settings.toml"
    path.write_text(text, "utf-8")
    with contextlib.suppress(SettingsError):
        load_settings(path)
