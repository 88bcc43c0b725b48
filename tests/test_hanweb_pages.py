"""The Hanweb spider's callbacks on saved pages (tests/pages/SOURCES.md), and an annual-report module
URL given in `entry_points`, as interface.md allows: crawled as a module page (callback and crawl)."""

from __future__ import annotations

import asyncio
import math
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import scrapy
from replica_fixtures import crawl_all, replica_process
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Capture, Document
from crawler.config import AnnualReportModule, PortalConfig
from crawler.items import CaptureItem
from crawler.spiders.hanweb import HanwebSpider
from nianbao.settings import parse_settings
from replica import settings_for
from replica.records import MODULE_PATH
from replica.site import Site
from replica.truth import load_truth

PAGES = Path(__file__).parent / "pages"
BASE = "http://xxgk.tx.gov.cn"
COLUMN = "/col/col1229000001/index.html"
MODULE = f"{MODULE_PATH}?area=330483ZFC00000&fbtime=2019"


def spider(
    entry_points: tuple[str, ...], module: AnnualReportModule | None = None, base: str = BASE
) -> HanwebSpider:
    portal = PortalConfig("tx", "桐乡", "hanweb", base, entry_points, annual_report=module)
    made: HanwebSpider = HanwebSpider.from_crawler(get_crawler(HanwebSpider), portal=portal)
    return made


def starts(hanweb: HanwebSpider) -> list[scrapy.Request]:
    async def collect() -> list[scrapy.Request]:
        return [r async for r in hanweb.start()]

    return asyncio.run(collect())


def call(callback: Any, url: str, body: bytes, kind: str, **meta: Any) -> list[Any]:
    request = scrapy.Request(url, meta={"kind": kind, **meta})
    response = HtmlResponse(url, body=body, encoding="utf-8", request=request)
    out: Iterator[Any] = callback(response)
    return list(out)


def test_a_module_url_in_entry_points_is_asked_for_as_a_module_page() -> None:
    module = AnnualReportModule(MODULE_PATH, ("330483ZFC00000",), 2019, 2020)
    hanweb = spider((COLUMN, MODULE, BASE + MODULE.replace("2019", "2021")), module)
    asked = [(r.url, r.meta["kind"], r.callback) for r in starts(hanweb)]
    assert asked == [
        (BASE + COLUMN, "listing", hanweb.parse_column),
        (BASE + MODULE, "module", hanweb.parse_report),
        (BASE + MODULE.replace("2019", "2021"), "module", hanweb.parse_report),
        # The setting's own pages, the one given twice asked for once.
        (BASE + MODULE.replace("2019", "2020"), "module", hanweb.parse_report),
    ]


def test_a_module_page_is_archived_as_a_module_capture() -> None:
    hanweb = spider((MODULE,))
    body = (
        "<html><head><title>桐乡市人民政府2019年度政府信息公开工作报告</title></head><body>"
        '<div class="xxgk_nb"><div id="zoom"><p>一、总体情况</p></div></div></body></html>'
    ).encode()
    out = call(hanweb.parse_report, BASE + MODULE, body, "module")
    assert [(c.kind, c.outcome, c.url) for c in out if isinstance(c, CaptureItem)] == [
        ("module", "ok", BASE + MODULE)
    ]


def test_a_portal_given_only_module_urls_is_crawled(tmp_path: Path) -> None:
    """tongxiang with its module pages as entry points, and neither column nor module setting."""
    truth = [r for r in load_truth().reports_of("tongxiang") if r.layout == "module"]
    with replica_process() as urls:
        url = f"sqlite:///{tmp_path / 'a.db'}"
        raw = tomllib.loads(settings_for(urls, url, str(tmp_path / "blobs")))
        row = next(p for p in raw["portals"] if p["id"] == "tongxiang")
        row.pop("annual_report")
        row["entry_points"] = [r.url for r in truth]
        raw["portals"] = [row]
        raw["publishers"] = [p for p in raw["publishers"] if p["portal"] == "tongxiang"]
        (summary,) = crawl_all(parse_settings(raw, tmp_path / "settings.toml"))
    assert (summary.status, summary.finding, summary.errors) == ("ok", None, 0), summary
    engine = make_engine(url)
    with Session(engine) as session:
        kinds = set(session.scalars(select(Capture.kind)))
        found = {(d.url, d.report_year) for d in session.scalars(select(Document))}
    engine.dispose()
    assert kinds == {"module"}
    assert found == {(urls["tongxiang"] + r.url, r.year) for r in truth}


# Saved real Hanweb article pages (tests/pages/SOURCES.md): 浙江省教育厅, with the xxgk 索引号 table,
# and 江苏省人民政府, without one.
ARTICLES = {
    "hanweb-zj-jyt-article.html": "http://jyt.zj.gov.cn/art/2024/10/21/art_1543973_58942886.html",
    "hanweb-jiangsu-article.html": "http://www.jiangsu.gov.cn/art/2024/10/14/art_60085_11394426.html",
}
DOWNFILE = "/module/download/downfile.jsp?classid=0&filename=0123456789abcdef0123456789abcdef.pdf"


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_a_real_article_page_is_archived_and_nothing_else_is_followed(name: str) -> None:
    """Its pictures, the visit counter's iframe, the breadcrumb's columns and the print links are
    not attachments: the page is one capture and no request."""
    url = ARTICLES[name]
    hanweb = spider(("/col/col1/index.html",), base=url.split("/art/")[0])
    meta = {"listed_title": "标题", "parent_url": url.split("/art/")[0] + "/col/col1/index.html"}
    out = call(hanweb.parse_report, url, (PAGES / name).read_bytes(), "article", **meta)
    assert [(type(o).__name__, o.kind, o.outcome, o.detected_type) for o in out] == [
        (CaptureItem.__name__, "article", "ok", "html")
    ]
    assert (out[0].url, out[0].listed_title, out[0].parent_url) == (url, "标题", meta["parent_url"])


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_a_real_article_page_with_an_attachment_link_asks_for_it(name: str) -> None:
    """The same page with a report's download link in its div#zoom, as Hanweb writes one."""
    url = ARTICLES[name]
    base = url.split("/art/")[0]
    raw = (PAGES / name).read_bytes()
    link = f'<p>附件：<a href="{DOWNFILE}" target="_blank">统计表.pdf</a></p>'.encode()
    raw = raw.replace(b'<meta name="ContentEnd">', link + b'<meta name="ContentEnd">', 1)
    assert link in raw
    out = call(spider(("/col/col1/index.html",), base=base).parse_report, url, raw, "article")
    asked = [
        (r.url, r.meta["kind"], r.headers.get("Referer"))
        for r in out
        if isinstance(r, scrapy.Request)
    ]
    assert asked == [(base + DOWNFILE, "attachment", url.encode())]


# The landmarks of the real 浙江 article, in the order the page has them.
LANDMARKS = (
    "id='hiddenLocation'",
    'class="current-position"',
    "当前位置：",
    'class="xxgk"',
    "<td>索引号: ",
    "<td>文件编号: </td>",
    "<td>发布机构: ",
    'id="c"',
    "class=title",
    "来源：",
    'id="zoom"',
    '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">',
    '<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->',
    "module/visitcount/visit.jsp?type=3",
)


def landmarks(text: str) -> list[int]:
    return [text.find(mark) for mark in LANDMARKS]


def test_the_replica_articles_of_2019_on_have_the_real_pages_markup() -> None:
    real = landmarks((PAGES / "hanweb-zj-jyt-article.html").read_text("utf-8"))
    assert -1 not in real and real == sorted(real)
    site = Site("tongxiang")
    recent = [r for r in site.docs.values() if r.layout == "table" and r.year >= 2019]
    assert len(recent) >= 20
    for report in recent:
        text = site.document(report.url).body.decode("utf-8")
        found = landmarks(text)
        assert -1 not in found and found == sorted(found), report.url
        out = call(spider((COLUMN,)).parse_report, BASE + report.url, text.encode(), "article")
        assert [(c.kind, c.outcome, c.detected_type) for c in out] == [("article", "ok", "html")]


# The listing variants. No real Hanweb column page, dataproxy answer or jpaas answer was found
# (tests/pages/SOURCES.md, the corpus's README): the column page of docs/portals.md's real
# datastore, and the replica's pages of each variant.
SPEC_COLUMN = """<div id="212860"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=33718&unitid=212860&webname=江苏省人民政府&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href='/art/2026/9/11/art_33718_11828204.html' title='连云港跨里海班列运输提质提速'>连云港跨里海班列运输提质提速</a><span>2026-09-11</span></li>]]></record>
</recordset></datastore></script></div>"""


def split(out: list[Any]) -> tuple[list[CaptureItem], list[scrapy.Request], list[scrapy.Request]]:
    """(captures, record requests, listing requests) of one callback call."""
    requests = [o for o in out if isinstance(o, scrapy.Request)]
    return (
        [o for o in out if isinstance(o, CaptureItem)],
        [r for r in requests if r.meta["kind"] == "article"],
        [r for r in requests if r.meta["kind"] == "listing"],
    )


def test_the_spec_datastore_column_asks_for_its_record_and_the_get_dataproxy() -> None:
    base = "http://www.jiangsu.gov.cn"
    hanweb = spider(("/col/col33718/index.html",), base=base)
    out = call(
        hanweb.parse_column, base + "/col/col33718/index.html", SPEC_COLUMN.encode(), "listing"
    )
    captures, records, lists = split(out)
    assert [(c.kind, c.outcome) for c in captures] == [("listing", "ok")]
    assert [(r.url, r.meta["listed_title"]) for r in records] == [
        (base + "/art/2026/9/11/art_33718_11828204.html", "连云港跨里海班列运输提质提速")
    ]
    assert [(r.method, r.url.split("?")[0], r.meta["page"]) for r in lists] == [
        ("GET", base + "/module/web/jpage/dataproxy.jsp", 1)
    ]


def replica_page(portal: str, which: str, number: int = 0) -> bytes:
    site = Site(portal)
    page = {
        "column": lambda: site.list_page(0),
        "proxy": lambda: site.proxy_page(number),
        "range": lambda: site.proxy_range(1, 45),
        "jpaas": lambda: site.jpaas_page(number),
    }[which]()
    return page.body


def test_the_get_dataproxy_pages_through_its_totalpage() -> None:
    site = Site("tongxiang")
    pages = math.ceil(len(site.listing) / 15)
    hanweb = spider((site.portal.column_path,))
    proxy = BASE + "/module/web/jpage/dataproxy.jsp?page=1&columnid=1&unitid=2"
    out = call(
        hanweb.parse_column,
        BASE + site.portal.column_path,
        replica_page("tongxiang", "column"),
        "listing",
    )
    _, records, lists = split(out)
    assert len(records) == 15 and [r.meta["page"] for r in lists] == [1]
    _, records, lists = split(
        call(
            hanweb.parse_proxy_page, proxy, replica_page("tongxiang", "proxy", 2), "listing", page=2
        )
    )
    assert len(records) == 15 and [
        (r.url.split("?")[1].split("&")[0], r.meta["page"]) for r in lists
    ] == [("page=3", 3)]
    last = proxy.replace("page=1", f"page={pages}")
    _, _, lists = split(
        call(
            hanweb.parse_proxy_page,
            last,
            replica_page("tongxiang", "proxy", pages),
            "listing",
            page=pages,
        )
    )
    assert lists == []


def test_the_post_dataproxy_asks_for_record_ranges_from_totalrecord() -> None:
    site = Site("taizhou")
    total = len(site.listing)
    hanweb = spider((site.portal.column_path,))
    out = call(
        hanweb.parse_column,
        BASE + site.portal.column_path,
        replica_page("taizhou", "column"),
        "listing",
    )
    _, records, lists = split(out)
    assert len(records) == 15
    (first,) = lists
    assert (first.method, first.url) == (
        "POST",
        BASE + "/module/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15",
    )
    form = dict(parse_qsl(first.body.decode()))
    assert form["columnid"] == str(site.portal.column_id) and form["unitid"] == str(
        site.portal.unit_id
    )
    assert (form["col"], form["appid"], form["sourceContentType"]) == ("1", "1", "1")
    _, records, lists = split(
        call(
            hanweb.parse_proxy_records,
            first.url,
            replica_page("taizhou", "range"),
            "listing",
            job=first.meta["job"],
            call=first.meta["call"],
        )
    )
    assert len(records) == 45 - 15  # the first 15 were on the column page
    assert [r.url.split("?")[1] for r in lists] == [f"startrecord=46&endrecord={total}&perpage=15"]


def test_the_jpaas_unit_pages_by_page_number() -> None:
    site = Site("lanxi")
    hanweb = spider((site.portal.column_path,))
    out = call(
        hanweb.parse_column,
        BASE + site.portal.column_path,
        replica_page("lanxi", "column"),
        "listing",
    )
    _, records, lists = split(out)
    assert records == [] and len(lists) == 1
    query = dict(parse_qsl(lists[0].url.split("?", 1)[1]))
    assert (query["pageNo"], query["pageId"], query["webId"]) == (
        "1",
        str(site.portal.column_id),
        site.config["jpaas_web_id"],
    )
    _, records, lists = split(
        call(hanweb.parse_jpaas, lists[0].url, replica_page("lanxi", "jpaas", 1), "listing", page=1)
    )
    assert len(records) == site.per_page and [r.meta["page"] for r in lists] == [2]
