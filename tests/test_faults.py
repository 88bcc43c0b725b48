"""Real crawls of the hostile portal (replica/hostile.py), one fault class per test: each fault is
retried, recorded as a finding or refused with a limit; the good page next to it is archived and
indexed (the crawl goes on); the worker comes back with its summary and closes its run row; and
its memory stays under MEMORY_BOUND_MB.

Each fault has a crawl of its own (`crawler.process.run_crawl`, a worker process, as the other
crawl tests), run inside a small wrapper process whose `RUSAGE_CHILDREN` peak is the largest RSS
of that crawl's worker and archive writer. The crawls start together when the module's first test
asks for one (each costs ~3 s of process start-up, several wait out download timeouts), and each
test waits for its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, ResponseDataLossError
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.config import ArchiveConfig
from archive.db import make_engine
from archive.models import Capture, CrawlRun, Document, DocumentVersion
from crawler.config import CrawlerConfig, PortalConfig
from crawler.job import CrawlJob, RunSummary
from crawler.outcomes import unanswered
from crawler.settings import MAX_REDIRECTS
from replica.hostile import (
    COLUMN,
    EVIL,
    EVIL_LINKS,
    FAULTS,
    GOOD,
    HUGE_BYTES,
    ISSUE12,
    RECOVER_AFTER,
    SECOND,
    HostileServer,
    malformed_page,
    nested_page,
    report_page,
    title_of,
)

MEMORY_BOUND_MB = 400  # peak RSS of the worker (and of its writer), with the default 50 MB limit
RETRIES = 2
TIMEOUT = 2.0  # seconds per download, short so that the hanging faults cost little
LIMIT_MB = CrawlerConfig().max_file_mb  # the shipped per-file limit: 50 MB
CRAWLER = CrawlerConfig(
    download_delay=0,
    timeout_seconds=TIMEOUT,
    retries=RETRIES,
    retry_backoff_seconds=0.05,
    autothrottle=False,
)
# Runs one crawl and reports its summary and the peak RSS of the processes it started.
WRAPPER = """
import json, resource, sys
from pathlib import Path
from crawler.job import CrawlJob
from crawler.process import run_crawl
summary = run_crawl(CrawlJob.from_json(sys.stdin.read()), log_path=Path(sys.argv[1]))
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"summary": json.loads(summary.to_json()), "peak_kb": peak_kb}))
"""


# The crawls, each of the columns of some fault classes (a portal's entry points). Each crawl
# costs ~4 s of CPU in process start-up, so the cheap faults share one; the huge page, the gzip
# bomb and the XML answers have crawls of their own, so that each one's peak RSS is its own.
# The crawl that waits out timeouts comes first.
CRAWLS = {
    "network": ("timeout", "drip", "reset", "truncated", "error500", "recover500"),
    "huge": ("huge",),
    "gzip_bomb": ("gzip_bomb",),
    "pages": ("redirect_loop", "nested_html", "charset_lie", "pdf_is_html", "evil_names"),
    "entity_expansion": ("entity_expansion",),
    "external_entity": ("external_entity",),
}
PARALLEL = 3


@dataclass
class Crawl:
    """What one fault class's crawl left: its summary, its peak RSS, its archive."""

    fault: str
    summary: RunSummary
    peak_mb: float
    session: Session
    blob_dir: Path
    base: str

    def url(self, path: str) -> str:
        return f"{self.base}/{self.fault}{path}"

    def capture(self, path: str) -> Capture:
        """The one capture of a page of the fault's column (`path` under /<fault>)."""
        return self.session.scalars(select(Capture).where(Capture.url == self.url(path))).one()

    def only(self, where: ColumnElement[bool]) -> Capture:
        return self.session.scalars(select(Capture).where(where)).one()

    def document(self, path: str) -> Document:
        return self.session.scalars(select(Document).where(Document.url == self.url(path))).one()

    def blob(self, capture: Capture) -> bytes:
        assert capture.sha256 is not None
        return BlobStore(self.blob_dir).get(capture.sha256)

    def blobs(self) -> list[bytes]:
        return [p.read_bytes() for p in self.blob_dir.rglob("*") if p.is_file()]


def _job(base: str, faults: tuple[str, ...], root: Path) -> CrawlJob:
    return CrawlJob(
        portal=PortalConfig(
            id="hostile",
            name="坏网市",
            family="hanweb",
            base_url=base,
            entry_points=tuple(f"/{fault}{COLUMN}" for fault in faults),
        ),
        crawler=CRAWLER,
        archive=ArchiveConfig(f"sqlite:///{root / 'archive.db'}", root / "blobs"),
        publishers=(),
        kind="manual",
    )


def _run(base: str, faults: tuple[str, ...], root: Path) -> dict[str, object]:
    """Crawl the faults' columns in a wrapper process; the summary and the peak RSS (KiB)."""
    log = root / "crawl.log"
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(log)],
        input=_job(base, faults, root).to_json().encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    assert done.returncode == 0, (
        f"the crawl of {faults} died: {done.stderr.decode()[-2000:]}\n{tail}"
    )
    out: dict[str, object] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return out


class Crawls:
    """The module's crawls, started side by side when the first test asks for one."""

    def __init__(self, hostile: HostileServer, roots: dict[str, Path]) -> None:
        self.hostile, self.roots = hostile, roots
        self.pool = ThreadPoolExecutor(max_workers=PARALLEL)
        self.futures: dict[str, Future[dict[str, object]]] = {
            name: self.pool.submit(_run, hostile.url, faults, roots[name])
            for name, faults in CRAWLS.items()
        }
        self.sessions: dict[str, Session] = {}

    def get(self, fault: str) -> Crawl:
        """The crawl that met `fault`, once it is done, checked for what every fault must leave."""
        name = next(name for name, faults in CRAWLS.items() if fault in faults)
        out = self.futures[name].result()
        root = self.roots[name]
        if name not in self.sessions:
            self.sessions[name] = Session(make_engine(f"sqlite:///{root / 'archive.db'}"))
        summary = RunSummary.from_json(json.dumps(out["summary"]))
        peak_mb = int(str(out["peak_kb"])) / 1024
        crawl = Crawl(
            fault, summary, peak_mb, self.sessions[name], root / "blobs", self.hostile.url
        )
        _check_survived(crawl)
        return crawl

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        for session in self.sessions.values():
            session.close()
            session.get_bind().dispose()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture(scope="module")
def crawls(hostile: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawls]:
    # Issue 12's columns are crawled together in tests/test_hostile_crawl.py.
    crawled = [f for faults in CRAWLS.values() for f in faults] + list(ISSUE12)
    assert sorted(crawled) == sorted(FAULTS)
    running = Crawls(hostile, {name: tmp_path_factory.mktemp(name) for name in CRAWLS})
    yield running
    running.close()


def _check_survived(c: Crawl) -> None:
    """What every fault must leave: the worker came back and closed its run row, stayed under
    the memory bound, and archived and indexed the good report next to the fault; the blob
    store holds only files named by their sha256."""
    print(f"\n{c.fault}: peak RSS {c.peak_mb:.0f} MB; {c.summary}")
    run = c.session.get_one(CrawlRun, c.summary.run_id)
    assert run.finished_at is not None and run.status == c.summary.status == "ok"
    assert c.peak_mb < MEMORY_BOUND_MB
    good = c.capture(GOOD)
    assert (good.outcome, good.status, good.detected_type) == ("ok", 200, "html")
    assert c.document(GOOD).title == title_of(c.fault, 1)
    names = [p.name for p in c.blob_dir.rglob("*") if p.is_file()]
    assert names and all(len(n) == 64 and int(n, 16) >= 0 for n in names)


def test_http_500_is_retried_then_recorded(crawls: Crawls) -> None:
    c = crawls.get("error500")
    assert crawls.hostile.hits("/error500/bad/500.html") == RETRIES + 1
    bad = c.capture("/bad/500.html")
    assert (bad.outcome, bad.status, bad.finding) == ("error", 500, "HTTP 500")


def test_http_500_that_recovers_is_retried_to_success(crawls: Crawls) -> None:
    assert RECOVER_AFTER <= RETRIES
    c = crawls.get("recover500")
    assert crawls.hostile.hits("/recover500/bad/recover.html") == RECOVER_AFTER + 1
    page = c.capture("/bad/recover.html")  # one capture: the retries are not archived
    assert (page.outcome, page.status, page.finding) == ("ok", 200, None)
    assert c.document("/bad/recover.html").title == title_of("recover500", 2)


def assert_retried_then_unanswered(crawls: Crawls, fault: str, path: str, finding: str) -> None:
    """The page was asked for once and retried RETRIES times, then recorded as an error with no
    bytes kept and a finding starting with `finding`."""
    assert crawls.hostile.hits(f"/{fault}{path}") == RETRIES + 1
    bad = crawls.get(fault).capture(path)
    assert (bad.outcome, bad.status, bad.sha256) == ("error", 0, None)
    assert bad.finding is not None and bad.finding.startswith(finding)


def test_connection_reset_is_retried_then_recorded(crawls: Crawls) -> None:
    assert_retried_then_unanswered(crawls, "reset", "/bad/reset.html", "no answer: ")


def test_a_server_that_never_answers_times_out(crawls: Crawls) -> None:
    assert_retried_then_unanswered(crawls, "timeout", "/bad/hang.html", "no answer: timed out: ")


def test_a_slow_drip_is_cut_by_the_download_timeout(crawls: Crawls) -> None:
    assert_retried_then_unanswered(crawls, "drip", "/bad/drip.html", "no answer: timed out: ")


def test_a_truncated_body_is_retried_then_recorded_never_kept(crawls: Crawls) -> None:
    assert_retried_then_unanswered(
        crawls, "truncated", "/bad/truncated.html", "no answer: truncated"
    )


def test_a_redirect_loop_is_refused_at_the_limit(crawls: Crawls) -> None:
    c = crawls.get("redirect_loop")
    loop = ("/redirect_loop/bad/loop-a.html", "/redirect_loop/bad/loop-b.html")
    assert sum(crawls.hostile.hits(p) for p in loop) == MAX_REDIRECTS + 1
    bad = c.capture("/bad/loop-a.html")
    assert (bad.outcome, bad.status, bad.sha256) == ("error", 0, None)
    assert bad.finding == "redirect loop: max redirections reached"


def test_a_page_of_hundreds_of_mb_is_refused_at_the_size_limit(crawls: Crawls) -> None:
    c = crawls.get("huge")
    limit = int(LIMIT_MB * 1024 * 1024)
    for path in ("/bad/huge.pdf", "/bad/huge-stream.html"):  # with and without Content-Length
        bad = c.capture(path)
        assert (bad.outcome, bad.status, bad.sha256) == ("too_large", 200, None)
        assert bad.finding == "larger than the size limit per file; not kept"
        # The crawler hung up: the server got out a fraction of the page (socket buffers).
        assert crawls.hostile.sent("/huge" + path) < HUGE_BYTES / 3
    assert crawls.hostile.sent("/huge/bad/huge-stream.html") > limit  # read up to the limit
    assert max(len(b) for b in c.blobs()) < 1024 * 1024


def test_a_gzip_bomb_is_refused_at_the_size_limit(crawls: Crawls) -> None:
    c = crawls.get("gzip_bomb")
    assert crawls.hostile.hits("/gzip_bomb/bad/bomb.html") == 1  # a refusal is not retried
    bad = c.capture("/bad/bomb.html")
    assert (bad.outcome, bad.sha256) == ("too_large", None)
    assert bad.finding is not None and bad.finding.startswith("decompresses past the size limit")


def test_deeply_nested_and_malformed_html_are_kept_as_they_came(crawls: Crawls) -> None:
    c = crawls.get("nested_html")
    pages = {"/bad/nested.html": nested_page(), "/bad/malformed.html": malformed_page()}
    for path, body in pages.items():
        page = c.capture(path)
        assert (page.outcome, page.detected_type) == ("ok", "html")
        assert c.blob(page) == body  # the exact bytes; parsing them later cannot sink the crawl


def test_entity_expansion_in_a_dataproxy_answer_stays_unexpanded(crawls: Crawls) -> None:
    c = crawls.get("entity_expansion")
    proxy = c.only(Capture.url.contains("/entity_expansion/module/"))
    assert (proxy.outcome, proxy.kind) == ("ok", "listing")
    assert b"<note>&lol9;</note>" in c.blob(proxy)  # archived as served, nothing expanded
    assert c.capture(SECOND).outcome == "ok"  # its record was read all the same
    assert c.document(SECOND).title == title_of("entity_expansion", 9)


def test_external_entities_in_a_dataproxy_answer_are_never_fetched(crawls: Crawls) -> None:
    c = crawls.get("external_entity")
    for path in ("/external_entity/xxe-entity.xml", "/external_entity/xxe-dtd.dtd"):
        assert crawls.hostile.hits(path) == 0
    assert c.capture(SECOND).outcome == "ok"
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    assert not any(passwd in blob for blob in c.blobs())


def test_a_charset_that_lies_is_decoded_from_the_bytes(crawls: Crawls) -> None:
    c = crawls.get("charset_lie")
    page = c.capture("/bad/gbk.html")
    assert page.content_type == "text/html; charset=utf-8"
    assert c.blob(page) == report_page(title_of("charset_lie", 2)).encode("gbk")
    doc = c.document("/bad/gbk.html")
    assert doc.title == title_of("charset_lie", 2)
    version = c.session.scalars(select(DocumentVersion).filter_by(document_id=doc.id)).one()
    assert version.encoding == "gb18030" and "主动公开政府信息120条" in version.text


def test_an_html_page_served_as_a_pdf_is_recorded_as_what_it_is(crawls: Crawls) -> None:
    c = crawls.get("pdf_is_html")
    page = c.capture("/bad/as-pdf.html")
    assert (page.outcome, page.kind, page.detected_type) == ("ok", "article", "html")
    assert page.finding == "served as application/pdf, but the bytes are html"
    assert c.document("/bad/as-pdf.html").title == title_of("pdf_is_html", 2)
    table = c.capture("/bad/table.pdf")
    assert (table.outcome, table.kind) == ("type_mismatch", "other")
    assert table.finding == "linked as pdf, but the bytes are html"


def test_hostile_file_names_never_become_paths(
    crawls: Crawls, tmp_path_factory: pytest.TempPathFactory
) -> None:
    c = crawls.get("evil_names")
    files = c.session.scalars(select(Capture).filter_by(outcome="ok", kind="attachment")).all()
    assert len(files) == 5 and all(f.detected_type == "pdf" and EVIL in f.url for f in files)
    # The redirect to file:///etc/passwd is refused; the file: link is never requested.
    to_file = c.capture(EVIL_LINKS[5].removeprefix("/evil_names"))
    assert (to_file.outcome, to_file.sha256) == ("error", None)
    assert to_file.finding == "HTTP 302 to file:///etc/passwd: not followed"
    assert not c.session.scalars(select(Capture).where(Capture.url.startswith("file:"))).all()
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    assert not any(passwd in blob for blob in c.blobs())
    # Blobs are named by their sha256 (_check_survived); no server's name is anywhere on disk.
    found = list(tmp_path_factory.getbasetemp().rglob(f"*{EVIL}*"))
    found += [p for root in ("/tmp", "/etc", ".") for p in Path(root).glob(f"*{EVIL}*")]
    assert not found


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (IgnoreRequest("Forbidden by robots.txt"), None),
        (IgnoreRequest("max redirections reached"), ("error", "redirect loop: ")),
        (
            IgnoreRequest("… exceeded DOWNLOAD_MAXSIZE (1 B) during decompression."),
            ("too_large", "decompresses past"),
        ),
        (DownloadTimeoutError("took longer than 2.0 seconds"), ("error", "no answer: timed out: ")),
        (ResponseDataLossError("lost"), ("error", "no answer: truncated")),
        (ConnectionResetError("reset"), ("error", "no answer: ConnectionResetError")),
    ],
)
def test_a_failed_fetch_is_named_by_its_error(
    error: BaseException, expected: tuple[str, str] | None
) -> None:
    """Unit check of crawler.outcomes.unanswered: only robots.txt's refusal goes unrecorded."""
    verdict = unanswered(error)
    if expected is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.finding is not None
        assert (verdict.outcome, verdict.finding[: len(expected[1])]) == expected
