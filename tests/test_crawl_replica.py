"""Real crawls of the replica portals over 127.0.0.1, asserted on the archive, on both backends."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from replica_fixtures import crawl_all, post, replica_process, replica_settings
from seed_facts import SEED_METADATA
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Attachment, Blob, Capture, CrawlRun, Document, DocumentVersion, Publisher
from crawler.job import RunSummary
from nianbao.settings import Settings
from replica.truth import load_truth

TRUTH = load_truth()


@dataclass
class Crawled:
    settings: Settings
    urls: dict[str, str]
    summaries: list[RunSummary]
    engine: Engine


@pytest.fixture(scope="module")
def replica_urls() -> Iterator[dict[str, str]]:
    with replica_process() as urls:
        yield urls


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def crawled(
    request: pytest.FixtureRequest,
    replica_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Crawled]:
    """Both replica portals crawled once into a fresh archive of each backend."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'archive.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    settings = replica_settings(replica_urls, url, root / "blobs")
    summaries = crawl_all(settings)
    engine = make_engine(url)
    yield Crawled(settings, replica_urls, summaries, engine)
    engine.dispose()


def document(session: Session, crawled: Crawled, portal: str, path: str) -> Document:
    url = crawled.urls[portal] + path
    doc = session.scalars(select(Document).where(Document.url == url)).one_or_none()
    assert doc is not None, f"no document archived for {url}"
    return doc


def test_every_crawl_succeeds_and_leaves_its_run(crawled: Crawled) -> None:
    assert [s.status for s in crawled.summaries] == ["ok", "ok"], crawled.summaries
    with Session(crawled.engine) as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert sorted(r.portal for r in runs) == ["taizhou", "tongxiang"]
        assert all(r.status == "ok" and r.kind == "manual" and r.finished_at for r in runs)
        assert all(r.pages > 0 and r.new_reports > 0 for r in runs)


def test_every_report_is_found_with_its_year_and_publisher(crawled: Crawled) -> None:
    with Session(crawled.engine) as session:
        rows = session.execute(
            select(Document.portal, Document.url, Document.report_year, Publisher.name).join(
                Publisher, Document.publisher_id == Publisher.id, isouter=True
            )
        ).all()
    got = {(portal, url, year, name) for portal, url, year, name in rows}
    expected = {
        (r.portal, crawled.urls[r.portal] + r.url, r.year, r.registry_publisher)
        for r in TRUTH.reports
    }
    assert got == expected


@pytest.mark.parametrize(("seed", "fields"), [(k, SEED_METADATA[k]) for k in ("003", "004")])
def test_seed_page_metadata_is_exact(
    crawled: Crawled, seed: str, fields: dict[str, str | None]
) -> None:
    report = next(r for r in TRUTH.reports if r.seed == seed)
    with Session(crawled.engine) as session:
        doc = document(session, crawled, report.portal, report.url)
        version = session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
        ).one()
        assert {k: version.meta.get(k) for k in fields} == fields
        assert (doc.index_no, doc.publisher_label, doc.written_date, doc.published_at) == (
            fields["index_no"],
            fields["publisher"],
            fields["written_date"],
            fields["published_at"],
        )


def test_gbk_pages_are_decoded_from_their_bytes(crawled: Crawled) -> None:
    probes = [r for r in TRUTH.reports if r.gbk_probe]
    assert probes, "the replica must carry a GBK-only character"
    with Session(crawled.engine) as session:
        for report in probes:
            doc = document(session, crawled, report.portal, report.url)
            version = session.scalars(
                select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
            ).one()
            capture = session.get(Capture, version.capture_id)
            assert capture is not None and capture.encoding == "gb18030"
            assert report.gbk_probe in version.text


def test_attachment_is_archived_with_its_bytes_intact(crawled: Crawled) -> None:
    report = next(r for r in TRUTH.reports if r.attachment)
    with urllib.request.urlopen(
        crawled.urls[report.portal] + report.attachment, timeout=10
    ) as response:
        served = response.read()
    with Session(crawled.engine) as session:
        doc = document(session, crawled, report.portal, report.url)
        attachment = session.scalars(
            select(Attachment).where(Attachment.document_id == doc.id)
        ).one()
        assert attachment.sha256 == hashlib.sha256(served).hexdigest()
        capture = session.get(Capture, attachment.capture_id)
        assert capture is not None and capture.url.endswith(report.attachment)
        assert "/attach/0/" in capture.final_url
    blob = Path(crawled.settings.archive.blob_dir).rglob(attachment.sha256)
    assert next(blob).read_bytes() == served
    assert served.startswith(b"%PDF-")


@pytest.fixture
def own_replica() -> Iterator[dict[str, str]]:
    """A replica of its own, since this test revises a page on it."""
    with replica_process() as urls:
        yield urls


def test_recrawl_adds_no_blob_and_a_changed_page_adds_a_version(
    own_replica: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    settings = replica_settings(
        {"taizhou": own_replica["taizhou"]}, database_url, tmp_path / "blobs"
    )
    engine = make_engine(database_url)

    def counts() -> tuple[int, int, int]:
        with Session(engine) as session:
            return (
                session.scalar(select(func.count()).select_from(Blob)) or 0,
                session.scalar(select(func.count()).select_from(Capture)) or 0,
                session.scalar(select(func.count()).select_from(DocumentVersion)) or 0,
            )

    crawl_all(settings)
    blobs, captures, versions = counts()
    files = sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file())

    second = crawl_all(settings)
    assert second[0].status == "ok" and second[0].new_reports == 0 and second[0].new_versions == 0
    assert counts() == (blobs, captures * 2, versions)
    assert sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()) == files

    report = next(r for r in TRUTH.reports_of("taizhou") if r.year == 2020 and not r.attachment)
    post(own_replica["taizhou"] + "/__replica__/revise?path=" + report.url)
    third = crawl_all(settings)
    assert third[0].new_versions == 1
    with Session(engine) as session:
        doc = session.scalars(
            select(Document).where(Document.url == own_replica["taizhou"] + report.url)
        ).one()
        texts = session.scalars(
            select(DocumentVersion.text)
            .where(DocumentVersion.document_id == doc.id)
            .order_by(DocumentVersion.id)
        ).all()
        runs = session.scalar(select(func.count()).select_from(CrawlRun))
    assert len(texts) == 2 and "更正说明" not in texts[0] and "更正说明" in texts[1]
    assert runs == 3
    engine.dispose()
