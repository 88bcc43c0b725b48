"""`export` and `figures` over the archive of two crawls of the replica: the tables say what the
truth says, and the WARC files pass `warcio check` and `warcio index` and give back every
capture's exact bytes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from questions_fixtures import History, history_of
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from archive.blobs import BlobStore
from archive.models import Capture
from archive.warc import CAPTURE_HEADER, export_warc
from questions.deadlines import DeadlineRules
from questions.export import export_tables
from questions.figures import figure_values
from replica.truth import load_truth

TRUTH = load_truth()
RULES = DeadlineRules()
WARCIO = [sys.executable, "-m", "warcio.cli"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


@pytest.fixture(scope="module")
def warcs(history: History, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("warc")
    with Session(history.engine) as session:
        written = export_warc(session, BlobStore(history.settings.archive.blob_dir), out)
    return [w.path for w in written]


def test_warc_files_pass_warcio_check_and_index(warcs: list[Path]) -> None:
    assert sorted(p.name for p in warcs) == ["taizhou.warc.gz", "tongxiang.warc.gz"]
    check = subprocess.run([*WARCIO, "check", "-v", *map(str, warcs)], capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "digest fail" not in check.stdout
    index = subprocess.run([*WARCIO, "index", *map(str, warcs)], capture_output=True, text=True)
    assert index.returncode == 0, index.stderr
    records = [json.loads(line) for line in index.stdout.splitlines()]
    assert {r["warc-type"] for r in records} == {"warcinfo", "response"}


def test_rereading_the_warc_gives_back_every_capture(history: History, warcs: list[Path]) -> None:
    store = BlobStore(history.settings.archive.blob_dir)
    read: dict[int, tuple[str, int, bytes]] = {}
    for path in warcs:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    capture_id = int(record.rec_headers.get_header(CAPTURE_HEADER))
                    status = int(record.http_headers.get_statuscode())
                    read[capture_id] = (record.rec_headers.get_header("WARC-Target-URI"), status, record.content_stream().read())  # fmt: skip
    with Session(history.engine) as session:
        captures = session.execute(
            select(Capture.id, Capture.final_url, Capture.status, Capture.sha256)
        ).all()
        assert len(read) == session.scalar(select(func.count()).select_from(Capture))
    for capture_id, url, status, sha in captures:
        body = store.get(sha) if sha else b""
        assert read[capture_id] == (url, status, body), capture_id
    assert any(status == 304 for _, _, status, _ in captures)  # the second crawl's revalidations


def test_tables_say_what_the_truth_says(history: History, tmp_path: Path) -> None:
    with Session(history.engine) as session:
        written = export_tables(session, tmp_path, "jsonl", RULES, date(2026, 1, 1))
    assert [w.path.name for w in written] == [
        "reports.jsonl", "figures.jsonl", "statuses.jsonl", "findings.jsonl",
    ]  # fmt: skip
    rows = {w.path.stem: [json.loads(line) for line in w.path.open(encoding="utf-8")] for w in written}  # fmt: skip
    assert len(rows["reports"]) == len(TRUTH.originals())  # a republished copy is one report
    assert sum(len(r["copies"]) for r in rows["reports"]) == len(TRUTH.reports) - len(TRUTH.originals())  # fmt: skip
    statuses = {(r["year"], r["portal"], r["publisher"], r["status"], r["days_late"]) for r in rows["statuses"]}  # fmt: skip
    expected = {(y, p, n, "missing", None) for y in _years() for p, n in TRUTH.expected_missing(y)}
    expected |= {(y, p, n, "late", d) for y in _years() for (p, n), d in TRUTH.expected_late(y).items()}  # fmt: skip
    assert {s for s in statuses if s[3] in ("missing", "late")} == expected
    # Every other matched report is there too, on time or undated (issue 15: on-time rows).
    judged = {(r["year"], r["portal"], r["publisher"]) for r in rows["statuses"]}
    assert len(judged) == len(rows["statuses"])  # one status per publisher and year
    on_time = [r for r in rows["statuses"] if r["status"] == "on_time"]
    assert on_time and all(r["days_late"] == 0 and r["deadline"] for r in on_time)
    assert {r["status"] for r in rows["statuses"]} <= {"missing", "late", "on_time", "undated"}
    assert {r["kind"] for r in rows["findings"]} == {"changed", "backdated", "failed_check", "copied"}  # fmt: skip


def test_csv_tables_have_the_interface_fields(history: History, tmp_path: Path) -> None:
    with Session(history.engine) as session:
        export_tables(session, tmp_path, "csv", RULES, date(2026, 1, 1))
    with (tmp_path / "figures.csv").open(encoding="utf-8") as fh:
        figures = list(csv.DictReader(fh))
    assert list(figures[0]) == ["report_id", "portal", "publisher", "year", "key", "value"]
    with (tmp_path / "statuses.csv").open(encoding="utf-8") as fh:
        assert "evidence" in next(csv.DictReader(fh))


def test_a_figure_across_publishers_and_years_is_the_truth(history: History) -> None:
    key = "headline.proactive_total"
    with Session(history.engine) as session:
        values = figure_values(session, key)
        one = figure_values(
            session, key, publisher="市民政局", years=(2014, 2016), portal="taizhou"
        )
    got = {(v.portal, v.publisher, v.year): v.value for v in values}
    expected = {
        (r.portal, r.registry_publisher or "市发改局", r.year): str(dict(r.figures)[key])
        for r in TRUTH.originals()
        if key in dict(r.figures)
    }
    assert {k: got.get(k) for k in expected} == expected
    assert [(v.publisher, v.year) for v in one] == [("台州市民政局", y) for y in (2014, 2015, 2016)]


def test_plot_draws_a_png(history: History, tmp_path: Path) -> None:
    from nianbao.plot import plot_figure

    with Session(history.engine) as session:
        values = figure_values(session, "headline.applications_received", portal="taizhou")
    out = plot_figure(values, "headline.applications_received", tmp_path / "a.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def _years() -> range:
    return range(TRUTH.first_year, TRUTH.last_year + 1)
