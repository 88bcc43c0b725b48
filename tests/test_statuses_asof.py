"""Statuses against the replica's truth: `undated` module reports, `--as-of` as the archive as it
stood then, and `unreachable` narrowed to the publisher a blocked page names.

The archive of the replica portals is built by crawling both of them at `T1` as they stood then
(REPLICA_AS_OF, questions_fixtures), and again now; the kaihua portal (replica/families.py, with
the real web's faults: a challenge page, a WZWS page, a deleted page) is crawled once.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import tomllib
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from questions_fixtures import SHANGHAI, Relay, replica_as_of, shift_run
from replica_fixtures import crawl_all, post, replica_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from test_crawl_families import replica_process

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.clock import day_end
from archive.db import make_engine, session_scope
from archive.registry import PublisherSpec, sync_publishers
from archive.runs import finish_run, start_run
from crawler.job import CrawlJob
from crawler.process import run_crawl
from nianbao.cli import main
from nianbao.settings import parse_settings
from questions.deadlines import DeadlineRules
from questions.evidence import until_end_of
from questions.export import export_tables
from questions.findings import findings
from questions.status import late, missing, timeliness
from replica import settings_for
from replica.families import load_family_truth
from replica.records import Report
from replica.truth import load_truth

TRUTH = load_truth()
FAMILY = load_family_truth()
RULES = DeadlineRules()
T1 = "2020-01-25T10:00"
AT_T1 = datetime.fromisoformat(T1).replace(tzinfo=SHANGHAI)
# After the departments' 2019 deadline (2020-01-31) and before the governments' (2020-03-31);
# the day 桐乡市经济和信息化局 published its report, one day late, after the crawl at T1.
AS_OF = date(2020, 2, 1)
YEARS = range(2019, TRUTH.last_year + 1)


@dataclasses.dataclass
class Timeline:
    engine: Engine
    config: Path
    now: datetime  # when the second crawl began


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    """Both replica portals crawled as they stood at T1, then as they are (revised reports
    revised), into one SQLite archive reached through fixed relays."""
    root = tmp_path_factory.mktemp("timeline")
    relays = {p.id: Relay() for p in TRUTH.portals}
    database_url = f"sqlite:///{root / 'archive.db'}"
    urls = {pid: relay.url for pid, relay in relays.items()}
    settings = replica_settings(urls, database_url, root / "blobs")
    engine = make_engine(database_url)
    try:
        with replica_as_of(T1) as served:
            for pid, base in served.items():
                relays[pid].point_at(base)
            first = crawl_all(settings)
        for summary in first:
            shift_run(engine, summary.run_id, AT_T1)
        now = datetime.now(UTC)
        with replica_as_of(None) as served:
            for pid, base in served.items():
                relays[pid].point_at(base)
            for report in TRUTH.reports:
                if report.revised:
                    post(f"{served[report.portal]}/__replica__/revise?path={report.url}")
            crawl_all(settings)
    finally:
        for relay in relays.values():
            relay.close()
    config = root / "settings.toml"
    config.write_text(settings_for(urls, database_url, str(root / "blobs")), encoding="utf-8")
    yield Timeline(engine, config, now)
    engine.dispose()


def first_seen(report: Report, now: datetime) -> datetime:
    """When the timeline's crawls first saw a report: at T1 if it was online then, else now."""
    return AT_T1 if (report.online_at or report.published_at) <= T1 else now


def undated_in_truth(year: int, now: datetime) -> set[tuple[str, str]]:
    """The replica's module reports from 2019 on print no date; those first seen only after
    their deadline are undated."""
    return {
        r.key
        for r in TRUTH.reports
        if r.year == year and r.layout == "module" and r.year > 2018 and r.registered
        if first_seen(r, now) >= day_end(date.fromisoformat(r.deadline))
    }


def test_an_undated_report_first_seen_after_its_deadline_is_undated(timeline: Timeline) -> None:
    with Session(timeline.engine) as session:
        found = {year: timeliness(session, year, RULES) for year in YEARS}
    for year, got in found.items():
        assert {(r.portal, r.publisher) for r in got.undated} == undated_in_truth(
            year, timeline.now
        )
        # Undated is not late: `late` is still exactly the reports whose claimed date is late.
        assert {(r.portal, r.publisher): r.days_late for r in got.late} == TRUTH.expected_late(year)
    # 桐乡市人民政府 2019 (module, no date): online 2020-02-05, first seen now, due 2020-03-31.
    [gov] = [r for r in found[2019].undated if r.publisher == "桐乡市人民政府"]
    assert gov.status == "undated" and gov.deadline == date(2020, 3, 31)
    assert gov.first_seen_at >= timeline.now and gov.url.endswith("area=330483ZFC00000&fbtime=2019")
    assert "no date on its page; first seen" in gov.evidence
    assert "after the deadline 2020-03-31" in gov.evidence
    assert "the last clean search of tongxiang before the deadline" in gov.evidence
    assert f"at {T1}+08:00," in gov.evidence and "did not find it" in gov.evidence


def test_an_undated_report_first_seen_before_its_deadline_is_on_time(timeline: Timeline) -> None:
    # 桐乡市政务服务办 2019 (module, no date): online 2020-01-11, first seen at T1, due 2020-01-31.
    report = TRUTH.report("tongxiang", "桐乡市政务服务办", 2019)
    assert report is not None and report.layout == "module"
    assert first_seen(report, timeline.now) < day_end(date.fromisoformat(report.deadline))
    with Session(timeline.engine) as session:
        got = timeliness(session, 2019, RULES)
        absent = missing(session, 2019, date(2026, 1, 1), RULES)
    assert "桐乡市政务服务办" not in {r.publisher for r in got.undated}
    assert "桐乡市政务服务办" not in {r.publisher for r in got.late}
    [seen] = [r for r in got.seen_in_time if r.publisher == "桐乡市政务服务办"]
    assert seen.status == "on_time" and f"first seen {T1}+08:00," in seen.evidence
    assert "by the deadline 2020-01-31" in seen.evidence
    assert "桐乡市政务服务办" not in {r.publisher for r in absent}  # a report that exists


def expected_as_of(year: int, as_of: date) -> dict[tuple[str, str], str]:
    """The missing table as of `as_of` (the crawl at T1 the only one by then), from the truth."""
    online = TRUTH.as_of(T1)
    have = {r.key for r in online.reports if r.year == year}
    return {
        p.key: "missing"
        if as_of > date(year + 1, 1, 31) and p.kind != "government"
        else "not_yet_due"
        for p in TRUTH.publishers
        if p.registered and p.existed(year) and p.key not in have
    }


def test_as_of_a_date_the_reports_published_after_it_are_not_there(timeline: Timeline) -> None:
    until = until_end_of(AS_OF)
    published_after = [
        r for r in TRUTH.reports if r.year == 2019 and r.registered and r.published_at > T1
    ]
    assert ("tongxiang", "桐乡市经济和信息化局") in {r.key for r in published_after}
    with Session(timeline.engine) as session:
        then = missing(session, 2019, AS_OF, RULES, until)
        late_then = timeliness(session, 2019, RULES, until)
        now = missing(session, 2019, date(2026, 1, 1), RULES)
        late_now = late(session, 2019, RULES)
    assert {(r.portal, r.publisher): r.status for r in then} == expected_as_of(2019, AS_OF)
    for report in published_after:
        row = next(r for r in then if (r.portal, r.publisher) == report.key)
        if row.status == "missing":  # the only search by then, at T1, came before the deadline
            assert "not searched since the deadline 2020-01-31" in row.evidence, row
        assert report.key not in {(r.portal, r.publisher) for r in now}  # present after
    assert late_then.late == [] and late_then.undated == []
    assert TRUTH.as_of(T1).expected_late(2019) == {}
    # After: the report published the day after its deadline is late by one day.
    assert {r.publisher: r.days_late for r in late_now}["桐乡市经济和信息化局"] == 1


def test_as_of_before_any_crawl_nothing_exists(timeline: Timeline, tmp_path: Path) -> None:
    as_of = date(2020, 1, 20)  # before T1: no capture, no run
    until = until_end_of(as_of)
    with Session(timeline.engine) as session:
        due = missing(session, 2018, as_of, RULES, until)
        not_due = missing(session, 2019, as_of, RULES, until)
        got = timeliness(session, 2018, RULES, until)
        assert findings(session, RULES, until=until) == []
        written = export_tables(session, tmp_path, "jsonl", RULES, as_of, until=until)
    for year, rows in ((2018, due), (2019, not_due)):
        expected = {p.key for p in TRUTH.publishers if p.registered and p.existed(year)}
        assert {(r.portal, r.publisher) for r in rows} == expected
    # 2018's reports were due 2019-03-31, and no crawl had run yet; 2019's were not yet due.
    assert {(r.status, r.evidence) for r in due} == {
        ("unreachable", f"no crawl of {portal} recorded") for portal in ("taizhou", "tongxiang")
    }
    assert {r.status for r in not_due} == {"not_yet_due"}
    assert got.late == [] and got.undated == []
    counts = {w.path.stem: w.rows for w in written}
    assert counts["reports"] == counts["figures"] == counts["findings"] == 0


def test_findings_and_export_as_of_a_date(timeline: Timeline, tmp_path: Path) -> None:
    until = until_end_of(AS_OF)
    assert until is not None
    with Session(timeline.engine) as session:
        full = findings(session, RULES)
        then = findings(session, RULES, until=until)
        written = export_tables(session, tmp_path, "jsonl", RULES, AS_OF, until=until)
    # The revisions and the backdated report came after: as of AS_OF nothing changed yet.
    assert {"changed", "backdated"} <= {f.kind for f in full}
    assert not {"changed", "backdated"} & {f.kind for f in then}
    rows = {w.path.stem: [json.loads(line) for line in w.path.open(encoding="utf-8")] for w in written}  # fmt: skip
    online = {r.url for r in TRUTH.as_of(T1).reports}
    assert {r["url"].split("/", 3)[3] for r in rows["reports"]} <= {u.lstrip("/") for u in online}
    assert all(datetime.fromisoformat(r["first_seen_at"]) < until for r in rows["reports"])
    of_2019 = [r for r in rows["statuses"] if r["year"] == 2019]
    # The export lists every publisher-year; the absent ones are `missing` answered as of then.
    absent = {(r["portal"], r["publisher"]): r["status"] for r in of_2019 if r["status"] not in ("on_time", "undated")}  # fmt: skip
    assert absent == expected_as_of(2019, AS_OF)  # and nothing late yet, as `late --as-of` says
    present = {(r["portal"], r["publisher"]) for r in of_2019 if r["status"] in ("on_time", "undated")}  # fmt: skip
    assert present and not present & absent.keys()
    assert {r["report_id"] for r in rows["figures"]} <= {r["id"] for r in rows["reports"]}


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`nianbao --config … ARGS` in this process, as `main` runs it."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--config", str(config), *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_json(config: Path, *args: str) -> list[dict[str, object]]:
    done = run(config, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_late_and_missing_as_of_on_the_command_line(timeline: Timeline) -> None:
    config, as_of = timeline.config, AS_OF.isoformat()
    assert run_json(config, "late", "--year", "2019", "--as-of", as_of) == []
    rows = run_json(config, "missing", "--year", "2019", "--as-of", as_of)
    assert {(r["portal"], r["publisher"]): r["status"] for r in rows} == expected_as_of(2019, AS_OF)
    now = run_json(config, "late", "--year", "2019")
    assert {(r["portal"], r["publisher"]): r["days_late"] for r in now} == TRUTH.expected_late(2019)
    # The undated ones: counted on stderr, listed with --undated, told apart by status.
    done = run(config, "late", "--year", "2019")
    assert "1 report of 2019 claims no date" in done.stderr and "--undated" in done.stderr
    both = run_json(config, "late", "--year", "2019", "--undated")
    expected = {(key, "late") for key in TRUTH.expected_late(2019)}
    expected |= {(key, "undated") for key in undated_in_truth(2019, timeline.now)}
    expected |= {(("tongxiang", "桐乡市政务服务办"), "on_time")}  # no date, but seen in time
    assert {((r["portal"], r["publisher"]), r["status"]) for r in both} == expected
    assert (("tongxiang", "桐乡市人民政府"), "undated") in expected
    undated = next(r for r in both if r["status"] == "undated")
    assert undated["published_at"] is None and undated["days_late"] is None
    assert "first seen" in str(undated["evidence"])
    help_text = run(config, "late", "--help").stdout
    assert "--as-of" in help_text and "--undated" in help_text and "undated" in help_text


# --- unreachable, narrowed ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kaihua(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The kaihua replica crawled once: one report page a 412 challenge, one a WZWS page, one
    deleted, among a portal crawled cleanly otherwise."""
    root = tmp_path_factory.mktemp("kaihua")
    database_url = f"sqlite:///{root / 'archive.db'}"
    with replica_process("kaihua") as urls:
        text = settings_for(urls, database_url=database_url, blob_dir=str(root / "blobs"))
        settings = parse_settings(tomllib.loads(text), root / "settings.toml")
        crawler = dataclasses.replace(settings.crawler, timeout_seconds=1.0)
        [portal] = settings.portals
        summary = run_crawl(
            CrawlJob(portal, crawler, settings.archive, settings.publishers, "manual")
        )
    assert (summary.status, summary.blocked, summary.gone) == ("ok", 2, 1)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("year", "publisher", "fault"),
    [(2020, "开化县教育局", "challenge"), (2021, "开化县财政局", "wzws")],
)
def test_a_blocked_report_page_makes_only_its_publisher_unreachable(
    kaihua: Engine, year: int, publisher: str, fault: str
) -> None:
    report = next(r for r in FAMILY.reports_of("kaihua") if r.fault == fault)
    assert (report.publisher, report.year) == (publisher, year)
    with Session(kaihua) as session:
        rows = missing(session, year, date(2026, 1, 1), RULES)
    assert [(r.publisher, r.status) for r in rows] == [(publisher, "unreachable")]
    assert report.url in rows[0].evidence and "blocked by an anti-bot challenge" in rows[0].evidence
    assert f"{year}年度" in rows[0].evidence  # named by the title its listing gave it


def test_a_portal_with_blocked_pages_still_has_missing_and_gone_reports(kaihua: Engine) -> None:
    with Session(kaihua) as session:
        truly = missing(session, 2019, date(2026, 1, 1), RULES)
        deleted = missing(session, 2022, date(2026, 1, 1), RULES)
    # 开化县财政局 published nothing for 2019: the run met two challenges, both on pages that
    # name other reports, so its search was clean for this one.
    assert {k for k in FAMILY.expected_missing(2019) if k[0] == "kaihua"} == {
        ("kaihua", "开化县财政局")
    }
    assert [(r.publisher, r.status) for r in truly] == [("开化县财政局", "missing")]
    assert "last clean search: run" in truly[0].evidence
    assert [(r.publisher, r.status) for r in deleted] == [("开化县华埠镇", "gone")]


# --- blocked pages that name no publisher, recorded as the crawler records them ------------------

BASE = "http://xxgk.tx.gov.cn"
PUBLISHERS = [
    PublisherSpec("tongxiang", "桐乡市教育局", ("市教育局",), "department"),
    PublisherSpec("tongxiang", "桐乡市人民政府", ("市政府",), "government", "330483ZFC00000"),
]
FETCHED = datetime(2021, 4, 10, 1, tzinfo=UTC)


def blocked(url: str, kind: str, run_id: int, title: str | None = None) -> CaptureIn:
    return CaptureIn(
        portal="tongxiang",
        run_id=run_id,
        url=url,
        final_url=url,
        status=412,
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=b"<html><script>challenge()</script></html>",
        fetched_at=FETCHED,
        kind=kind,
        outcome="blocked",
        listed_title=title,
    )


def blocked_run(engine: Engine, store: BlobStore, *pages: tuple[str, str]) -> int:
    """A run that ended ok and met a challenge on each of `pages` (url, kind), all recorded."""
    with session_scope(engine) as session:
        sync_publishers(session, PUBLISHERS)
        run = start_run(session, "tongxiang", "nightly", at=FETCHED - timedelta(minutes=10))
        for url, kind in pages:
            record_capture(session, store, blocked(url, kind, run.id))
        finish_run(
            session, run, "ok", pages=40, blocked=len(pages), at=FETCHED + timedelta(minutes=5)
        )
        return run.id


def statuses(engine: Engine) -> dict[str, tuple[str, str]]:
    with session_scope(engine) as session:
        rows = missing(session, 2020, date(2021, 6, 1), RULES)
    return {r.publisher: (r.status, r.evidence) for r in rows}


def test_a_blocked_module_page_names_its_publisher_by_unit_code(engine: Engine, store: BlobStore) -> None:  # fmt: skip
    module = f"{BASE}/module/xxgk/xxgkAnnualReport.jsp?area=330483ZFC00000&fbtime=2020"
    run_id = blocked_run(engine, store, (module, "module"))
    got = statuses(engine)
    assert got["桐乡市人民政府"][0] == "unreachable" and module in got["桐乡市人民政府"][1]
    status, evidence = got["桐乡市教育局"]
    assert status == "missing" and f"last clean search: run {run_id}" in evidence


def test_a_blocked_listing_page_is_said_not_blanketed(engine: Engine, store: BlobStore) -> None:
    listing = f"{BASE}/module/web/jpage/dataproxy.jsp?page=3"
    blocked_run(engine, store, (listing, "listing"))
    got = statuses(engine)
    for name in ("桐乡市人民政府", "桐乡市教育局"):
        status, evidence = got[name]
        assert status == "missing", (name, evidence)
        assert f"a listing page {listing} was blocked" in evidence
        assert "which publishers it lists cannot be told" in evidence


def test_as_of_before_a_blocked_run_neither_the_run_nor_its_pages_exist(
    engine: Engine, store: BlobStore
) -> None:
    module = f"{BASE}/module/xxgk/xxgkAnnualReport.jsp?area=330483ZFC00000&fbtime=2020"
    blocked_run(engine, store, (module, "module"))
    as_of = date(2021, 4, 5)  # after the 2021-03-31 deadline, before the run of 2021-04-10
    with session_scope(engine) as session:
        rows = missing(session, 2020, as_of, RULES, until_end_of(as_of))
    assert {(r.publisher, r.status, r.evidence) for r in rows} == {
        (name, "unreachable", "no crawl of tongxiang recorded")
        for name in ("桐乡市人民政府", "桐乡市教育局")
    }
