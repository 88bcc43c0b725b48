"""Crash safety: SIGKILL the crawler at random points, again and again, restarting each time.

The archive must end exactly as an uninterrupted crawl leaves it (the same documents with the
same versions) and pass `archive verify`: no capture without its blob, no half-written version.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from replica_fixtures import replica_process, replica_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import make_engine
from archive.models import Document, DocumentVersion
from archive.verify import verify_archive
from crawler.job import CrawlJob
from crawler.process import run_crawl
from nianbao.settings import Settings

KILLS = 20
PORTAL = "taizhou"  # the smaller replica portal: each restart gets through a good part of it


@pytest.fixture(scope="module")
def replica_urls() -> Iterator[dict[str, str]]:
    with replica_process() as urls:
        yield urls


def job_for(settings: Settings) -> CrawlJob:
    return CrawlJob(
        portal=settings.portal(PORTAL),
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
        kind="nightly",
    )


def snapshot(database_url: str) -> set[tuple[str, tuple[str, ...]]]:
    """Each document's URL with the digests of its versions: what "the same archive" means."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        versions: dict[int, list[str]] = {}
        for doc_id, digest in session.execute(
            select(DocumentVersion.document_id, DocumentVersion.content_sha256)
        ):
            versions.setdefault(doc_id, []).append(digest)
        docs = session.execute(select(Document.id, Document.url)).all()
    engine.dispose()
    return {(url, tuple(sorted(versions.get(doc_id, [])))) for doc_id, url in docs}


def kill_at_random(job: CrawlJob, rng: random.Random) -> None:
    """Start a crawl worker and SIGKILL it after a random moment (startup, crawl or indexing)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(job.to_json().encode("utf-8"))
    proc.stdin.close()
    time.sleep(rng.uniform(0.3, 3.5))
    proc.kill()
    proc.wait(timeout=30)


def test_twenty_kills_end_in_the_same_archive_as_one_clean_crawl(
    replica_urls: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    reference = replica_settings(
        replica_urls, f"sqlite:///{tmp_path / 'ref.db'}", tmp_path / "ref-blobs"
    )
    assert run_crawl(job_for(reference)).status == "ok"
    expected = snapshot(reference.archive.database_url)
    assert len(expected) > 40

    settings = replica_settings(replica_urls, database_url, tmp_path / "blobs")
    rng = random.Random(20261123)
    for _ in range(KILLS):
        kill_at_random(job_for(settings), rng)
    final = run_crawl(job_for(settings))
    assert final.status == "ok", final

    assert snapshot(database_url) == expected
    engine = make_engine(database_url)
    with Session(engine) as session:
        report = verify_archive(session, BlobStore(settings.archive.blob_dir))
    engine.dispose()
    assert report.ok, [str(p) for p in report.problems]
