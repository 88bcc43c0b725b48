"""Spider callbacks one page at a time (issue 13 item 1, issue 15 item 5): each replica variant's
page, rendered by the replica and saved as a file, read back with `file_response` and handed to
the family spider's callback, with no server and no reactor; asserted on the requests and
captures it yields. The real saved pages (tests/pages/) have their own callback tests in
tests/test_trs_pager.py and tests/test_hanweb_pages.py; the selectors' counts are tested last.

Variants: a TRS pager written with variables (trs_posts) and one no page tells (trs_county,
probed), the Hanweb GET dataproxy (yiwu_variants, tongxiang) and POST dataproxy (taizhou), module
pages without a date (tongxiang), non-report posts in the 年报 column (yiwu_variants, trs_posts),
one report at two URLs and a government's report posted by its office (yiwu_variants).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

import crawler.spiders.base as base_module
from crawler.config import PortalConfig
from crawler.items import CaptureItem
from crawler.selectors import LayoutChanged, match_many, match_one, select_one
from crawler.spiders.base import FamilySpider
from crawler.spiders.hanweb import QUERY_DATA, RECORD, HanwebSpider
from crawler.spiders.trs import ARTICLE, TrsSpider
from parsers import parse_bytes
from replica.families import load_family_truth
from replica.posts import posts_of
from replica.site import Page, Site
from replica.truth import load_truth
from tests.responses import file_response

BASE = "http://127.0.0.1:8000"  # any base: the callbacks only join URLs to it
FAMILY_TRUTH = load_family_truth()


def saved(tmp: Path, name: str, page: Page) -> Path:
    """A replica page saved as a file, as a browser would save the real one."""
    path = tmp / name
    path.write_bytes(page.body)
    return path


def spider(site: Site) -> FamilySpider:
    portal = site.portal
    family: type[FamilySpider] = TrsSpider if portal.family == "trs" else HanwebSpider
    config = PortalConfig(portal.id, portal.name, portal.family, BASE, (portal.column_path,))
    made: FamilySpider = family.from_crawler(get_crawler(family), portal=config, full=True)
    return made


def call(callback: Any, path: Path, url: str, kind: str = "listing", **meta: Any) -> list[Any]:
    out: Iterator[Any] = callback(file_response(path, url, kind, **meta))
    return list(out)


def requests(out: list[Any], kind: str) -> list[scrapy.Request]:
    return [o for o in out if isinstance(o, scrapy.Request) and o.meta["kind"] == kind]


def captures(out: list[Any]) -> list[CaptureItem]:
    return [o for o in out if isinstance(o, CaptureItem)]


def listed(out: list[Any]) -> list[tuple[str, str | None]]:
    """(URL, listed title) of each report page a listing asked for."""
    return [(r.url, r.meta["listed_title"]) for r in requests(out, "article")]


def newest_first(site: Site) -> list[tuple[str, str]]:
    """(URL, title) of the column's records as it lists them: reports and posts, newest first."""
    pages = sorted(
        (r for r in site.served.values() if r.is_article),
        key=lambda r: (r.published_at, r.url),
        reverse=True,
    )
    return [(BASE + r.url, r.title) for r in pages]


# --- TRS: the pager written with variables, and posts beside the reports (trs_posts) ----------


def test_trs_list_page_reads_its_pager_variables_and_lists_posts_and_reports(
    tmp_path: Path,
) -> None:
    site = Site("trs_posts")
    assert site.list_pages() == 2
    body = site.list_page(0).body
    # 邯郸's pager: `var countPage=2`, its links written by document.write, none literal.
    assert re.search(rb"var countPage=2\b", body) and b"index_1.html" not in body
    trs = spider(site)
    first = saved(tmp_path, "index.html", site.list_page(0))
    out = call(trs.parse_list, first, BASE + site.portal.column_path, page=0)
    assert [(c.kind, c.outcome) for c in captures(out)] == [("listing", "ok")]
    assert [r.url for r in requests(out, "listing")] == [
        BASE + site.portal.list_path + "index_1.html"
    ]
    records = newest_first(site)
    assert listed(out) == records[: site.per_page]
    second = saved(tmp_path, "index_1.html", site.list_page(1))
    following = requests(out, "listing")[0]
    out = call(trs.parse_list, second, following.url, **following.meta)
    assert listed(out) == records[site.per_page :] and requests(out, "listing") == []
    titles = {title for _, title in records}
    assert {p.title for p in posts_of("trs_posts")} < titles  # every post is in the column


def test_trs_list_page_with_no_pager_is_probed_one_page_at_a_time(tmp_path: Path) -> None:
    """trs_county: the pager is written by a script from elsewhere, so index_1.html is tried,
    then the next while pages list new records."""
    site = Site("trs_county")
    trs = spider(site)
    first = saved(tmp_path, "index.html", site.list_page(0))
    out = call(trs.parse_list, first, BASE + site.portal.column_path, page=0)
    [following] = requests(out, "listing")
    assert (following.url, following.meta["pager"]) == (
        BASE + site.portal.list_path + "index_1.html",
        None,
    )
    assert listed(out) == newest_first(site)[: site.per_page]
    second = saved(tmp_path, "index_1.html", site.list_page(1))
    out = call(trs.parse_list, second, following.url, **following.meta)
    assert [r.url for r in requests(out, "listing")] == [
        BASE + site.portal.list_path + "index_2.html"
    ]


# --- Hanweb: the GET dataproxy column with posts, a report at two URLs, an office's post ------


@pytest.fixture(scope="module")
def yiwu() -> Site:
    return Site("yiwu_variants")


def test_hanweb_column_lists_posts_and_both_urls_of_a_republished_report(
    tmp_path: Path, yiwu: Site
) -> None:
    column = saved(tmp_path, "index.html", yiwu.list_page(0))
    out = call(spider(yiwu).parse_column, column, BASE + yiwu.portal.column_path)
    assert listed(out) == newest_first(yiwu)  # fewer records than a page holds: all embedded
    [proxy] = requests(out, "listing")  # the rest of the column, were there more
    assert (proxy.method, proxy.url.split("?")[0]) == (
        "GET",
        BASE + "/module/web/jpage/dataproxy.jsp",
    )
    [copy] = [r for r in FAMILY_TRUTH.reports_of("yiwu_variants") if r.copy_of]
    both = [(u, t) for u, t in listed(out) if u in (BASE + copy.url, BASE + copy.copy_of)]
    assert len(both) == 2 and both[0][1] == both[1][1]  # two URLs, one title: each asked for
    posts = {p.title for p in posts_of("yiwu_variants")}
    assert posts < {title for _, title in listed(out)}


def test_hanweb_get_dataproxy_pages_through_its_totalpage(tmp_path: Path) -> None:
    site = Site("tongxiang")
    pages = math.ceil(len(site.listing) / 15)
    hanweb = spider(site)
    column = saved(tmp_path, "index.html", site.list_page(0))
    out = call(hanweb.parse_column, column, BASE + site.portal.column_path)
    [proxy] = requests(out, "listing")
    assert (proxy.method, proxy.url.split("?")[0], proxy.meta["page"]) == (
        "GET",
        BASE + "/module/web/jpage/dataproxy.jsp",
        1,
    )
    last = saved(tmp_path, "last.xml", site.proxy_page(pages))
    url = proxy.url.replace("page=1", f"page={pages}")
    out = call(hanweb.parse_proxy_page, last, url, page=pages)
    assert requests(out, "listing") == [] and listed(out)  # the last page asks for no further one


def test_hanweb_post_dataproxy_asks_for_record_ranges(tmp_path: Path) -> None:
    site = Site("taizhou")
    hanweb = spider(site)
    column = saved(tmp_path, "index.html", site.list_page(0))
    out = call(hanweb.parse_column, column, BASE + site.portal.column_path)
    [first] = requests(out, "listing")
    assert (first.method, first.url) == (
        "POST",
        BASE + "/module/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15",
    )
    form = dict(parse_qsl(first.body.decode()))
    assert (form["columnid"], form["unitid"]) == (
        str(site.portal.column_id),
        str(site.portal.unit_id),
    )
    batch = saved(tmp_path, "range.xml", site.proxy_range(1, 45))
    out = call(hanweb.parse_proxy_records, batch, first.url, **first.meta)
    assert len(listed(out)) == 45 - 15  # the first 15 were on the column page


def test_a_post_page_is_archived_as_an_article_and_read_as_no_report(
    tmp_path: Path, yiwu: Site
) -> None:
    """The spider archives what the column lists; whether it is a report is the parsers' call."""
    hanweb = spider(yiwu)
    for url, (_page, post) in yiwu.posts.items():
        path = saved(tmp_path, "post.html", yiwu.document(url))
        out = call(hanweb.parse_report, path, BASE + url, "article", listed_title=post.title)
        [item] = captures(out)
        assert (item.kind, item.outcome, item.listed_title) == ("article", "ok", post.title)
        assert item.body is not None
        parsed = parse_bytes(item.body, item.content_type, item.url)
        assert (parsed.kind, parsed.is_report) == ("other", False), post.title
        assert post.reason in (parsed.reason or ""), (post.title, parsed.reason)


def test_the_governments_report_posted_by_its_office(tmp_path: Path, yiwu: Site) -> None:
    [report] = [
        r
        for r in FAMILY_TRUTH.reports_of("yiwu_variants")
        if r.title.startswith("义乌市人民政府2023")
    ]
    path = saved(tmp_path, "report.html", yiwu.document(report.url))
    out = call(spider(yiwu).parse_report, path, BASE + report.url, "article")
    [item] = captures(out)
    assert item.kind == "article" and item.body is not None
    parsed = parse_bytes(item.body, item.content_type, item.url)
    assert (parsed.subject, parsed.publisher, parsed.report_year) == (
        "义乌市人民政府",
        "义乌市人民政府办公室",
        2023,
    )


# --- module pages: a report with no date, asked for and archived as a module capture ----------


def test_an_undated_module_page_is_one_module_capture(tmp_path: Path) -> None:
    site = Site("tongxiang")
    [report] = [
        r
        for r in load_truth().reports_of("tongxiang")
        if r.layout == "module" and r.year == 2019 and r.publisher == "桐乡市人民政府"
    ]
    path = saved(tmp_path, "module.html", site.document(report.url))
    out = call(spider(site).parse_report, path, BASE + report.url, "module")
    [item] = captures(out)
    assert (item.kind, item.outcome, item.url) == ("module", "ok", BASE + report.url)
    assert [o for o in out if isinstance(o, scrapy.Request)] == []
    assert item.body is not None
    parsed = parse_bytes(item.body, item.content_type, item.url)
    # No date anywhere on the page: nothing may invent one (the statuses call it undated).
    assert (parsed.metadata.published_at, parsed.metadata.written_date) == (None, None)
    assert parsed.report_year == 2019 and parsed.is_report


# --- selectors: counts stated, failures named ---------------------------------------------------


def test_select_one_takes_the_single_match() -> None:
    found = select_one(QUERY_DATA, '<script queryData=\'{"a":"1"}\'>', portal="p", url="u")
    assert found == '{"a":"1"}'  # the alternative group that is set


@pytest.mark.parametrize("text, count", [("<script>", 0), ("queryData='a' queryData='b'", 2)])
def test_select_one_fails_by_name_on_none_or_two(text: str, count: int) -> None:
    url = "http://x.example/col/col1/index.html"
    with pytest.raises(LayoutChanged) as raised:
        select_one(QUERY_DATA, text, portal="lanxi", url=url)
    assert (raised.value.count, raised.value.selector, raised.value.url) == (
        count,
        QUERY_DATA.pattern,
        url,
    )
    message = str(raised.value)
    assert (
        repr(QUERY_DATA.pattern) in message and url in message and "expected exactly 1" in message
    )


def test_match_one_and_match_many_state_their_counts() -> None:
    assert match_one(["a"], selector="s", portal="p", url="u") == "a"
    assert list(match_many(["a", "b"], selector="s", portal="p", url="u", min=2)) == ["a", "b"]
    with pytest.raises(LayoutChanged, match=r"'s' matched 1, expected >= 2"):
        match_many(["a"], selector="s", portal="p", url="u", min=2)


def test_a_jpaas_column_with_two_unit_queries_fails_by_name(tmp_path: Path) -> None:
    """Two queryData on the unit script: the first would be a guess, so the layout changed."""
    site = Site("lanxi")
    body = site.list_page(0).body.replace(b"queryData=", b"queryData='{}' queryData=", 1)
    path = tmp_path / "index.html"
    path.write_bytes(body)
    with pytest.raises(LayoutChanged) as raised:
        call(spider(site).parse_column, path, BASE + site.portal.column_path)
    assert (raised.value.selector, raised.value.count) == (QUERY_DATA.pattern, 2)
    assert raised.value.url == BASE + site.portal.column_path


@pytest.mark.parametrize("portal, selector", [("yiwu_variants", RECORD), ("trs_posts", ARTICLE)])
def test_a_listing_without_records_fails_by_name(
    tmp_path: Path, portal: str, selector: re.Pattern[str]
) -> None:
    site = Site(portal)
    path = saved(tmp_path, "index.html", site.list_page(0, broken=True))
    url = BASE + site.portal.column_path
    with pytest.raises(LayoutChanged) as raised:
        callback = getattr(spider(site), "parse_list" if portal == "trs_posts" else "parse_column")
        call(callback, path, url, page=0)
    assert (raised.value.selector, raised.value.count, raised.value.url) == (
        selector.pattern,
        0,
        url,
    )


# --- Decoding: the spider reads a page as the archive does, once --------------------------------


def test_a_gbk_listing_under_a_latin1_header_lists_its_titles_in_chinese(tmp_path: Path) -> None:
    """A GBK list page whose server says `charset=ISO-8859-1` (Tomcat's default; invented here:
    the 邯郸 list page re-encoded to GBK with its meta saying so). Scrapy's `response.text`
    takes the header and would list mojibake titles; the spider decodes with the archive's
    decoder (the page's meta wins over a server default) and records the codec it chose."""
    site = Site("trs_posts")
    body = (
        site.list_page(0).body.decode("utf-8").replace("charset=utf-8", "charset=gbk").encode("gbk")
    )
    url = BASE + site.portal.column_path
    header = {"Content-Type": "text/html; charset=ISO-8859-1"}
    request = scrapy.Request(url, meta={"kind": "listing", "page": 0})
    response = HtmlResponse(url, body=body, headers=header, request=request)
    assert "邯郸" not in response.text  # what Scrapy's own decoding makes of it
    out = list(spider(site).parse_list(response))
    [capture] = captures(out)
    assert capture.encoding == "gb18030"
    assert listed(out) == newest_first(site)[: site.per_page]


def test_each_page_is_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Hanweb column is read for its records, its unit script and its dataproxy, and
    archived with its codec: one decode for all of them, and never Scrapy's."""
    site = Site("yiwu_variants")
    calls: list[int] = []
    real = base_module.decode_html

    def counted(raw: bytes, header: str | None) -> Any:
        calls.append(len(raw))
        return real(raw, header)

    monkeypatch.setattr(base_module, "decode_html", counted)
    monkeypatch.setattr(
        HtmlResponse, "text", property(lambda self: pytest.fail("Scrapy decoded the page"))
    )
    column = saved(tmp_path, "index.html", site.list_page(0))
    out = call(spider(site).parse_column, column, BASE + site.portal.column_path)
    assert listed(out) and captures(out)[0].encoding == "utf-8"
    assert calls == [len(site.list_page(0).body)]
