"""The question commands (`nianbao findings|figures|export|publishers|show`) over the SQLite
archive of two crawls of the replica: interface fields and one-line errors. `findings` and `show`
run as a user runs them, in a subprocess; the rest in this process, through the same entry point,
to save an interpreter start per call."""

from __future__ import annotations

import io
import json
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from questions_fixtures import History, history_of
from test_cli import assert_one_line_error, nianbao

from nianbao.cli import main
from replica.truth import load_truth

TRUTH = load_truth()


@pytest.fixture(scope="module", params=["sqlite"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


def run(history: History, *args: str) -> subprocess.CompletedProcess[str]:
    """`nianbao --config … ARGS` in this process, as `main` runs it: exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--config", str(history.config), *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_json(history: History, *args: str) -> list[dict[str, object]]:
    done = run(history, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_findings_command(history: History) -> None:
    done = nianbao("--config", str(history.config), "findings", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert set(rows[0]) == {
        "kind", "report_id", "portal", "publisher", "year", "url", "detail", "evidence",
    }  # fmt: skip
    assert {r["kind"] for r in rows} == {"changed", "backdated", "failed_check", "copied"}
    backdated = run_json(history, "findings", "--year", "2019", "--kind", "backdated")
    assert [(r["publisher"], r["year"]) for r in backdated] == [("台州市教育局", 2019)]


def test_show_gives_the_diff_of_a_changed_report(history: History) -> None:
    [changed] = run_json(history, "findings", "--kind", "changed")
    done = nianbao("--config", str(history.config), "show", str(changed["report_id"]))
    assert done.returncode == 0, done.stderr
    assert "finding changed: 2 versions of its text" in done.stdout
    assert "changes from the version before:" in done.stdout
    assert "    +更正说明：经核查，本报告部分表述有误" in done.stdout
    assert "matched: 台州市财政局, by alias '市财政局' in its 发布机构" in done.stdout
    as_json = nianbao("--config", str(history.config), "show", str(changed["report_id"]), "--json")
    data = json.loads(as_json.stdout)
    assert len(data["versions"]) == 2 and [f["kind"] for f in data["findings"]] == ["changed"]


def test_publishers_command(history: History) -> None:
    registry = run_json(history, "publishers")
    assert len(registry) == sum(1 for p in TRUTH.publishers if p.registered)
    assert {"portal", "name", "kind", "aliases", "unit_code", "years", "reports"} <= set(
        registry[0]
    )
    unmatched = run_json(history, "publishers", "--unmatched")
    assert [(r["label"], r["reports"], r["matched_to"]) for r in unmatched] == [
        ("市发改局", 2, None)
    ]


def test_figures_command_and_plot(history: History, tmp_path: Path) -> None:
    rows = run_json(
        history, "figures", "headline.applications_received", "--publisher", "台州市民政局",
        "--years", "2019-2021", "--plot", str(tmp_path / "f.png"),
    )  # fmt: skip
    assert [(r["year"], r["key"]) for r in rows] == [
        (y, "headline.applications_received") for y in (2019, 2020, 2021)
    ]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    wide = run(
        history, "figures", "headline.proactive_total", "--portal", "taizhou", "--wide",
        "--format", "csv",
    )  # fmt: skip
    header, *lines = wide.stdout.splitlines()
    assert header.startswith("portal,publisher,2013,2014") and len(lines) == 5


def test_export_command(history: History, tmp_path: Path) -> None:
    done = run(history, "export", "warc", str(tmp_path / "w"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        "taizhou.warc.gz",
        "tongxiang.warc.gz",
    ]
    done = run(history, "export", "csv", str(tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "figures.csv", "findings.csv", "reports.csv", "statuses.csv",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("figures", "headline.proactive_total", "--years", "2019-20x1"), ("2019-20x1",)),
        (("figures", "no.such.key"), ("no figure", "no.such.key")),
        (("findings", "--year", "19"), ("19",)),
        (("findings", "--kind", "nosuch"), ("nosuch",)),
        (("export", "xml", "out"), ("xml",)),
        (("publishers", "--portal", "nosuch"), ("nosuch",)),
        (("show", "999999"), ("999999",)),
    ],
)
def test_bad_input_is_one_line(history: History, args: tuple[str, ...], words: tuple[str, ...]) -> None:  # fmt: skip
    assert_one_line_error(run(history, *args), *words)


def test_export_into_an_unwritable_place_is_one_line(history: History, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(run(history, "export", "jsonl", str(blocker / "sub")), "cannot write")
