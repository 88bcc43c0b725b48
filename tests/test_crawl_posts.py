"""Issue 13: a real crawl of two 年报 columns that list posts which are not reports beside the
reports (replica/data/posts.toml: a 通知, a news item, a third-party 评估, a 图解 and a 政策解读,
on the Hanweb portal yiwu_variants and the TRS portal trs_posts). Each post is archived as kind
`other` with the classifier's reason, none becomes a report or a copy of one, the "(文字版)…" page
is the report itself, and `missing` / `late` answer exactly the replica's truth, which has no
posts in it.
"""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import make_engine
from archive.models import Capture, CrawlRun, Document
from crawler.job import CrawlJob, RunSummary
from crawler.process import run_crawl
from nianbao.cli import main
from nianbao.settings import parse_settings
from questions.reports import list_reports
from replica import settings_for
from replica.families import load_family_truth
from replica.posts import posts_of
from replica.site import Site
from tests.test_crawl_families import replica_process

PORTALS = ("yiwu_variants", "trs_posts")
TRUTH = load_family_truth()


@dataclass
class Crawled:
    urls: dict[str, str]
    config: Path
    summaries: dict[str, RunSummary]
    engine: Engine


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """Both portals crawled once, as `nianbao crawl` does, into one archive."""
    root = tmp_path_factory.mktemp("posts")
    database_url = f"sqlite:///{root / 'archive.db'}"
    config = root / "settings.toml"
    with replica_process(*PORTALS) as urls:
        config.write_text(
            settings_for(urls, database_url=database_url, blob_dir=str(root / "blobs")), "utf-8"
        )
        settings = parse_settings(tomllib.loads(config.read_text("utf-8")), config)
        summaries = {
            p.id: run_crawl(
                CrawlJob(p, settings.crawler, settings.archive, settings.publishers, "manual")
            )
            for p in settings.portals
        }
    engine = make_engine(database_url)
    yield Crawled(urls, config, summaries, engine)
    engine.dispose()


def nianbao_json(crawled: Crawled, *args: str) -> list[dict[str, object]]:
    """`nianbao --config … ARGS --format json` through the CLI's entry point."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--config", str(crawled.config), *args, "--format", "json"])
        except SystemExit as exc:
            assert not exc.code, err.getvalue()
    rows: list[dict[str, object]] = json.loads(out.getvalue())
    return rows


def test_both_columns_list_posts_beside_reports(crawled: Crawled) -> None:
    for portal in PORTALS:
        summary = crawled.summaries[portal]
        assert (summary.status, summary.errors) == ("ok", 0), portal
        posts, reports = posts_of(portal), TRUTH.reports_of(portal)
        assert len(posts) >= 4 and reports
        assert summary.new_reports == len(reports)  # documents: a copy at a second URL too
        with Session(crawled.engine) as session:
            run = session.get(CrawlRun, summary.run_id)
            assert run is not None and run.listing_records == len(posts) + len(reports)
    kinds = {p.reason for p in posts_of("yiwu_variants") + posts_of("trs_posts")}
    assert kinds == {"通知", "news item", "评估", "图解", "解读"}


def test_every_post_is_archived_as_other_with_its_reason(crawled: Crawled) -> None:
    with Session(crawled.engine) as session:
        for portal in PORTALS:
            for post in posts_of(portal):
                url = crawled.urls[portal] + _post_path(portal, post.title)
                capture = session.scalars(select(Capture).where(Capture.url == url)).one()
                assert (capture.outcome, capture.kind, capture.index_error) == (
                    "ok",
                    "article",
                    None,
                ), url
                assert capture.not_report is not None, post.title
                assert capture.not_report.startswith("other: "), capture.not_report
                assert post.reason in capture.not_report, (post.title, capture.not_report)
                assert capture.document_id is None
                assert session.scalars(select(Document).where(Document.url == url)).all() == []


def test_nianbao_parse_of_an_archived_post_says_why_it_is_no_report(crawled: Crawled) -> None:
    """A post's archived bytes, read back by `nianbao parse --json`, give the kind and the reason
    the archive recorded: the judgement re-runs from the archive."""
    store = BlobStore(crawled.config.parent / "blobs")
    with Session(crawled.engine) as session:
        for portal in PORTALS:
            post = posts_of(portal)[0]
            url = crawled.urls[portal] + _post_path(portal, post.title)
            capture = session.scalars(select(Capture).where(Capture.url == url)).one()
            assert capture.sha256 is not None
            out = io.StringIO()
            with redirect_stdout(out):
                main(["parse", str(store.path(capture.sha256)), "--json"])
            parsed = json.loads(out.getvalue())
            assert (parsed["kind"], f"other: {parsed['reason']}") == ("other", capture.not_report)


def test_nianbao_show_of_a_post_url_says_why_it_is_no_report(crawled: Crawled) -> None:
    """`nianbao show URL`: every capture of the URL and what nianbao made of it."""
    for portal in PORTALS:
        for post in posts_of(portal):
            url = crawled.urls[portal] + _post_path(portal, post.title)
            rows = json.loads(_show_text(crawled, url, "--json"))
            assert [(r["url"], r["report_id"], r["outcome"]) for r in rows] == [(url, None, "ok")]
            assert f"not a report: {rows[0]['not_report']}" in _show_text(crawled, url)
            assert post.reason in str(rows[0]["not_report"])
    url = crawled.urls["trs_posts"] + next(iter(Site("trs_posts").docs))
    rows = json.loads(_show_text(crawled, url, "--json"))
    assert rows and rows[0]["report_id"] is not None and rows[0]["not_report"] is None


def _show_text(crawled: Crawled, url: str, *args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            main(["--config", str(crawled.config), "show", url, *args])
        except SystemExit as exc:
            assert not exc.code
    return out.getvalue()


def test_no_report_row_or_copy_is_made_of_a_post(crawled: Crawled) -> None:
    with Session(crawled.engine) as session:
        rows = [r for p in PORTALS for r in list_reports(session, portal=p)]
        urls = {u for r in rows for u in (r.url, *r.copies)}
        docs = set(session.scalars(select(Document.url)))
    truth = {crawled.urls[r.portal] + r.url for p in PORTALS for r in TRUTH.reports_of(p)}
    assert urls == truth and docs == truth
    assert len(rows) == sum(len([r for r in TRUTH.reports_of(p) if not r.copy_of]) for p in PORTALS)


def test_the_text_version_is_the_report(crawled: Crawled) -> None:
    [text] = [r for r in TRUTH.reports_of("trs_posts") if r.title.startswith("(文字版)")]
    with Session(crawled.engine) as session:
        [row] = [
            r
            for r in list_reports(session, portal="trs_posts", year=text.year)
            if r.url == crawled.urls["trs_posts"] + text.url
        ]
    assert (row.publisher, row.kind, row.year) == (text.publisher, "report", text.year)


@pytest.mark.parametrize("year", [2022, 2023])
def test_missing_and_late_answer_the_truth(crawled: Crawled, year: int) -> None:
    # Judged today (the default --as-of): every deadline of these years has passed.
    absent = nianbao_json(crawled, "missing", "--year", str(year))
    got = {(r["portal"], r["publisher"]) for r in absent if r["status"] == "missing"}
    assert all(r["status"] == "missing" for r in absent)
    want = {k for k in TRUTH.expected_missing(year) if k[0] in PORTALS}
    assert got == want
    late = nianbao_json(crawled, "late", "--year", str(year))
    want_late = {k: d for k, d in TRUTH.expected_late(year).items() if k[0] in PORTALS}
    assert {(r["portal"], r["publisher"]): r["days_late"] for r in late} == want_late


def test_the_truth_states_the_cases_the_posts_would_hide() -> None:
    """A 解读 of a missing report, and a 图解 posted on time before a late text version: taken
    for reports, they would hide a missing and a late report."""
    assert ("trs_posts", "样本县财政局") in TRUTH.expected_missing(2023)
    assert TRUTH.expected_late(2023)[("trs_posts", "样本县人民政府")] == 3
    titles = {p.title for p in posts_of("trs_posts")}
    assert "样本县财政局2023年政府信息公开工作年度报告政策解读" in titles
    assert "图解：样本县人民政府2023年政府信息公开工作年度报告" in titles


@cache
def _post_paths(portal: str) -> dict[str, str]:
    """Each post's path on the replica, by title (titles are unique within a portal)."""
    return {post.title: url for url, (_, post) in Site(portal).posts.items()}


def _post_path(portal: str, title: str) -> str:
    return _post_paths(portal)[title]
