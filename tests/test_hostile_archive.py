"""Issue 12, the archive's side: a capture that cannot be read is recorded and passed over, the
write lock is held in short batches, long URLs and headers fit, concurrent indexers and
migrations do not collide."""

from __future__ import annotations

import dataclasses
import json
import re
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from test_archive_indexing import ARTICLE, BASE, T0, page_capture, report_html

from archive import indexing
from archive.batches import index_in_batches
from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture, record_captures
from archive.db import make_engine, session_scope, upgrade
from archive.errors import ArchiveWriteFailed
from archive.indexing import IndexStats, index_captures
from archive.models import Capture, Document, DocumentVersion, url_sha256
from archive.runs import finish_run, start_run
from crawler.writer import Writer
from nianbao.cli import cli
from ops.leases import Holder, acquire, renew
from questions.deadlines import DeadlineRules
from questions.findings import findings
from replica import settings_for

# Waits for a start signal (a file appearing), so that the processes start their work together.
_MIGRATE = """
import sys, time
from pathlib import Path
from archive.db import make_engine, upgrade
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
upgrade(make_engine(sys.argv[1]))
"""


def _together(
    script: str, args: list[list[str]], go: Path
) -> list[subprocess.CompletedProcess[str]]:
    """Run `script` once per argument list, all released at the same moment."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *a, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    time.sleep(1.5)  # the interpreters and imports are up
    go.touch()
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def test_processes_migrating_one_fresh_archive_at_once_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    done = _together(_MIGRATE, [[database_url]] * 3, tmp_path / "go")
    assert [d.returncode for d in done] == [0, 0, 0], [d.stderr[-400:] for d in done]


def test_processes_migrating_a_fresh_sqlite_archive_at_once_all_succeed(tmp_path: Path) -> None:
    # Before: pysqlite ran each CREATE TABLE in a transaction of its own, so the second process
    # also saw no revision and failed with "table blobs already exists".
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'fresh{attempt}.db'}"
        done = _together(_MIGRATE, [[url]] * 3, tmp_path / f"go{attempt}")
        assert [d.returncode for d in done] == [0, 0, 0], [d.stderr[-400:] for d in done]
        engine = make_engine(url)
        assert "captures" in inspect(engine).get_table_names()
        engine.dispose()


# --- Item 1 and 11: a capture no parser can read, or whose blob is gone -----------------------


def _archive(engine: Engine, store: BlobStore, *captures: CaptureIn) -> list[int]:
    """Record captures in one finished run, unindexed, as a crawl leaves them before indexing."""
    with session_scope(engine) as session:
        run = start_run(session, "tongxiang", "nightly")
        ids = [
            record_capture(session, store, dataclasses.replace(c, run_id=run.id)).id
            for c in captures
        ]
        finish_run(session, run, "ok", pages=len(captures))
    return ids


def _page(n: int, body: bytes, at: datetime = T0) -> CaptureIn:
    url = f"{BASE}/art/2018/3/{n}/art_1229000001_{n}.html"
    return page_capture(body, at + timedelta(seconds=n), url=url, final_url=url)


def _capture(engine: Engine, capture_id: int) -> Capture:
    with session_scope(engine) as session:
        return session.get_one(Capture, capture_id)


def test_a_25_mb_page_of_br_is_recorded_and_its_crawl_indexing_goes_on(
    engine: Engine, store: BlobStore
) -> None:
    # Issue 12.1: lxml's XPathEvalError out of parse_bytes killed the pass, left the capture
    # unindexed, and so failed every later crawl of the portal. The parser may now read it
    # (another branch); either way it is indexed, and the report after it too.
    bomb = b"<html><body>" + b"<br>x" * 5_000_000 + b"</body></html>"
    bomb_id, good_id = _archive(engine, store, _page(1, bomb), _page(2, report_html()))
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = index_in_batches(engine, store, portal="tongxiang")  # what the crawl's worker runs
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"25 MB <br>x page indexed in {seconds:.1f} s, peak RSS {peak / 1024:.0f} MB "
          f"(before {before / 1024:.0f} MB)")  # fmt: skip
    assert stats.new_reports == 1
    bad = _capture(engine, bomb_id)
    assert bad.indexed_at is not None and bad.document_id is None
    print(f"recorded: {bad.index_error!r}")
    assert (bad.index_error is not None) == (stats.parse_errors == 1), bad.index_error
    assert _capture(engine, good_id).document_id is not None
    # The next crawl's pass finds nothing left over, and fails on nothing.
    assert index_in_batches(engine, store, portal="tongxiang") == IndexStats()


class ParserBug(Exception):
    """A stand-in for any bug a page may trigger in a parser: a class no parser raises."""


def _buggy_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    real = indexing.parse_bytes

    def parse(
        raw: bytes, content_type: str | None = None, url: str | None = None, encoding: Any = None
    ) -> Any:
        if b"POISON" in raw:
            raise ParserBug("a page the parser was not written for\nsecond line")
        return real(raw, content_type, url, encoding)

    monkeypatch.setattr(indexing, "parse_bytes", parse)


@pytest.mark.parametrize("batched", [True, False])
def test_any_exception_out_of_the_parser_is_recorded_on_its_capture(
    engine: Engine, store: BlobStore, monkeypatch: pytest.MonkeyPatch, batched: bool
) -> None:
    _buggy_parser(monkeypatch)
    poison, good = _archive(
        engine, store, _page(1, b"<html>POISON</html>"), _page(2, report_html())
    )
    if batched:
        stats = index_in_batches(engine, store, portal="tongxiang")
    else:
        with session_scope(engine) as session:
            stats = index_captures(session, store, portal="tongxiang")
    assert (stats.new_reports, stats.parse_errors) == (1, 1)
    bad = _capture(engine, poison)
    assert bad.indexed_at is not None
    assert bad.index_error == "ParserBug: a page the parser was not written for"
    assert _capture(engine, good).document_id is not None


def test_a_later_unreadable_fetch_of_a_report_is_a_finding_on_it(
    engine: Engine, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _buggy_parser(monkeypatch)
    _archive(engine, store, page_capture(report_html(), T0))
    index_in_batches(engine, store)
    [later] = _archive(engine, store, page_capture(b"<html>POISON</html>", T0 + timedelta(days=9)))
    assert index_in_batches(engine, store).parse_errors == 1
    with session_scope(engine) as session:
        doc = session.scalars(select(Document)).one()
        assert session.get_one(Capture, later).document_id == doc.id
        [row] = [f for f in findings(session, DeadlineRules()) if f.kind == "unreadable"]
        assert row.report_id == doc.id and f"capture {later} " in row.detail
        assert row.evidence == f"{ARTICLE}: ParserBug: a page the parser was not written for"


def _settings(tmp_path: Path, database_url: str, blob_dir: Path) -> Path:
    path = tmp_path / "settings.toml"
    urls = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}
    path.write_text(settings_for(urls, database_url, str(blob_dir)), "utf-8")
    return path


def test_reparse_all_records_a_parser_bug_and_reparses_the_rest(
    engine: Engine,
    store: BlobStore,
    database_url: str,
    blob_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 12.1: `reparse --all` crashed for the whole archive on one such capture.
    ids = _archive(engine, store, _page(1, report_html()), _page(2, report_html(proactive=5)))
    index_in_batches(engine, store)
    with session_scope(engine) as session:  # the first page's bytes turn out to poison a parser
        poison = record_capture(session, store, _page(3, b"<html>POISON</html>"))
    _buggy_parser(monkeypatch)
    config = _settings(tmp_path, database_url, blob_dir)
    done = CliRunner().invoke(cli, ["--config", str(config), "reparse", "--all"])
    assert done.exit_code == 0, done.output
    assert "0 new reports, 0 new versions, 1 parse errors, 0 missing blobs" in done.output
    assert _capture(engine, poison.id).index_error.startswith("ParserBug: ")  # type: ignore[union-attr]
    assert all(_capture(engine, i).document_id is not None for i in ids)


def test_reparse_records_a_missing_blob_and_counts_it(
    engine: Engine, store: BlobStore, database_url: str, blob_dir: Path, tmp_path: Path
) -> None:
    # Issue 12.11: a missing blob made `reparse` crash with a traceback; so did (12.1) the
    # 25 MB page of <br>x, the real one, which the parser may read by now (another branch).
    bomb = b"<html><body>" + b"<br>x" * 5_000_000 + b"</body></html>"
    gone, kept, big = _archive(
        engine, store, _page(1, report_html(proactive=7)), _page(2, report_html()), _page(3, bomb)
    )
    index_in_batches(engine, store)
    store.path(_capture(engine, gone).sha256 or "").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(_settings(tmp_path, database_url, blob_dir)),
         "reparse", "--all"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert re.search(r"[01] parse errors, 1 missing blobs", done.stdout), done.stdout
    assert _capture(engine, big).indexed_at is not None
    assert (_capture(engine, gone).index_error or "").startswith("missing blob: ")
    assert _capture(engine, kept).index_error is None


# --- Item 6 and 12: other writers during a long pass; two passes at once ----------------------

_INDEX = """
import json, sys, time
from pathlib import Path
from archive.batches import index_in_batches
from archive.blobs import BlobStore
from archive.db import make_engine
url, blobs, mode, go = sys.argv[1:5]
while not Path(go).exists():
    time.sleep(0.001)
engine = make_engine(url)
started = time.monotonic()
if mode == "crawl":  # as crawler.worker indexes after its crawl
    stats = index_in_batches(engine, BlobStore(Path(blobs)), portal="tongxiang")
else:  # as `nianbao reparse --all` does
    stats = index_in_batches(engine, BlobStore(Path(blobs)), reparse=True, leave_live_crawls=True)
print(json.dumps({**stats.__dict__, "seconds": time.monotonic() - started}))
"""


def _many_reports(engine: Engine, store: BlobStore, n: int, status: str = "ok") -> int:
    """`n` distinct report pages of one run left unindexed; the run's id."""
    pages = [_page(i, report_html(proactive=i, index_no=f"X/2018-{i}")) for i in range(n)]
    with session_scope(engine) as session:
        run = start_run(session, "tongxiang", "nightly")
        record_captures(session, store, [dataclasses.replace(p, run_id=run.id) for p in pages])
        if status != "running":
            finish_run(session, run, status, pages=n)
        return run.id


def test_other_writers_and_readers_go_on_during_a_long_indexing_pass(
    tmp_path: Path, blob_dir: Path
) -> None:
    # Issue 12.6: the pass held SQLite's write lock throughout; a lease renewal, a second
    # crawl starting and the CLI's commands waited for it and failed after 30 s.
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = BlobStore(blob_dir)
    _many_reports(engine, store, 2500)
    with session_scope(engine) as session:
        acquire(session, "taizhou", holder := Holder.me("nightly"), datetime.now(UTC))
    go = tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", _INDEX, url, str(blob_dir), "crawl", str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)
    go.touch()
    time.sleep(1.0)  # the pass is under way
    waits: dict[str, list[float]] = {"renew": [], "read": [], "crawl start": []}
    while proc.poll() is None:
        waits["renew"].append(
            _timed(lambda s: renew(s, "taizhou", holder, datetime.now(UTC)), engine)
        )
        waits["read"].append(_timed(lambda s: s.scalar(select(func.count(Document.id))), engine))
        waits["crawl start"].append(_timed(lambda s: _crawl_starts(s, engine), engine))
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["new_reports"] == 2500
    assert result["seconds"] > 3, "the pass is too short to show anything"
    worst = {what: max(times) for what, times in waits.items()}
    print(f"pass {result['seconds']:.1f} s; longest waits: {worst}")
    assert all(len(times) >= 5 for times in waits.values()), waits
    assert max(worst.values()) < 3.0, worst  # the busy timeout is 30 s
    engine.dispose()


def _crawl_starts(session: Session, engine: Engine) -> None:
    upgrade(engine)  # as crawler.worker begins: the archive is at head, so this only reads
    start_run(session, "taizhou", "manual")


def _timed(work: Callable[[Session], object], engine: Engine) -> float:
    started = time.monotonic()
    with session_scope(engine) as session:
        work(session)
    return time.monotonic() - started


def test_a_reparse_during_a_crawls_indexing_leaves_it_its_captures_and_counts(
    database_url: str, engine: Engine, blob_dir: Path, tmp_path: Path
) -> None:
    # Issue 12.12: `reparse` racing a crawl's indexing: an IntegrityError traceback, and the
    # run's count wrong (the reparse had indexed its new reports).
    store = BlobStore(blob_dir)
    _many_reports(engine, store, 60)  # an earlier crawl's, indexed: the reparse's work
    index_in_batches(engine, store)
    live = _many_reports(engine, store, 120, status="running")
    go = tmp_path / "go"
    crawl, reparse = _together(
        _INDEX, [[database_url, str(blob_dir), m] for m in ("crawl", "reparse")], go
    )
    assert crawl.returncode == reparse.returncode == 0, crawl.stderr[-800:] + reparse.stderr[-800:]
    assert json.loads(crawl.stdout)["new_reports"] == 120 - 60  # the 60 known URLs are versions
    assert json.loads(reparse.stdout)["new_reports"] == 0
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Document.id))) == 120
        dupes = select(DocumentVersion.capture_id).group_by(DocumentVersion.capture_id)
        assert (
            session.scalar(
                select(func.count()).select_from(dupes.having(func.count() > 1).subquery())
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count(Capture.id)).where(
                    Capture.run_id == live, Capture.indexed_at.is_(None)
                )
            )
            == 0
        )


def test_two_passes_at_once_create_each_document_once(
    database_url: str, engine: Engine, blob_dir: Path, tmp_path: Path
) -> None:
    # Two passes over the same unindexed captures (no crawl running): the lock and the second
    # look under it share the work between them; neither fails, nothing is made twice.
    store = BlobStore(blob_dir)
    _many_reports(engine, store, 150)
    done = _together(_INDEX, [[database_url, str(blob_dir), "crawl"]] * 2, tmp_path / "go")
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-800:] for d in done]
    assert sum(json.loads(d.stdout)["new_reports"] for d in done) == 150
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Document.id))) == 150
        assert session.scalar(select(func.count(DocumentVersion.id))) == 150


# --- Item 10: long URLs and headers on PostgreSQL; a row the database refuses ----------------


def test_a_report_with_a_long_publisher_and_index_number_is_indexed(
    engine: Engine, store: BlobStore
) -> None:
    # A 300-character 发布机构 and a 200-character 索引号 reach the parser's report as written;
    # PostgreSQL's varchar(255) and varchar(128) refused the whole report.
    _archive(engine, store, _page(1, report_html(publisher="某" * 300, index_no="X" * 200)))
    assert index_in_batches(engine, store).new_reports == 1
    with session_scope(engine) as session:
        doc = session.scalars(select(Document)).one()
        assert (len(doc.publisher_label or ""), len(doc.index_no or "")) == (300, 200)


def test_a_value_the_database_refuses_costs_only_its_capture(
    engine: Engine, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for any value a parser may one day produce that a column refuses: a figure of
    # 100 digits (figures.value is varchar(64); PostgreSQL enforces it, SQLite does not).
    real = indexing.parse_bytes

    def parse(
        raw: bytes, content_type: str | None = None, url: str | None = None, encoding: Any = None
    ) -> Any:
        parsed = real(raw, content_type, url, encoding)
        if b"HUGE" not in raw:
            return parsed
        huge = dataclasses.replace(parsed.figures[0], value=Decimal(10) ** 100)
        return dataclasses.replace(parsed, figures=(huge, *parsed.figures[1:]))

    monkeypatch.setattr(indexing, "parse_bytes", parse)
    huge = report_html(title="桐乡市经济和信息化局2017年度政府信息公开工作报告HUGE")
    ids = _archive(engine, store, _page(1, report_html()), _page(2, huge), _page(3, report_html()))
    stats = index_in_batches(engine, store)
    refused = engine.dialect.name == "postgresql"
    assert (stats.new_reports, stats.refused) == (3 - refused, int(refused))
    bad = _capture(engine, ids[1])
    assert bad.indexed_at is not None
    if refused:
        assert (bad.index_error or "").startswith("refused by the database (")
        assert "character varying(64)" in (bad.index_error or "")
    assert all(_capture(engine, i).document_id is not None for i in (ids[0], ids[2]))


LONG_URL = f"{ARTICLE}?" + "&".join(f"k{i}=v{i:04d}" for i in range(400))  # 4.4 KB
LONG_TYPE = "text/html; charset=utf-8; " + "x" * 300


def test_a_long_url_and_content_type_are_archived_and_indexed(
    engine: Engine, database_url: str, blob_dir: Path
) -> None:
    # Issue 12.10: on PostgreSQL the (portal, url) btree indexes refused a URL over ~2.7 KB,
    # and content_type was varchar(255): the writer lost the page, and the run ended `ok`.
    assert len(LONG_URL) > 4000
    writer = Writer(database_url, str(blob_dir))
    for n, at in enumerate((T0, T0 + timedelta(days=1))):
        page = page_capture(report_html(proactive=n + 1), at, url=LONG_URL, final_url=LONG_URL)
        writer.write([dataclasses.replace(page, content_type=LONG_TYPE)])
    writer.close()
    assert writer.counts["nianbao/outcome/ok"] == 2 and not writer.counts["nianbao/archive_errors"]
    stats = index_in_batches(engine, BlobStore(blob_dir))
    assert (stats.new_reports, stats.new_versions) == (1, 1)  # one document, found by its URL
    with session_scope(engine) as session:
        [doc] = session.scalars(select(Document)).all()
        assert doc.url == LONG_URL and doc.url_sha256 == url_sha256(LONG_URL)
        assert {c.content_type for c in session.scalars(select(Capture))} == {LONG_TYPE}


def test_a_capture_the_database_refuses_is_kept_bare_or_stops_the_crawl(
    engine: Engine, database_url: str, blob_dir: Path
) -> None:
    # PostgreSQL's text takes no NUL character; SQLite's does. Before, the writer logged the
    # refusal, counted an error and dropped the page.
    writer = Writer(database_url, str(blob_dir))
    writer.write([dataclasses.replace(page_capture(report_html(), T0), listed_title="年报\x00")])
    with session_scope(engine) as session:
        [capture] = session.scalars(select(Capture)).all()
        assert capture.url == ARTICLE and capture.sha256 is not None  # the page is kept
        if engine.dialect.name == "postgresql":
            assert capture.outcome == "error" and capture.listed_title is None
            assert "the archive refused this capture (DataError: " in (capture.finding or "")
            assert writer.counts["nianbao/outcome/error"] == 1
        else:
            assert capture.listed_title == "年报\x00"
    if engine.dialect.name == "postgresql":
        # Refused even bare (a NUL in the URL itself): the crawl stops with the cause.
        bad = page_capture(report_html(), T0, url=f"{ARTICLE}\x00")
        with pytest.raises(ArchiveWriteFailed, match="refused the capture of .*DataError"):
            writer.write([bad])
    writer.close()


def test_migration_0006_keys_the_urls_of_a_populated_archive(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0005")
    now = "2026-01-02 03:04:05+00"
    rows = [
        "INSERT INTO blobs (sha256, size, stored_at) VALUES ('ab', 2, :now)",
        "INSERT INTO documents (id, portal, url, first_seen_at, last_seen_at)"
        " VALUES (1, 'p', :url, :now, :now)",
        "INSERT INTO captures (id, portal, url, final_url, status, headers, fetched_at, sha256,"
        " kind, document_id, content_type) VALUES (1, 'p', :url, :url, 200, '[]', :now, 'ab',"
        " 'article', 1, 'text/html'), (2, 'p', 'http://x/b', 'http://x/b', 200, '[]', :now,"
        " 'ab', 'article', NULL, NULL)",
    ]
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"now": now, "url": "http://x/a.html?年=2018"})
    upgrade(engine)
    with session_scope(engine) as session:
        keys = {c.url: c.url_sha256 for c in session.scalars(select(Capture))}
        assert keys == {u: url_sha256(u) for u in ("http://x/a.html?年=2018", "http://x/b")}
        doc = session.get_one(Document, 1)
        assert doc.url_sha256 == url_sha256(doc.url)
        session.get_one(Capture, 2).content_type = LONG_TYPE
    with pytest.raises(IntegrityError), session_scope(engine) as session:  # still unique
        session.add(Document(portal="p", url=doc.url, first_seen_at=T0, last_seen_at=T0))
    engine.dispose()
