"""Nightly crawls over 127.0.0.1, on both backends: paging stops at known records, unchanged pages
cost a 304 and no body, a revised page becomes a second version, a deleted one is recorded as gone,
a full crawl pages through everything, and a listing that suddenly yields nothing fails the run
with the layout finding. Plus the digest comparison where a server sends no validators."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Blob, Capture, CrawlRun, Document, DocumentVersion
from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from nianbao.settings import Settings, parse_settings
from replica import settings_for
from replica.families import load_family_truth

TRUTH = load_family_truth()
OVERLAP = 5
API = "/api-gateway/jpaas-publish-server/front/page/build/unit"


@contextmanager
def replica_process(portal: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", "--portal", portal],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())[portal]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def hook(base: str, name: str, path: str | None = None) -> dict[str, dict[str, int]]:
    query = f"?path={urllib.parse.quote(path)}" if path else ""
    data = None if name == "stats" else b""
    with urllib.request.urlopen(f"{base}/__replica__/{name}{query}", data=data) as response:
        answer: dict[str, dict[str, int]] = json.loads(response.read())
        return answer


class Served:
    """The requests a replica portal answered since the last call: {path and query: count}."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.before = self.now()

    def now(self) -> dict[str, int]:
        return {path: sum(methods.values()) for path, methods in hook(self.base, "stats").items()}

    def __call__(self) -> dict[str, int]:
        now = self.now()
        since = {p: n - self.before.get(p, 0) for p, n in now.items() if n > self.before.get(p, 0)}
        self.before = now
        return since


def settings(base: str, portal: str, database_url: str, blobs: Path) -> Settings:
    text = settings_for({portal: base}, database_url=database_url, blob_dir=str(blobs))
    return parse_settings(tomllib.loads(text), Path("settings.toml"))


def crawler(s: Settings, kind: str = "nightly", full: bool = False, overlap: int = OVERLAP):
    portal = dataclasses.replace(s.portals[0], overlap=overlap)

    def crawl() -> RunSummary:
        return run_crawl(CrawlJob(portal, s.crawler, s.archive, s.publishers, kind, full))

    return crawl


def newest(portal: str, count: int) -> list[str]:
    """The paths of the `count` newest listed reports of a portal."""
    articles = sorted(
        (r for r in TRUTH.reports_of(portal) if r.is_article),
        key=lambda r: (r.published_at, r.url),
        reverse=True,
    )
    return [r.url for r in articles[:count]]


def test_nightly_crawls_are_incremental(database_url: str, tmp_path: Path) -> None:
    with replica_process("lanxi") as base:
        s = settings(base, "lanxi", database_url, tmp_path / "blobs")
        nightly = crawler(s)
        engine = make_engine(database_url)
        served = Served(base)

        def count(model: Any, *where: Any) -> int:
            with Session(engine) as session:
                return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

        first = nightly()  # an empty archive: everything is new, every page is fetched
        reports = len(TRUTH.reports_of("lanxi"))
        assert (first.status, first.new_reports) == ("ok", reports)
        first_requests = served()
        assert sum(p.endswith(("pageNo=1", "pageNo=2")) for p in first_requests) == 2
        blobs = count(Blob)

        # Unchanged: page 1 of the API shows 12 known records (>= overlap 5): paging stops there;
        # each known article is asked for with its validators and answers 304, without a body.
        second = nightly()
        requests = served()
        page_one = newest("lanxi", 12)
        assert [p for p in requests if p.startswith(API)] == [
            p for p in requests if "pageNo=1" in p
        ]
        assert all(requests[path] == 1 for path in page_one)
        older = [r.url for r in TRUTH.reports_of("lanxi") if r.url not in page_one]
        assert older and not any(path in requests for path in older)
        assert (second.status, second.new_reports, second.new_versions) == ("ok", 0, 0)
        assert second.not_modified >= 12
        with Session(engine) as session:
            articles = session.scalars(
                select(Capture).where(Capture.run_id == second.run_id, Capture.kind == "article")
            ).all()
        assert len(articles) == 12
        assert {(c.status, c.outcome, c.sha256) for c in articles} == {(304, "not_modified", None)}
        assert count(Blob) == blobs

        # A revised report becomes a second version; both can be read back.
        hook(base, "revise", page_one[0])
        third = nightly()
        assert (third.status, third.new_versions) == ("ok", 1)
        with Session(engine) as session:
            doc = session.scalars(select(Document).where(Document.url == base + page_one[0])).one()
            texts = session.scalars(
                select(DocumentVersion.text)
                .where(DocumentVersion.document_id == doc.id)
                .order_by(DocumentVersion.id)
            ).all()
        assert len(texts) == 2 and "更正说明" not in texts[0] and "更正说明" in texts[1]

        # A report deleted after it was archived: 404 where it used to be, recorded as gone.
        hook(base, "delete", page_one[1])
        fourth = nightly()
        assert (fourth.status, fourth.gone) == ("ok", 1)
        with Session(engine) as session:
            gone = session.scalars(
                select(Capture).where(
                    Capture.run_id == fourth.run_id, Capture.url == base + page_one[1]
                )
            ).one()
        assert (gone.status, gone.outcome) == (404, "gone")
        assert count(Document, Document.url == base + page_one[1]) == 1  # the archived copy stays

        # A manual crawl with --full pages through everything again.
        served()
        full = crawler(s, kind="manual", full=True)()
        assert full.status == "ok" and any(p.endswith("pageNo=2") for p in served())

        # The listing suddenly yields nothing: the run fails with the layout finding.
        hook(base, "break")
        broken = nightly()
        assert broken.status == "failed" and broken.finding is not None
        assert "layout may have changed" in broken.finding
        assert f"(#{fourth.run_id}) found 12" in broken.finding
        with Session(engine) as session:
            run = session.get_one(CrawlRun, broken.run_id)
            assert (run.status, run.kind, run.listing_records, run.finding) == (
                "failed",
                "nightly",
                0,
                broken.finding,
            )
        engine.dispose()


def test_without_validators_the_digest_decides(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    with replica_process("kaihua") as base:
        s = settings(base, "kaihua", database_url, tmp_path / "blobs")
        s = dataclasses.replace(s, crawler=dataclasses.replace(s.crawler, timeout_seconds=1.0))
        first, second = crawler(s)(), crawler(s, overlap=100)()
    engine = make_engine(database_url)
    with Session(engine) as session:

        def articles(run: RunSummary) -> dict[str, str | None]:
            rows = session.execute(
                select(Capture.url, Capture.sha256).where(
                    Capture.run_id == run.run_id, Capture.kind == "article", Capture.outcome == "ok"
                )
            )
            return {url: sha for url, sha in rows}

        again = articles(second)
        assert again and again == {url: sha for url, sha in articles(first).items() if url in again}
        headers = session.scalars(
            select(Capture.headers).where(
                Capture.run_id == second.run_id, Capture.kind == "article"
            )
        ).all()
    engine.dispose()
    assert not any(name.lower() in ("etag", "last-modified") for h in headers for name, _ in h)
    assert (second.status, second.new_reports, second.new_versions) == ("ok", 0, 0)
