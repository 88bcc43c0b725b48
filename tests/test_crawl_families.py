"""Real crawls of the TRS, jpaas and generic replica portals over 127.0.0.1, with the real web's
faults: every family to its last record (TRS through a pager written with variables, and through a
pager no page tells, probed to the first 404), attachments typed from their bytes (a fake PDF caught,
an oversized file refused), GBK behind an absent or lying header, a 503, a 429 and a timeout
retried to success, challenge pages recorded as blocked, deleted pages as gone, robots.txt obeyed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import make_engine
from archive.models import Attachment, Blob, Capture, CrawlRun, Document, DocumentVersion, Publisher
from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from nianbao.settings import Settings, parse_settings
from replica import settings_for
from replica.families import load_family_truth
from replica.site import PRIVATE_DRAFT

TRUTH = load_family_truth()
PORTALS = ("handan", "trs_county", "lanxi", "kaihua")


@contextmanager
def replica_process(*portals: str) -> Iterator[dict[str, str]]:
    """`python -m replica serve --portal …` in a subprocess; yields its portal URLs."""
    args = [arg for p in portals for arg in ("--portal", p)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def served(base: str) -> dict[str, dict[str, int]]:
    """The requests a replica portal has answered: {path and query: {method: count}}."""
    with urllib.request.urlopen(base + "/__replica__/stats", timeout=10) as response:
        stats: dict[str, dict[str, int]] = json.loads(response.read())
        return stats


@dataclass
class Crawled:
    urls: dict[str, str]
    settings: Settings
    summaries: dict[str, RunSummary]
    requests: dict[str, dict[str, dict[str, int]]]
    engine: Engine

    def report(self, portal: str, **match: object) -> tuple[str, str]:
        """(absolute URL, path) of the one report of `portal` with these attributes."""
        found = [
            r
            for r in TRUTH.reports_of(portal)
            if all(getattr(r, k) == v or (k == "files" and v in r.files) for k, v in match.items())
        ]
        assert len(found) == 1, (portal, match, found)
        return self.urls[portal] + found[0].url, found[0].url

    def capture(self, session: Session, url: str) -> Capture:
        return session.scalars(select(Capture).where(Capture.url == url)).one()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The replica portals crawled once each, as `nianbao crawl` does, timeout 1 s."""
    root = tmp_path_factory.mktemp("families")
    database_url = f"sqlite:///{root / 'archive.db'}"
    with replica_process(*PORTALS) as urls:
        text = settings_for(urls, database_url=database_url, blob_dir=str(root / "blobs"))
        settings = parse_settings(tomllib.loads(text), root / "settings.toml")
        # The `slow` page answers after 1.5 s the first time: a timeout, then a retry.
        crawler = dataclasses.replace(settings.crawler, timeout_seconds=1.0)
        summaries = {
            p.id: run_crawl(CrawlJob(p, crawler, settings.archive, settings.publishers, "manual"))
            for p in settings.portals
        }
        requests = {pid: served(base) for pid, base in urls.items()}
    engine = make_engine(database_url)
    yield Crawled(urls, settings, summaries, requests, engine)
    engine.dispose()


def test_every_family_is_crawled_to_its_last_record(crawled: Crawled) -> None:
    with Session(crawled.engine) as session:
        rows = session.execute(
            select(Document.portal, Document.url, Document.report_year, Publisher.name).join(
                Publisher, Document.publisher_id == Publisher.id, isouter=True
            )
        ).all()
    expected = {
        (r.portal, crawled.urls[r.portal] + r.url, r.year, r.publisher)
        for r in TRUTH.reports
        if r.portal in PORTALS and r.reachable
    }
    assert set(rows) == expected
    assert {p for p, *_ in rows} == set(PORTALS)


def test_each_run_is_recorded_with_its_counts(crawled: Crawled) -> None:
    summaries = crawled.summaries
    assert {pid: s.status for pid, s in summaries.items()} == dict.fromkeys(PORTALS, "ok")
    assert (summaries["kaihua"].blocked, summaries["kaihua"].gone) == (2, 1)
    assert (summaries["handan"].blocked, summaries["handan"].gone) == (0, 1)
    assert (summaries["trs_county"].blocked, summaries["trs_county"].gone) == (
        0,
        1,
    )  # the probe's 404
    assert all(s.errors == 0 for s in summaries.values()), summaries
    with Session(crawled.engine) as session:
        runs = {r.portal: r for r in session.scalars(select(CrawlRun))}
    assert set(runs) == set(PORTALS)
    for pid, run in runs.items():
        summary = summaries[pid]
        assert (run.kind, run.status, run.finished_at is not None) == ("manual", "ok", True)
        assert (run.pages, run.new_reports, run.blocked, run.gone, run.errors) == (
            summary.pages,
            summary.new_reports,
            summary.blocked,
            summary.gone,
            0,
        )
        assert run.listing_records == len(TRUTH.reports_of(pid)) + (pid == "kaihua")


def list_pages(crawled: Crawled, portal: str) -> list[str]:
    """The TRS list pages a portal was asked for, in page order (each exactly once)."""
    requests = crawled.requests[portal]
    column = TRUTH.portal(portal).list_path
    lists = [path for path in requests if path.startswith(column + "index")]
    assert all(requests[path] == {"GET": 1} for path in lists), requests
    return sorted(lists, key=lambda path: (len(path), path))


def test_trs_reads_the_pager_variables_and_keeps_the_full_text_pdfs(crawled: Crawled) -> None:
    portal = TRUTH.portal("handan")
    pages = math.ceil(len(TRUTH.reports_of("handan")) / portal.per_page)
    assert pages == 3
    # Pages 2..N come from `var countPage=N` in the pager script; the page links none of them.
    assert list_pages(crawled, "handan") == [
        f"{portal.list_path}{name}" for name in ("index.html", "index_1.html", "index_2.html")
    ]
    with_pdf = [r for r in TRUTH.reports_of("handan") if "pdf" in r.files]
    with Session(crawled.engine) as session:
        for report in with_pdf:
            doc = session.scalars(
                select(Document).where(Document.url == crawled.urls["handan"] + report.url)
            ).one()
            attachment = session.scalars(
                select(Attachment).where(Attachment.document_id == doc.id)
            ).one()
            capture = session.get_one(Capture, attachment.capture_id)
            assert (capture.detected_type, capture.outcome) == ("pdf", "ok")
            assert capture.url.rsplit("/", 1)[1].startswith("P0")


def test_an_unreadable_trs_pager_is_probed_to_the_first_404(crawled: Crawled) -> None:
    portal = TRUTH.portal("trs_county")
    pages = math.ceil(len(TRUTH.reports_of("trs_county")) / portal.per_page)
    assert pages == 3
    names = ["index.html", *(f"index_{n}.html" for n in range(1, pages + 1))]
    assert list_pages(crawled, "trs_county") == [portal.list_path + name for name in names]
    with Session(crawled.engine) as session:
        end = crawled.capture(session, crawled.urls["trs_county"] + portal.list_path + names[-1])
        pages_ok = session.scalars(
            select(Capture).where(Capture.portal == "trs_county", Capture.kind == "listing")
        ).all()
    assert (end.kind, end.status, end.outcome) == ("listing", 404, "gone")
    assert end.finding == (
        "no pager could be read: index_N.html probed until the first 404 (at most 50): 3 pages"
    )
    assert sorted(c.outcome for c in pages_ok) == ["gone", "ok", "ok", "ok"]


def test_jpaas_api_is_paged_through(crawled: Crawled) -> None:
    api = [p for p in crawled.requests["lanxi"] if "/api-gateway/jpaas-publish-server/" in p]
    assert sorted(p.rsplit("pageNo=", 1)[1] for p in api) == ["1", "2"]
    assert all("webId=6f1c2b9a4e7d4c0fa3b85e21d9c7a604" in p for p in api)


def test_attachments_are_typed_from_their_bytes(crawled: Crawled) -> None:
    with Session(crawled.engine) as session:
        for kinds in (("docx", "xlsx"), ("doc", "xls")):
            url, _ = crawled.report("kaihua", files=kinds[0])
            doc = session.scalars(select(Document).where(Document.url == url)).one()
            attachments = session.scalars(
                select(Attachment).where(Attachment.document_id == doc.id)
            ).all()
            detected = sorted(
                session.get_one(Capture, a.capture_id).detected_type or "" for a in attachments
            )
            assert detected == sorted(kinds)


def test_an_error_page_served_as_a_pdf_is_caught(crawled: Crawled) -> None:
    url, _ = crawled.report("kaihua", files="fakepdf")
    with Session(crawled.engine) as session:
        doc = session.scalars(select(Document).where(Document.url == url)).one()
        assert (
            session.scalars(select(Attachment).where(Attachment.document_id == doc.id)).all() == []
        )
        fake = session.scalars(select(Capture).where(Capture.parent_url == url)).one()
        assert (fake.kind, fake.outcome, fake.detected_type) == ("other", "type_mismatch", "html")
        assert fake.url.endswith(".pdf") and fake.content_type == "application/pdf"
        assert fake.finding == "linked as pdf, but the bytes are html"
        assert fake.sha256 is not None  # the error page itself is kept, as evidence


def test_a_file_over_the_size_limit_is_recorded_not_kept(crawled: Crawled) -> None:
    url, _ = crawled.report("kaihua", files="bigpdf")
    with Session(crawled.engine) as session:
        big = session.scalars(select(Capture).where(Capture.parent_url == url)).one()
        assert (big.outcome, big.status, big.sha256) == ("too_large", 200, None)
        sizes = session.scalars(select(Blob.size)).all()
    assert max(sizes) < 1024 * 1024


def test_gbk_behind_an_absent_or_lying_header_is_decoded(crawled: Crawled) -> None:
    gbk = [r for r in TRUTH.reports_of("handan") if r.encoding == "gbk" and r.reachable]
    assert {r.charset_header for r in gbk} == {"", "utf-8"}
    with Session(crawled.engine) as session:
        for report in gbk:
            capture = crawled.capture(session, crawled.urls["handan"] + report.url)
            header = dict((k.lower(), v) for k, v in capture.headers)["content-type"]
            assert header == (
                "text/html" if report.charset_header == "" else "text/html; charset=utf-8"
            )
            assert capture.encoding == "gb18030"
            version = session.scalars(
                select(DocumentVersion).where(DocumentVersion.capture_id == capture.id)
            ).one()
            assert version.title == report.title and report.publisher in version.text
            if report.gbk_probe:
                assert report.gbk_probe in version.text


def test_a_503_a_429_and_a_timeout_are_retried_to_success(crawled: Crawled) -> None:
    requests = crawled.requests["kaihua"]
    flaky, flaky_path = crawled.report("kaihua", fault="flaky")
    slow, slow_path = crawled.report("kaihua", fault="slow")
    assert requests[flaky_path] == {"GET": 2} and requests[slow_path] == {"GET": 2}
    assert requests["/xxgk/ndbg/list_2.shtml"] == {"GET": 2}  # a 429 first
    with Session(crawled.engine) as session:
        for url in (flaky, slow):
            assert (
                crawled.capture(session, url).status,
                crawled.capture(session, url).outcome,
            ) == (200, "ok")


def test_challenge_pages_are_blocked_and_deleted_pages_gone(crawled: Crawled) -> None:
    cases = [
        ("kaihua", "challenge", "blocked", 412),
        ("kaihua", "wzws", "blocked", 200),
        ("kaihua", "deleted", "gone", 404),
        ("handan", "deleted", "gone", 200),  # TRS: a meta refresh to the folder
    ]
    with Session(crawled.engine) as session:
        for portal, fault, outcome, status in cases:
            url, _ = crawled.report(portal, fault=fault)
            capture = crawled.capture(session, url)
            assert (capture.outcome, capture.status) == (outcome, status), (portal, fault)
            assert capture.listed_title  # the listing's title names what is missing
            assert session.scalars(select(Document).where(Document.url == url)).all() == []


def test_robots_txt_is_obeyed(crawled: Crawled) -> None:
    kaihua = crawled.requests["kaihua"]
    assert "/robots.txt" in kaihua
    assert not any(path.startswith("/private/") for path in kaihua)
    with Session(crawled.engine) as session:
        first = crawled.capture(session, crawled.urls["kaihua"] + "/xxgk/ndbg/list.shtml")
        assert first.sha256 is not None
    listing = BlobStore(crawled.settings.archive.blob_dir).get(first.sha256)
    assert PRIVATE_DRAFT.encode() in listing  # it was linked, and left alone


def test_without_retries_a_page_that_never_answers_is_recorded(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    with replica_process("kaihua") as urls:
        text = settings_for(urls, database_url=database_url, blob_dir=str(tmp_path / "blobs"))
        settings = parse_settings(tomllib.loads(text), tmp_path / "settings.toml")
        crawler = dataclasses.replace(settings.crawler, timeout_seconds=1.0, retries=0)
        portal = settings.portals[0]
        # Spend the one 429 of the second list page: without retries it would end the listing.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(urls["kaihua"] + "/xxgk/ndbg/list_2.shtml")
        summary = run_crawl(CrawlJob(portal, crawler, settings.archive, settings.publishers))
    slow = next(r for r in TRUTH.reports_of("kaihua") if r.fault == "slow")
    flaky = next(r for r in TRUTH.reports_of("kaihua") if r.fault == "flaky")
    engine = make_engine(database_url)
    with Session(engine) as session:
        timed_out = session.scalars(
            select(Capture).where(Capture.url == urls["kaihua"] + slow.url)
        ).one()
        busy = session.scalars(
            select(Capture).where(Capture.url == urls["kaihua"] + flaky.url)
        ).one()
    engine.dispose()
    assert (timed_out.status, timed_out.outcome, timed_out.sha256) == (0, "error", None)
    assert timed_out.finding and timed_out.finding.startswith("no answer")
    assert timed_out.listed_title == slow.title
    assert (busy.status, busy.outcome) == (503, "error")
    assert summary.status == "ok" and summary.errors == 2
