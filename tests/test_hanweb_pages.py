"""The Hanweb spider's callbacks on saved pages (tests/pages/SOURCES.md), and an annual-report module
URL given in `entry_points`, as interface.md allows: crawled as a module page (callback and crawl)."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        ("CaptureItem", "article", "ok", "html")
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
