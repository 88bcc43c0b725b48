"""Issue 12, the CLI's side: hostile settings, command-line values and exports. Each test is a
reproduction from the issue; each must end in a one-line error or an intact file, never a
traceback, a hang, a write outside its directory or a half-written export."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import os
import sqlite3
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_captures
from archive.db import make_engine, session_scope, upgrade
from archive.files import TEMP_SUFFIX, UnsafePath, csv_cell, inside, remove_orphans
from archive.models import Document
from archive.registry import sync_publishers
from nianbao.errors import SettingsError
from nianbao.settings import load_settings, parse_settings
from scheduler.backfill import Backfill, _log_path

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
    with pytest.raises(
        SettingsError,
        match=rf"\[{section}\]: {key} must be (more than )?\d+(\.\d+)?( or more)?, up to",
    ):
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


# --- an archive of our own, built without a crawl ----------------------------------------------


def settings_file(tmp_path: Path, database: Path | None = None) -> Path:
    """The shipped settings with the archive in `tmp_path` (or at `database`)."""
    text = SHIPPED.read_text("utf-8")
    raw = tomllib.loads(text)
    db = database or tmp_path / "nianbao.db"
    path = tmp_path / "settings.toml"
    path.write_text(
        text.replace(raw["archive"]["database_url"], f"sqlite:///{db}").replace(
            raw["archive"]["blob_dir"], str(tmp_path / "blobs")
        ),
        "utf-8",
    )
    assert load_settings(path).archive.database_url == f"sqlite:///{db}"
    return path


def build_archive(config: Path, captures: int = 3, body: bytes = b"<html>x</html>") -> None:
    """Migrate, sync the registry, and add `captures` captures of `body` to portal tongxiang."""
    settings = load_settings(config)
    engine = make_engine(settings.archive.database_url)
    upgrade(engine)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        sync_publishers(session, settings.publishers)
        record_captures(
            session,
            BlobStore(settings.archive.blob_dir),
            [
                CaptureIn(
                    portal="tongxiang",
                    url=f"http://127.0.0.1/{i}.html",
                    final_url=f"http://127.0.0.1/{i}.html",
                    status=200,
                    headers=[("Content-Type", "text/html")],
                    body=body,
                    fetched_at=moment + timedelta(seconds=i),
                    kind="article",
                )
                for i in range(captures)
            ],
        )
    engine.dispose()


def nianbao(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    return subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(config), *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nianbao: error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A small up-to-date archive; returns its settings file."""
    config = settings_file(tmp_path)
    build_archive(config)
    return config


# --- item 15: command-line values and read commands --------------------------------------------


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("show", "9223372036854775808"), "9223372036854775808"),
        (("show", "-1"), "-1"),
        (("runs", "--limit", "99999999999999999999"), "99999999999999999999"),
    ],
)
def test_an_out_of_range_number_is_one_line(
    archive: Path, args: tuple[str, ...], word: str
) -> None:
    assert_one_line_error(nianbao(archive, *args), word)


def test_a_mysql_url_is_one_line(tmp_path: Path) -> None:
    config = settings_file(tmp_path)
    config.write_text(
        config.read_text("utf-8").replace(f"sqlite:///{tmp_path}/nianbao.db", "mysql://h/db")
    )
    assert_one_line_error(nianbao(config, "reports"), "'mysql' databases are not supported")


def test_parse_of_an_endless_file_is_one_line() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_OF_MAIN, "parse", "/dev/zero"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert_one_line_error(done, "/dev/zero", "larger than")
    peak_mb = int(done.stdout) / 1024
    assert peak_mb < 600 and time.monotonic() - started < 30, (peak_mb, done.stdout)


# Runs `nianbao ARGS` and prints the process's peak resident memory (KiB) on stdout.
PEAK_OF_MAIN = """
import resource, sys
from nianbao.cli import main
try:
    main(sys.argv[1:])
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

READ_COMMANDS = [
    ("reports",),
    ("show", "1"),
    ("missing", "--year", "2019"),
    ("late", "--year", "2019"),
    ("findings",),
    ("figures", "headline.applications_received"),
    ("publishers",),
    ("runs",),
    ("runs", "--health"),
    ("archive", "verify"),
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_without_an_archive_says_so_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    database = tmp_path / "typo" / "nianbao.db"
    config = settings_file(tmp_path, database)
    assert_one_line_error(nianbao(config, *args), "no archive at", str(database))
    assert not database.parent.exists()


def test_an_export_without_an_archive_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "typo" / "nianbao.db"
    config = settings_file(tmp_path, database)
    assert_one_line_error(nianbao(config, "export", "csv", str(tmp_path / "out")), "no archive")
    assert not database.parent.exists() and not (tmp_path / "out").exists()


def rename_a_publisher(config: Path) -> None:
    """Change the settings' registry: a read used to sync it into the archive (a write)."""
    first = load_settings(config).publishers[0].name
    text = config.read_text("utf-8").replace(f'name = "{first}"', f'name = "{first}X"', 1)
    config.write_text(text, "utf-8")


def test_reads_write_nothing_even_when_the_registry_differs(archive: Path) -> None:
    database = archive.parent / "nianbao.db"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    rename_a_publisher(archive)
    for args in [*READ_COMMANDS, ("export", "jsonl", str(archive.parent / "out"))]:
        done = nianbao(archive, *args)
        assert "Traceback" not in done.stderr, done.stderr
        uses_registry = args[0] not in ("runs", "archive")
        assert ("publisher registry differs" in done.stderr) == uses_registry, (args, done.stderr)
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_a_read_on_an_archive_behind_the_migrations_says_so(tmp_path: Path) -> None:
    config = settings_file(tmp_path)
    engine = make_engine(load_settings(config).archive.database_url)
    upgrade(engine, "0004")
    engine.dispose()
    assert_one_line_error(nianbao(config, "reports"), "behind", "nianbao archive upgrade")
    done = nianbao(config, "archive", "upgrade")
    assert done.returncode == 0 and "archive up to date" in done.stdout, done.stderr
    assert nianbao(config, "reports").returncode == 0


def test_a_read_goes_on_while_another_connection_holds_the_write_lock(archive: Path) -> None:
    """Issue 12 item 6 from the reader's side: `BEGIN IMMEDIATE` held open elsewhere. With the
    settings' registry changed, a read used to sync it and wait 30 s for "database is locked"."""
    rename_a_publisher(archive)
    holder = sqlite3.connect(archive.parent / "nianbao.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE captures SET finding = 'held' WHERE id = 1")
        for args in (("reports",), ("runs",), ("archive", "verify"), ("publishers",)):
            started = time.monotonic()
            done = nianbao(archive, *args, timeout=60)
            assert done.returncode == 0, done.stderr
            assert time.monotonic() - started < 20, args  # not the 30 s busy timeout
    finally:
        holder.rollback()
        holder.close()


# --- item 7: exports are atomic and never overwrite silently -----------------------------------


def test_a_killed_warc_export_leaves_the_previous_one_whole(tmp_path: Path) -> None:
    config = settings_file(tmp_path)
    build_archive(config, captures=2)
    out = tmp_path / "out"
    assert nianbao(config, "export", "warc", str(out)).returncode == 0
    previous = (out / "tongxiang.warc.gz").read_bytes()
    # Many captures of one incompressible 256 KB page: hundreds of MB of gzip to write, so the
    # kill lands mid-write without any sleep in the code under test.
    build_archive(config, captures=1500, body=os.urandom(256 * 1024))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    argv = [sys.executable, "-m", "nianbao", "--config", str(config)]
    export = subprocess.Popen([*argv, "export", "warc", str(out), "--force"], env=env)
    try:
        temp = wait_for_growing_temp(out, export)
    finally:
        export.kill()  # SIGKILL: no handler runs
        export.wait()
    assert export.returncode == -9
    assert (out / "tongxiang.warc.gz").read_bytes() == previous
    assert temp.exists() and temp.name.startswith(".tongxiang.warc.gz.")
    # The next export into the directory removes the orphan.
    assert nianbao(config, "export", "jsonl", str(out)).returncode == 0
    assert not temp.exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "figures.jsonl", "findings.jsonl", "reports.jsonl", "statuses.jsonl", "tongxiang.warc.gz",
    ]  # fmt: skip


def wait_for_growing_temp(out: Path, process: subprocess.Popen[bytes]) -> Path:
    """The export's temporary file once it holds a few MB (the export is mid-write)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the export ended before it could be killed"
        temps = list(out.glob(f".*{TEMP_SUFFIX}"))
        if temps and temps[0].stat().st_size > 4 * 2**20:
            return temps[0]
        time.sleep(0.02)
    raise AssertionError("no temporary export file grew")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "warc"])
def test_an_existing_export_is_replaced_only_with_force(archive: Path, fmt: str) -> None:
    out = archive.parent / "out"
    assert nianbao(archive, "export", fmt, str(out)).returncode == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    target = next(iter(sorted(first)))
    (out / target).write_bytes(b"mine")
    assert_one_line_error(nianbao(archive, "export", fmt, str(out)), "already exists", "--force")
    assert (out / target).read_bytes() == b"mine"
    assert not list(out.glob(".*"))  # no temporary file left by the refusal
    done = nianbao(archive, "export", fmt, str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()}.keys() == first.keys()
    assert (out / target).read_bytes() != b"mine"


def test_a_temporary_file_of_a_live_export_is_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / f".reports.csv.{os.getpid()}{TEMP_SUFFIX}"
    dead = tmp_path / f".reports.csv.{2**22 + 7}{TEMP_SUFFIX}"  # above pid_max's default
    other = tmp_path / ".notes.txt"
    for path in (mine, dead, other):
        path.write_text("x")
    assert remove_orphans(tmp_path) == [dead]
    assert mine.exists() and other.exists()


# --- item 11, export side: a missing blob ------------------------------------------------------


def test_a_missing_blob_ends_the_warc_export_in_one_line_and_no_file(tmp_path: Path) -> None:
    config = settings_file(tmp_path)
    build_archive(config, captures=3)
    build_archive(config, captures=1, body=b"<html>lost</html>")
    lost = hashlib.sha256(b"<html>lost</html>").hexdigest()
    BlobStore(tmp_path / "blobs").path(lost).unlink()
    out = tmp_path / "out"
    out.mkdir()
    done = nianbao(config, "export", "warc", str(out))
    assert_one_line_error(done, "1 blob(s) missing", lost, "no WARC written")
    assert list(out.iterdir()) == []


# --- item 8: a portal id from the data cannot lead out of the directory ------------------------


@pytest.mark.parametrize("name", ["../x.warc.gz", "/etc/x", ".hidden", "..", "a\\b", ""])
def test_a_file_name_from_data_stays_in_its_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePath):
        inside(tmp_path, name)
    assert inside(tmp_path, "tongxiang.warc.gz") == tmp_path / "tongxiang.warc.gz"


def test_a_warc_export_of_a_hostile_portal_row_writes_nothing_outside(tmp_path: Path) -> None:
    """An archive written before ids were checked (or by hand) may hold `../../x`."""
    config = settings_file(tmp_path)
    build_archive(config)
    with sqlite3.connect(tmp_path / "nianbao.db") as db:
        db.execute("UPDATE captures SET portal = '../../escaped'")
    out = tmp_path / "a" / "b" / "out"
    assert_one_line_error(nianbao(config, "export", "warc", str(out)), "refusing to write")
    assert not list(tmp_path.rglob("escaped*"))


def test_a_backfill_log_path_stays_in_the_log_dir(tmp_path: Path) -> None:
    """The scheduler's nightly and backfill logs are named `<portal>-<time>-<kind>.log`."""
    settings = load_settings(settings_file(tmp_path))
    hostile = dataclasses.replace(settings.portals[0], id="../../../escaped")
    request = Backfill(hostile, settings.crawler, settings.archive, settings.publishers, 2019,
                       2019, log_dir=tmp_path / "a" / "logs")  # fmt: skip
    with pytest.raises(UnsafePath):
        _log_path(request)
    assert not list(tmp_path.rglob("escaped*"))


# --- item 9: CSV formula injection -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("台州市教育局", "台州市教育局"),
        (-3, "-3"),
        (Decimal("-1.5"), "-1.5"),
        ("-12.5", "-12.5"),  # a negative figure as exact text is still a number
        (None, ""),
        (["=x"], '["=x"]'),
    ],
)
def test_csv_cells_never_start_a_formula(value: Any, cell: str) -> None:
    assert csv_cell(value) == cell


def test_every_csv_the_tool_writes_neutralises_formulas(archive: Path) -> None:
    hostile = "=cmd|' /C calc'!A0"
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    engine = make_engine(load_settings(archive).archive.database_url)
    with session_scope(engine) as session:
        session.add(
            Document(
                portal="tongxiang",
                url="http://127.0.0.1/0.html",
                title=hostile,
                publisher_label="@SUM(A1)",
                report_year=2019,
                first_seen_at=moment,
                last_seen_at=moment,
            )  # fmt: skip
        )
    engine.dispose()
    listing = nianbao(archive, "reports", "--format", "csv")
    assert listing.returncode == 0, listing.stderr
    out = archive.parent / "out"
    assert nianbao(archive, "export", "csv", str(out)).returncode == 0
    for text in (listing.stdout, (out / "reports.csv").read_text("utf-8")):
        row = next(csv.DictReader(io.StringIO(text)))
        assert row["title"] == "'" + hostile and row["publisher"] == "'@SUM(A1)", row
