"""What a fetch turned out to be (crawler.outcomes), how a run is judged (crawler.worker.judge),
the crawler's Scrapy settings and its retries, and the settings rows: no network."""

from __future__ import annotations

import codecs
import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.http import Headers, Response
from scrapy.utils.test import get_crawler

from crawler.job import CrawlJob
from crawler.middlewares import NOT_BEFORE, BackoffRetryMiddleware, retry_after
from crawler.outcomes import claimed_type, classify, detect_type
from crawler.settings import scrapy_settings
from crawler.worker import judge
from nianbao.errors import SettingsError
from nianbao.settings import parse_settings
from replica import settings_for
from replica.families import load_family_truth
from replica.faults import challenge_page, error_page, file_body, wzws_page

REPORT = load_family_truth().reports_of("kaihua")[0]
ARTICLE = "http://gov.example/xxgk/ndbg/content/2024-01/15/content_1.shtml"


@pytest.mark.parametrize("kind", ["pdf", "docx", "xlsx", "doc", "xls"])
def test_office_files_are_typed_from_their_bytes(kind: str) -> None:
    assert detect_type(file_body(kind, REPORT)) == kind


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (codecs.BOM_UTF8 + b"<!DOCTYPE html><html><body>x</body></html>", "html"),
        (b"  \n<html><head><title>t</title></head></html>", "html"),
        (b'<?xml version="1.0"?><datastore><record/></datastore>', "xml"),
        (b'{"success": true, "data": {"html": "<li>"}}', "json"),
        (b"\x89PNG\r\n\x1a\n....", "image"),
        (b"PK\x03\x04 not really a zip", "zip"),
        ("政府信息公开工作年度报告".encode("gbk"), "text"),
    ],
)
def test_other_bytes_are_typed(body: bytes, kind: str) -> None:
    assert detect_type(body) == kind


def test_the_claimed_type_comes_from_the_url_or_the_header() -> None:
    assert claimed_type("http://h/a/b.PDF", None) == "pdf"
    assert (
        claimed_type("http://h/module/download/downfile.jsp?classid=0&filename=ab.xlsx", None)
        == "xlsx"
    )
    assert claimed_type("http://h/file?id=3", "application/msword") == "doc"
    assert claimed_type("http://h/page.html", "text/html") is None


def verdict(**kwargs: Any) -> tuple[str, str | None]:
    args: dict[str, Any] = {
        "kind": "article",
        "url": ARTICLE,
        "final_url": ARTICLE,
        "status": 200,
        "body": b"<html><body><div id='zoom'>report</div></body></html>",
        "content_type": "text/html; charset=utf-8",
        "validators_sent": False,
    }
    args.update(kwargs)
    found = classify(**args)
    return found.outcome, found.finding


def test_a_304_is_accepted_only_after_a_validator() -> None:
    assert verdict(status=304, body=b"", validators_sent=True) == ("not_modified", None)
    outcome, finding = verdict(status=304, body=b"", validators_sent=False)
    assert outcome == "error" and finding and "no validator" in finding


def test_challenge_pages_are_blocked() -> None:
    assert verdict(status=412, body=challenge_page())[0] == "blocked"
    assert verdict(status=200, body=wzws_page())[0] == "blocked"
    assert (
        verdict(status=202, body=b"<html><script>document.cookie='a=1'</script></html>")[0]
        == "blocked"
    )
    assert verdict(status=403, body=b"<html>Forbidden</html>")[0] == "error"  # no script: refused
    assert verdict(kind="listing", status=412, body=challenge_page())[0] == "blocked"


def test_deleted_pages_are_gone() -> None:
    assert verdict(status=404, body=error_page())[0] == "gone"
    assert verdict(status=410, body=b"")[0] == "gone"
    assert verdict(kind="listing", status=404, body=error_page())[0] == "error"
    refresh = b'<html><head><meta http-equiv="refresh" content="0;URL=../"></head></html>'
    assert verdict(body=refresh) == (
        "gone",
        "deleted: meta refresh to http://gov.example/xxgk/ndbg/content/2024-01/",
    )
    elsewhere = b'<html><head><meta http-equiv="refresh" content="5;url=http://other.example/"></head></html>'
    assert verdict(body=elsewhere)[0] == "ok"
    assert (
        verdict(final_url="http://gov.example/xxgk/ndbg/")[0] == "gone"
    )  # redirected to its folder
    assert verdict(final_url="http://gov.example/attach/0/a.pdf")[0] == "ok"


def test_an_attachment_is_what_its_bytes_are() -> None:
    pdf_url = "http://gov.example/files/a.pdf"
    attachment = {"kind": "attachment", "url": pdf_url, "final_url": pdf_url}
    assert verdict(**attachment, body=file_body("pdf", REPORT), content_type="application/pdf") == (
        "ok",
        None,
    )
    outcome, finding = verdict(**attachment, body=error_page(), content_type="application/pdf")
    assert (outcome, finding) == ("type_mismatch", "linked as pdf, but the bytes are html")
    outcome, finding = verdict(**attachment, body=file_body("docx", REPORT), content_type=None)
    assert (outcome, finding) == ("ok", "linked as pdf, but the bytes are docx")


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    def response(value: str | None) -> Response:
        return Response(
            "http://h/", status=503, headers=Headers({"Retry-After": value} if value else {})
        )

    assert retry_after(response("7")) == 7.0
    assert retry_after(response(None)) == 0.0
    assert retry_after(response("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # in the past
    assert retry_after(response("soon")) == 0.0


def job_for(portal: str = "lanxi") -> CrawlJob:
    text = settings_for({portal: "http://127.0.0.1:1"}, "sqlite:///x.db", "blobs")
    s = parse_settings(tomllib.loads(text), Path("s.toml"))
    return CrawlJob(s.portals[0], s.crawler, s.archive, s.publishers, "nightly")


def test_a_run_is_judged_by_what_it_archived_and_listed() -> None:
    job = job_for()
    ok: dict[str, int] = {
        "nianbao/captures": 30,
        "nianbao/listing_records": 20,
        "nianbao/captures/article": 20,
    }
    assert judge(job, ok, []) == ("ok", None)
    status, finding = judge(job, {}, [])
    assert status == "failed" and finding and "archived nothing" in finding
    empty: dict[str, int] = {"nianbao/captures": 2}
    status, finding = judge(job, empty, [], (41, 20))
    assert status == "failed" and finding == (
        "layout may have changed: the 年报 listing yielded no records, "
        "where the last nightly run (#41) found 20"
    )
    down = {"nianbao/captures": 1, "nianbao/unanswered": 1, "nianbao/listing_unanswered": 1}
    assert judge(job, down, []) == ("failed", "the portal did not answer (1 requests failed)")
    silent = {**ok, "nianbao/listing_records": 0, "nianbao/listing_unanswered": 1}
    assert judge(job, silent, []) == ("failed", "the 年报 listing did not answer")
    blocked = {**empty, "nianbao/listing_blocked": 1}
    assert (
        judge(job, blocked, [])[1]
        == "blocked: the 年报 listing answered with an anti-bot challenge"
    )
    mostly = {**ok, "nianbao/outcome/blocked": 11}
    assert judge(job, mostly, [])[0] == "failed"
    assert judge(job, ok, ["boom"]) == ("failed", "boom")


def generic_row(**extra: str) -> str:
    row = '[[portals]]\nid = "g"\nfamily = "generic"\nbase_url = "http://h"\nentry_points = ["/l.html"]\n'
    return row + "".join(f"{k} = {v}\n" for k, v in extra.items())


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({}, "needs article_pattern"),
        ({"article_pattern": '"(unclosed"'}, "article_pattern is not a valid regex"),
        (
            {"article_pattern": '"x"', "record_selector": '"ul[["'},
            "record_selector is not a valid CSS",
        ),
        ({"article_pattern": '"x"', "overlap": "-1"}, "overlap must be 0 or more"),
        ({"article_pattern": '"x"', "max_file_mb": "0"}, "max_file_mb must be more than 0"),
        ({"article_pattern": '"x"', "next_pattern": '"y"'}, "unknown key 'next_pattern'"),
    ],
)
def test_generic_portals_are_checked_when_settings_load(extra: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace("[", r"\[")):
        parse_settings(tomllib.loads(generic_row(**extra)), Path("s.toml"))


def test_a_generic_portal_is_a_settings_row() -> None:
    row = generic_row(
        article_pattern=r'"/content_\\d+\\.shtml$"',
        next_page_pattern=r'"/list_\\d+\\.shtml$"',
        record_selector='"ul.list a"',
        overlap="10",
        max_file_mb="2.5",
    )
    portal = parse_settings(
        tomllib.loads("[crawler]\nretry_backoff_seconds = 0.5\n" + row), Path("s")
    ).portals[0]
    assert (portal.family, portal.overlap, portal.max_file_mb) == ("generic", 10, 2.5)
    assert (portal.record_selector, portal.next_page_pattern) == ("ul.list a", r"/list_\d+\.shtml$")


def test_the_scrapy_settings_are_polite() -> None:
    job = job_for()
    polite = scrapy_settings(
        dataclasses.replace(job, crawler=dataclasses.replace(job.crawler, download_delay=1.5)), 7
    )
    assert polite["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1 and polite["ROBOTSTXT_OBEY"] is True
    assert polite["DOWNLOAD_DELAY"] == 1.5 and polite["AUTOTHROTTLE_ENABLED"] is True
    assert {429, 503, 504} <= set(polite["RETRY_HTTP_CODES"]) and polite["RETRY_TIMES"] == 3
    assert polite["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.BackoffRetryMiddleware"] == 550
    slow = dataclasses.replace(job.portal, download_delay=5.0, max_file_mb=2)
    per_portal = scrapy_settings(dataclasses.replace(job, portal=slow), 7)
    assert per_portal["DOWNLOAD_DELAY"] == 5.0 and per_portal["NIANBAO_MAX_FILE_BYTES"] == 2 << 20


def test_retries_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = get_crawler(Spider, {"RETRY_TIMES": 3, "NIANBAO_RETRY_BACKOFF": 0.5})
    crawler.spider = Spider.from_crawler(crawler, name="t")
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    monkeypatch.setattr("crawler.middlewares.time.monotonic", lambda: 1000.0)
    request = Request("http://h/a.html")
    waits = []
    for retry_after_header in (None, None, "9"):
        headers = Headers({"Retry-After": retry_after_header} if retry_after_header else {})
        answer = middleware.process_response(
            request, Response(request.url, status=503, headers=headers)
        )
        assert isinstance(answer, Request)
        waits.append(answer.meta[NOT_BEFORE] - 1000.0)
        request = answer
    assert waits == [0.5, 1.0, 9.0]  # doubling, unless the server asks for longer
    final = middleware.process_response(request, Response(request.url, status=503))
    assert isinstance(final, Response)  # given up after RETRY_TIMES
