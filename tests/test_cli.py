"""The `nianbao` command as a user runs it: one-line errors, parse on the seeds, and the answers
of `missing` and `late` over a crawled replica checked against the replica's ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from replica_fixtures import replica_process
from seed_facts import SEED_METADATA

from replica import settings_for
from replica.truth import load_truth

SEEDS = Path(__file__).parent / "seeds"
TRUTH = load_truth()


def nianbao(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a user would."""
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("NIANBAO_CONFIG", "NIANBAO_DATABASE_URL")
    }
    full_env = {**inherited, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nianbao", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("nianbao: error: ") and "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    urls = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}
    path.write_text(
        settings_for(urls, f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path / "blobs")), "utf-8"
    )
    return path


def test_a_missing_settings_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nianbao("--config", str(tmp_path / "nope.toml"), "reports"), "not found")


def test_a_typo_in_a_settings_key_is_rejected_by_name(settings_file: Path) -> None:
    text = settings_file.read_text("utf-8").replace("download_delay", "downlod_delay")
    settings_file.write_text(text, "utf-8")
    assert_one_line_error(nianbao("--config", str(settings_file), "reports"), "downlod_delay")


def test_an_unknown_portal_is_one_line(settings_file: Path) -> None:
    assert_one_line_error(
        nianbao("--config", str(settings_file), "crawl", "nosuch"), "nosuch", "tongxiang"
    )


@pytest.mark.parametrize("year", ["20x9", "19", "3000"])
def test_a_malformed_year_is_one_line(settings_file: Path, year: str) -> None:
    assert_one_line_error(nianbao("--config", str(settings_file), "missing", "--year", year), year)


def test_an_unreachable_database_is_one_line(settings_file: Path) -> None:
    env = {"NIANBAO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/nianbao"}
    assert_one_line_error(
        nianbao("--config", str(settings_file), "reports", env=env), "cannot reach"
    )


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nianbao("parse", str(tmp_path / "absent.html")), "absent.html")


def test_an_unknown_command_is_one_line() -> None:
    assert_one_line_error(nianbao("no-such-command"), "No such command")


def test_the_shipped_settings_are_used_outside_the_repo(tmp_path: Path) -> None:
    env = {"NIANBAO_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    done = nianbao("crawl", "nosuch", cwd=tmp_path, env=env)
    assert_one_line_error(done, "known: tongxiang, taizhou")


SEED_FACTS = {
    "000": (
        "桐乡市经济和信息化局2017年度政府信息公开工作报告",
        2017,
        "桐乡市经济和信息化局",
        {},
        {"headline.proactive_total": 218, "headline.applications_received": 17},
    ),
    "001": (
        "桐乡市商务局（粮食局）2017年度政府信息公开工作报告",
        2017,
        "桐乡市商务局（粮食局）",
        {},
        {"headline.proactive_total": 488, "headline.applications_received": 5},
    ),
    "002": (
        "桐乡市人民政府2017年度政府信息公开工作报告",
        2017,
        "桐乡市人民政府",
        SEED_METADATA["002"],
        {"headline.applications_received": 224},
    ),
    "003": (
        "台州市经信委2017年度政务信息公开工作总结",
        2017,
        "市经信委",
        SEED_METADATA["003"],
        {"headline.proactive_total": 492},
    ),
    "004": (
        "桐乡市商务局2013年度政府信息公开工作报告",
        2013,
        "市商务局",
        SEED_METADATA["004"],
        {},
    ),
}


@pytest.mark.parametrize("seed", sorted(SEED_FACTS))
def test_parse_prints_what_each_seed_says(seed: str) -> None:
    title, year, publisher, metadata, figures = SEED_FACTS[seed]
    done = nianbao("parse", str(next(SEEDS.glob(f"{seed}_*.txt"))), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["title"], result["report_year"], result["publisher"]) == (title, year, publisher)
    assert {k: result["metadata"][k] for k in metadata} == metadata
    assert {k: result["figures"].get(k) for k in figures} == figures
    plain = nianbao("parse", str(next(SEEDS.glob(f"{seed}_*.txt"))))
    assert f"title: {title}" in plain.stdout and f"publisher: {publisher}" in plain.stdout


@pytest.fixture(scope="module")
def crawled_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The replica crawled with `nianbao crawl`, as a user would; yields the settings file."""
    root = tmp_path_factory.mktemp("cli")
    with replica_process() as urls:
        path = root / "settings.toml"
        path.write_text(
            settings_for(urls, f"sqlite:///{root / 'a.db'}", str(root / "blobs")), "utf-8"
        )
        done = nianbao("--config", str(path), "crawl")
        assert done.returncode == 0, done.stderr
        yield path


def cli_json(config: Path, *args: str) -> list[dict[str, object]]:
    done = nianbao("--config", str(config), *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


@pytest.mark.parametrize("year", range(TRUTH.first_year, TRUTH.last_year + 1))
def test_missing_and_late_list_exactly_what_the_replica_was_built_with(
    crawled_config: Path, year: int
) -> None:
    missing = cli_json(crawled_config, "missing", "--year", str(year))
    assert {(r["portal"], r["publisher"]) for r in missing} == TRUTH.expected_missing(year)
    assert all(r["status"] == "missing" and r["evidence"] for r in missing)
    late = cli_json(crawled_config, "late", "--year", str(year))
    assert {(r["portal"], r["publisher"]): r["days_late"] for r in late} == TRUTH.expected_late(
        year
    )
    for row in late:
        report = TRUTH.report(str(row["portal"]), str(row["publisher"]), year)
        assert report is not None and row["deadline"] == report.deadline
        assert row["published_at"] == report.published_at


def test_missing_before_the_deadline_is_not_yet_due(crawled_config: Path) -> None:
    rows = cli_json(crawled_config, "missing", "--year", "2019", "--as-of", "2020-01-15")
    # --as-of is the archive as it stood then: crawled only now, it held no report yet.
    expected = {(p.portal, p.name) for p in TRUTH.publishers if p.registered and p.existed(2019)}
    assert {(r["portal"], r["publisher"]) for r in rows} == expected
    assert {r["status"] for r in rows} == {"not_yet_due"}


def test_reports_and_runs_have_the_interface_fields(crawled_config: Path) -> None:
    reports = cli_json(crawled_config, "reports", "--year", "2017")
    # A report republished at a second URL is one report, listing its copies.
    assert len(reports) == sum(1 for r in TRUTH.originals() if r.year == 2017)
    assert set(reports[0]) == {
        "id",
        "portal",
        "publisher",
        "year",
        "title",
        "url",
        "index_no",
        "written_date",
        "published_at",
        "first_seen_at",
        "template",
        "versions",
        "captures",
        "copies",
    }
    runs = cli_json(crawled_config, "runs")
    assert {r["status"] for r in runs} == {"ok"} and len(runs) == 2


def test_reparse_reads_every_snapshot_again_and_changes_nothing(crawled_config: Path) -> None:
    before = cli_json(crawled_config, "reports", "--year", "2017")
    done = nianbao("--config", str(crawled_config), "reparse", "--all")
    assert done.returncode == 0, done.stderr
    assert "reparsed all snapshots" in done.stdout and "0 new reports" in done.stdout
    # Not a terminal: progress comes as plain lines on stderr, the last one complete.
    last = [line for line in done.stderr.splitlines() if line.startswith("reparse: ")][-1]
    done_count, total = last.removeprefix("reparse: ").split()[0].split("/")
    assert done_count == total and int(total) > 40
    after = cli_json(crawled_config, "reports", "--year", "2017")
    assert after == before


def test_show_says_which_figures_were_recovered_by_arithmetic(settings_file: Path) -> None:
    """A real table whose cells ran together (tests/real/texts/0074-joined.txt, derived from a
    real report by joining each row's cells): `show` names the figures read by the arithmetic."""
    from datetime import UTC, datetime

    from archive.blobs import BlobStore
    from archive.captures import CaptureIn, record_capture
    from archive.db import make_engine, session_scope, upgrade
    from archive.indexing import index_captures
    from archive.runs import start_run

    root = settings_file.parent
    text = (Path(__file__).parent / "real" / "texts" / "0074-joined.txt").read_bytes()
    engine = make_engine(f"sqlite:///{root / 'a.db'}")
    upgrade(engine)
    store = BlobStore(root / "blobs")
    url = "http://127.0.0.1:9/art/2020/1/20/art_1_1.html"
    with session_scope(engine) as session:
        run = start_run(session, "tongxiang", "manual")
        record_capture(session, store, CaptureIn(
            portal="tongxiang", run_id=run.id, url=url, final_url=url, status=200,
            headers=[("Content-Type", "text/plain; charset=utf-8")], body=text,
            fetched_at=datetime(2020, 1, 20, 8, tzinfo=UTC), kind="article", parent_url=None,
            content_type="text/plain; charset=utf-8",
        ))  # fmt: skip
        assert index_captures(session, store, run_id=run.id).new_reports == 1
    engine.dispose()
    shown = nianbao("--config", str(settings_file), "show", "1")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    recovered = [line for line in lines if "recovered by the table's arithmetic" in line]
    # Labelled by hand (tests/real/labels/0074-joined.json): '行政许可1215-351180' gives 1215.
    assert any(
        line.strip().startswith("proactive.art20_5.licensing.prev_year_items = 1215 ")
        for line in recovered
    ), recovered
    # A figure read from prose says so, and is not said to be recovered.
    prose = [line for line in lines if line.rstrip().endswith("[prose]")]
    assert prose and not set(prose) & set(recovered)
