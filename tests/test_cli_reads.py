"""Reads never write, and listings fit the terminal (issue 15, items 3 and 6).

Every read command, found by walking the click group (a new command must be given its sample
arguments below, or be named a writer, or these tests fail), runs against a read-only archive,
an archive behind this version's migrations, and no archive at all. Tests may run as root,
which ignores file permissions, so besides the chmod every file's bytes and mtime and the
directory listing are compared before and after. Every listing command (those taking
`--format`) is rendered at 80 and 160 columns and no line may be wider, in display cells.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import click
import pytest
from alembic import command as alembic
from alembic.script import ScriptDirectory
from questions_fixtures import History, history_of

from archive.db import alembic_config, make_engine
from nianbao.cli import cli, main
from replica import settings_for

# Commands that write (or serve, or touch no archive): everything else is a read.
NOT_READS = {
    "archive upgrade", "backfill", "crawl", "demo", "parse", "portals check", "reparse",
    "schedule", "serve", "worker",
}  # fmt: skip
# A read command's sample arguments (`{out}`: a fresh directory outside the archive).
READ_ARGS = {
    "archive verify": [],
    "export": ["csv", "{out}"],
    "figures": ["headline.applications_received"],
    "findings": [],
    "late": ["--year", "2019"],
    "missing": ["--year", "2019"],
    "publishers": [],
    "reports": [],
    "runs": [],
    "show": ["1"],
    "status": [],
}
# More ways to call the listing commands, each rendered at both widths.
LISTING_VARIANTS = [
    ["figures", "--list"],
    ["figures", "headline.applications_received", "--wide"],
    ["late", "--years", "2013-2024", "--undated"],
    ["missing", "--years", "2013-2024"],
    ["publishers", "--unmatched"],
    ["runs", "--health"],
    ["status", "--portal", "tongxiang", "--years", "2013-2024"],
]


def leaf_commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found.update(leaf_commands(cmd, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = cmd
    return found


READS = sorted(set(leaf_commands()) - NOT_READS)
# `demo` prints a listing too, but it crawls: its table goes through the same `emit`.
LISTINGS = sorted(
    n for n, c in leaf_commands().items() if any(p.name == "bom" for p in c.params) and n != "demo"
)


def test_every_read_command_has_sample_arguments() -> None:
    assert set(READS) == set(READ_ARGS), "name the new command in READ_ARGS or NOT_READS"


def run(config: Path, *args: str, columns: int = 80) -> tuple[int, str, str]:
    """`nianbao --config CONFIG ARGS` in this process, with a terminal COLUMNS wide."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err), _columns(columns):
        try:
            main(["--config", str(config), *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@contextmanager
def _columns(columns: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = before


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and directory under `root`: sha256 of its bytes and its mtime."""
    found = {}
    for path in sorted(root.rglob("*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (digest, path.stat().st_mtime_ns)
    return found


@pytest.fixture(scope="module", params=["sqlite"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


def archive_copy(history: History, root: Path) -> Path:
    """A copy of the crawled archive under `root/archive`, with a settings file in `root` that
    names it by relative paths (resolved against the settings file, not the working directory)."""
    (root / "archive").mkdir(parents=True)
    source = sqlite3.connect(history.database_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(root / "archive" / "nianbao.db")
    source.backup(target)
    source.close()
    target.execute("PRAGMA journal_mode=DELETE")  # no -wal/-shm files left beside it
    target.close()
    shutil.copytree(history.settings.archive.blob_dir, root / "archive" / "blobs")
    config = root / "settings.toml"
    urls = {p.id: p.base_url for p in history.settings.portals}
    config.write_text(settings_for(urls, "sqlite:///archive/nianbao.db", "archive/blobs"), "utf-8")
    return config


def args_for(name: str, out: Path) -> list[str]:
    return [*name.split(), *(a.replace("{out}", str(out)) for a in READ_ARGS[name])]


@pytest.fixture(scope="module")
def read_only(history: History, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("read-only")
    config = archive_copy(history, root)
    archive = root / "archive"
    modes = {p: p.stat().st_mode for p in [archive, *archive.rglob("*")]}
    for path in modes:
        path.chmod(stat.S_IMODE(modes[path]) & ~0o222)
    yield config
    for path, mode in modes.items():
        path.chmod(stat.S_IMODE(mode))


@pytest.mark.parametrize("name", READS)
def test_a_read_command_writes_nothing_to_a_read_only_archive(
    name: str, read_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative paths must still find the archive
    before = snapshot(read_only.parent)
    code, out, err = run(read_only, *args_for(name, tmp_path / "out"))
    assert snapshot(read_only.parent) == before
    assert list(elsewhere.iterdir()) == []
    assert code == 0, err
    assert out.strip() and "Traceback" not in err


@pytest.mark.parametrize("name", READS)
def test_a_read_command_where_no_archive_exists_says_so_and_creates_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "settings.toml"
    urls = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}
    config.write_text(settings_for(urls, "sqlite:///data/nianbao.db", "data/blobs"), "utf-8")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run(config, *args_for(name, tmp_path / "out"))
    assert snapshot(tmp_path) == before
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nianbao: error: no archive at "), err
    assert str(tmp_path / "data" / "nianbao.db") in lines[0]  # the settings file's directory


@pytest.fixture(scope="module")
def behind(history: History, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the archive stamped one migration back, as an older nianbao left it."""
    config = archive_copy(history, tmp_path_factory.mktemp("behind"))
    engine = make_engine(f"sqlite:///{config.parent / 'archive' / 'nianbao.db'}")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    alembic.stamp(alembic_config(engine), str(previous), purge=True)
    engine.dispose()
    return config


@pytest.mark.parametrize("name", READS)
def test_a_read_command_on_an_archive_behind_says_so_in_one_line(
    name: str, behind: Path, tmp_path: Path
) -> None:
    before = snapshot(behind.parent)
    code, out, err = run(behind, *args_for(name, tmp_path / "out"))
    assert snapshot(behind.parent) == before
    lines = err.strip().splitlines()
    assert code != 0 and out == "" and len(lines) == 1, err
    assert "behind" in lines[0] and "nianbao archive upgrade" in lines[0]


def display_width(line: str) -> int:
    """Terminal cells: East Asian wide and fullwidth characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in line
    )


LISTING_CALLS = [args_for(n, Path("unused")) for n in LISTINGS] + LISTING_VARIANTS


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize("args", LISTING_CALLS, ids=[" ".join(a) for a in LISTING_CALLS])
def test_a_listing_fits_the_terminal(history: History, args: list[str], columns: int) -> None:
    _code, out, err = run(history.config, *args, columns=columns)
    assert out.strip(), err
    assert "Traceback" not in err
    wide = [line for line in out.splitlines() if display_width(line) > columns]
    assert not wide, f"{len(wide)} lines wider than {columns}: {wide[0]!r}"


def test_every_listing_is_rendered_here() -> None:
    assert {a[0] for a in LISTING_CALLS} >= set(LISTINGS)


def test_a_cut_cell_is_whole_in_csv_and_json(history: History) -> None:
    _, table, _ = run(history.config, "reports", columns=80)
    assert "…" in table  # URLs do not fit 80 columns
    assert "http" not in table.replace("http…", "") or all(
        "…" in line or "http" not in line for line in table.splitlines()[3:]
    )
    _, text, _ = run(history.config, "reports", "--format", "json")
    rows = json.loads(text)
    _, csv_text, _ = run(history.config, "reports", "--format", "csv")
    for row in rows:
        assert row["url"].startswith("http://") and row["url"] in csv_text


def test_csv_takes_a_bom_for_excel(history: History) -> None:
    _, plain_csv, _ = run(history.config, "runs", "--format", "csv")
    _, bom_csv, _ = run(history.config, "runs", "--format", "csv", "--bom")
    assert not plain_csv.startswith("\ufeff")
    assert bom_csv == "\ufeff" + plain_csv
    header = plain_csv.splitlines()[0].split(",")
    assert {"blocked", "gone", "not_modified"} <= set(header)


def test_json_numbers_are_numbers_and_moments_carry_the_offset(history: History) -> None:
    _, text, _ = run(
        history.config, "figures", "headline.applications_received", "--format", "json"
    )
    values = [row["value"] for row in json.loads(text)]
    assert values and all(isinstance(v, (int, float)) for v in values)
    _, text, _ = run(history.config, "reports", "--format", "json")
    seen = [row["first_seen_at"] for row in json.loads(text)]
    assert seen and all(s.endswith("+08:00") for s in seen)


def test_figures_list_prints_every_key_with_its_label() -> None:
    from parsers.rules.catalog import figure_catalog

    code, out, err = run(_shipped(), "figures", "--list", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert [r["key"] for r in listed] == [e.key for e in figure_catalog()]
    assert all(r["label"] and r["templates"] for r in listed)
    assert any(r["key"] == "headline.applications_received" for r in listed)


def _shipped() -> Path:
    return Path(__file__).resolve().parent.parent / "settings.toml"


def test_missing_late_findings_take_a_portal(history: History) -> None:
    for command in (
        ["missing", "--years", "2013-2024"],
        ["late", "--years", "2013-2024"],
        ["findings"],
    ):
        _, every, _ = run(history.config, *command, "--format", "json")
        _, one, _ = run(history.config, *command, "--portal", "taizhou", "--format", "json")
        rows, kept = json.loads(every), json.loads(one)
        assert kept and {r["portal"] for r in kept} == {"taizhou"}
        assert kept == [r for r in rows if r["portal"] == "taizhou"]


def test_years_is_the_union_of_single_years(history: History) -> None:
    _, span, _ = run(history.config, "missing", "--years", "2019-2020", "--format", "json")
    single = []
    for year in ("2019", "2020"):
        _, text, _ = run(history.config, "missing", "--year", year, "--format", "json")
        single += json.loads(text)
    assert json.loads(span) == single


def test_status_is_the_web_boards_cells(history: History) -> None:
    """`status --format json` is /board.json: the same cells, every page."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as tests/test_web.py: TestClient on httpx
        from starlette.testclient import TestClient

    from archive.blobs import BlobStore
    from web.app import WebConfig, create_app

    args = ["status", "--portal", "taizhou", "--years", "2014-2024", "--as-of", "2026-01-01"]
    _, text, _ = run(history.config, *args, "--format", "json")
    records = json.loads(text)
    assert {r["status"] for r in records} >= {"on_time", "late", "missing"}
    settings = history.settings
    config = WebConfig(
        settings.archive.database_url,
        BlobStore(settings.archive.blob_dir),
        settings.deadlines,
        ("tongxiang", "taizhou"),
        lambda: date(2026, 1, 1),
    )
    board = TestClient(create_app(config)).get("/board.json?portal=taizhou&from=2014&to=2024")
    assert board.status_code == 200
    web = board.json()
    web_rows = web["rows"] if isinstance(web, dict) else web
    assert [(r["publisher"], r["year"], r["status"]) for r in records] == [
        (r["publisher"], r["year"], r["status"]) for r in web_rows
    ]
    _, table, _ = run(history.config, *args, columns=160)
    assert "late 43" in table and "missing" in table and "台州市民政局" in table


def test_a_portal_without_publishers_is_a_warning_not_an_empty_answer(
    history: History, tmp_path: Path
) -> None:
    config = tmp_path / "settings.toml"
    cut = history.config.read_text("utf-8").split("[[publishers]]")
    kept = [block for block in cut[1:] if 'portal = "taizhou"' not in block]
    config.write_text(cut[0] + "".join("[[publishers]]" + b for b in kept), "utf-8")
    for command in (["missing", "--year", "2019"], ["late", "--year", "2019"], ["status"]):
        _code, _out, err = run(config, *command, "--portal", "taizhou")
        assert "warning: portal 'taizhou' has no registered publishers" in err, command


def test_an_exact_decimal_is_a_json_number_with_every_digit() -> None:
    """What `show --json`, `parse --json` and every `--format json` print through."""
    from decimal import Decimal

    from nianbao.output import to_json

    text = to_json({"amount_wan_yuan": Decimal("24252.311082"), "n": 3, "s": "24252.311082"})
    assert json.loads(text, parse_float=Decimal) == {
        "amount_wan_yuan": Decimal("24252.311082"),
        "n": 3,
        "s": "24252.311082",
    }
    assert '"amount_wan_yuan": 24252.311082' in text


def test_progress_off_a_terminal_is_whole_lines_on_stderr() -> None:
    from nianbao.progress import progress

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), progress("crawl", total=2) as bar:
        bar.update(1, "tongxiang: 93 pages")
    assert out.getvalue() == ""
    assert err.getvalue() == "crawl: 1/2 tongxiang: 93 pages\n"


def test_log_lines_carry_the_same_time_convention() -> None:
    import logging

    from archive.clock import LogFormatter

    record = logging.LogRecord("scheduler", logging.INFO, __file__, 1, "crawl started", None, None)
    record.created = 1_600_000_000.0  # 2020-09-13T12:26:40Z
    line = LogFormatter("%(asctime)s %(message)s").format(record)
    assert line == "2020-09-13T20:26:40+08:00 crawl started"
