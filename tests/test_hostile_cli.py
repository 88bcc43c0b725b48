"""Issue 12, the CLI's side: hostile settings, command-line values and exports. Each test is a
reproduction from the issue; each must end in a one-line error or an intact file, never a
traceback, a hang, a write outside its directory or a half-written export."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from nianbao.errors import SettingsError
from nianbao.settings import load_settings, parse_settings

SHIPPED = Path(__file__).resolve().parent.parent / "settings.toml"


def shipped() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text("utf-8"))


# --- item 14: settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("crawler", "download_delay", math.inf),
        ("crawler", "download_delay", -1),
        ("crawler", "timeout_seconds", math.nan),
        ("crawler", "timeout_seconds", -1),
        ("crawler", "timeout_seconds", 0),
        ("crawler", "max_file_mb", math.inf),
        ("crawler", "retry_backoff_seconds", math.inf),
        ("crawler", "retries", 10**9),
        ("scheduler", "timeout_hours", math.nan),
        ("alerts", "stale_days", math.inf),
    ],
)
def test_a_number_out_of_range_is_refused_by_name(section: str, key: str, value: float) -> None:
    raw = shipped()
    raw.setdefault(section, {})[key] = value
    with pytest.raises(SettingsError, match=rf"\[{section}\]: {key} must be a number"):
        parse_settings(raw, SHIPPED)


@pytest.mark.parametrize("value", [math.inf, math.nan, -0.5])
def test_a_portal_download_delay_out_of_range_is_refused(value: float) -> None:
    raw = shipped()
    raw["portals"][0]["download_delay"] = value
    with pytest.raises(SettingsError, match=r"\[\[portals\]\] #1: download_delay must be"):
        parse_settings(raw, SHIPPED)


@pytest.mark.parametrize("where", ["/", "/etc", "/etc/nianbao", "/usr/lib/x", "/tmp", "/home"])
@pytest.mark.parametrize(("section", "key"), [("archive", "blob_dir"), ("scheduler", "log_dir")])
def test_the_root_and_system_directories_are_refused(section: str, key: str, where: str) -> None:
    raw = shipped()
    raw.setdefault(section, {})[key] = where
    with pytest.raises(SettingsError, match=rf"{key}: '{where}' is the root"):
        parse_settings(raw, SHIPPED)


def test_a_symlink_into_a_system_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blobs").symlink_to("/etc")
    raw = shipped()
    raw["archive"]["blob_dir"] = str(tmp_path / "blobs")
    with pytest.raises(SettingsError, match="blob_dir"):
        parse_settings(raw, SHIPPED)


def test_an_ordinary_directory_is_accepted(tmp_path: Path) -> None:
    raw = shipped()
    raw["archive"]["blob_dir"] = str(tmp_path / "blobs")
    raw.setdefault("scheduler", {})["log_dir"] = "data/logs"
    assert parse_settings(raw, SHIPPED).archive.blob_dir == tmp_path / "blobs"


@pytest.mark.parametrize("month_day", ["02-30", "04-31", "02-29"])
def test_a_deadline_that_is_not_a_day_of_every_year_is_a_settings_error(month_day: str) -> None:
    raw = shipped()
    raw["deadlines"] = {"from_2019": {"government": month_day}}
    with pytest.raises(SettingsError, match=month_day):
        parse_settings(raw, SHIPPED)


def test_a_deeply_nested_toml_is_one_settings_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(SettingsError, match="nested too deeply"):
        load_settings(path)


def test_a_settings_file_with_a_utf8_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SHIPPED.read_bytes())
    assert {p.id for p in load_settings(path).portals} == {"tongxiang", "taizhou"}


@pytest.mark.parametrize("url", ["mysql://u:p@localhost/nianbao", "oracle://h/db", "mssql://h/db"])
def test_a_database_other_than_sqlite_or_postgresql_is_refused(url: str) -> None:
    raw = shipped()
    raw["archive"]["database_url"] = url
    with pytest.raises(SettingsError, match="databases are not supported") as caught:
        parse_settings(raw, SHIPPED)
    assert "p@" not in str(caught.value)  # no password in the message


# --- item 8: portal ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["../../../x", "a/b", ".hidden", "", "Tongxiang", "a" * 64, "x.y", "桐乡", "-x"]
)
def test_a_portal_id_that_could_name_a_path_is_refused(bad: str) -> None:
    raw = shipped()
    raw["portals"][0]["id"] = bad
    with pytest.raises(SettingsError, match=r"\[\[portals\]\] #1: id"):
        parse_settings(raw, SHIPPED)
