"""The TRS spider's list callback on a saved real page (邯郸's column, tests/pages/SOURCES.md): the
pager read from its script's variables, every further list page asked for, the record linked; and
the pager forms TRS sites write, and the probe where no pager can be read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.config import PortalConfig
from crawler.items import CaptureItem
from crawler.spiders.trs import PROBE_CAP, TrsSpider, page_count

PAGE = Path(__file__).parent / "pages" / "trs-handan-column.jsp"
COLUMN = "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/"
RECORD = "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200805_1353179.html"
# The pager links a browser rendered after the script when it saved the page.
RENDERED = re.compile(r"(</script>)<a href=\"http://hdzfxxgk.*?尾页</a>", re.S)


def spider(full: bool = True, record_selector: str | None = "div.szbmtclb table") -> TrsSpider:
    """The spider of a portal set up as 邯郸's would be: its records are in the list's table
    (the page's footer links two more pages of the form /YYYYMM/tYYYYMMDD_id.html)."""
    portal = PortalConfig(
        "handan", "邯郸市政府信息公开", "trs", "http://hdzfxxgk.hd.gov.cn", ("/zfwj/jinqixxgk/",),
        record_selector=record_selector,
    )  # fmt: skip
    crawler = get_crawler(TrsSpider)
    made: TrsSpider = TrsSpider.from_crawler(crawler, portal=portal, full=full)
    return made


def response(body: bytes, page: int = 0, status: int = 200, **meta: Any) -> HtmlResponse:
    url = COLUMN + (f"index_{page}.html" if page else "index.html")
    request = scrapy.Request(url, meta={"kind": "listing", "page": page, **meta})
    return HtmlResponse(url, status=status, body=body, encoding="utf-8", request=request)


def crawl(spider: TrsSpider, response: HtmlResponse) -> tuple[list[str], list[str], list[Any]]:
    """(list pages asked for, records asked for, captures) of one call of the list callback."""
    out: Iterator[Any] = spider.parse_list(response)
    yielded = list(out)
    requests = [r for r in yielded if isinstance(r, scrapy.Request)]
    lists = [r.url for r in requests if r.meta["kind"] == "listing"]
    records = [r.url for r in requests if r.meta["kind"] == "article"]
    return lists, records, [c for c in yielded if isinstance(c, CaptureItem)]


def test_the_real_pager_is_read_and_every_list_page_asked_for() -> None:
    raw = PAGE.read_bytes()
    count = int(re.search(rb"var countPage=(\d+)", raw).group(1))  # type: ignore[union-attr]
    assert count == 56
    lists, records, captures = crawl(spider(), response(raw))
    assert lists == [f"{COLUMN}index_{n}.html" for n in range(1, count)]
    assert records == [RECORD]
    assert [(c.kind, c.outcome) for c in captures] == [("listing", "ok")]


def test_the_variables_alone_suffice() -> None:
    """As the server sends it, the page has the script and no pager link: the variables decide."""
    raw = RENDERED.sub(r"\1", PAGE.read_text("utf-8"))
    assert "index_1.html" not in raw
    lists, records, _ = crawl(spider(), response(raw.encode()))
    assert lists == [f"{COLUMN}index_{n}.html" for n in range(1, 56)]
    assert records == [RECORD]


def test_an_incremental_crawl_asks_for_one_page_at_a_time() -> None:
    lists, _, _ = crawl(spider(full=False), response(PAGE.read_bytes()))
    assert lists == [f"{COLUMN}index_1.html"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('createPageHTML(3, 0, "index", "htm");', (3, "index", "htm")),
        (
            "var currentPage = 0;//所在页从0开始\nvar countPage = 5//共多少页\n"
            'createPageHTML(countPage, currentPage, "index", "html");',
            (5, "index", "html"),
        ),
        ("createPageHTML('page_div',7, 1,'index','shtml',97);", (7, "index", "shtml")),
        ('<a href="./index_1.html">2</a> <a href="./index_8.html">尾页</a>', (9, "index", "html")),
        ('<div class="page" id="page_div"></div><script src="/js/page.js"></script>', None),
    ],
    ids=["literal", "variables", "page-div", "links", "unreadable"],
)
def test_pager_forms(script: str, expected: tuple[int, str, str] | None) -> None:
    assert page_count(f"<html><body><script>{script}</script></body></html>") == expected


def without_pager() -> bytes:
    """The saved page less its pager (script and rendered links), as if a script from elsewhere
    wrote it."""
    pager = re.compile(rb'<script language="javascript">.*?</a>\s*</div>', re.S)
    return pager.sub(b"</div>", PAGE.read_bytes())


def test_an_unreadable_pager_is_probed_until_the_first_404() -> None:
    raw = without_pager()
    assert page_count(raw.decode()) is None
    trs = spider()
    lists, records, _ = crawl(trs, response(raw))
    assert (lists, records) == ([f"{COLUMN}index_1.html"], [RECORD])
    # A probed page that is there asks for the next one; the 404 ends the listing, as a finding.
    other = raw.replace(b"t20200805_1353179", b"t20200805_1353180")  # another record
    assert crawl(trs, response(other, page=3, pager=None))[0] == [f"{COLUMN}index_4.html"]
    # A probed page that lists nothing new (a soft 404: the first page again) ends it too.
    assert crawl(trs, response(raw, page=4, pager=None))[0] == []
    lists, _, captures = crawl(trs, response(b"<html>404</html>", page=4, status=404, pager=None))
    assert lists == []
    assert [(c.outcome, c.status) for c in captures] == [("gone", 404)]
    assert (captures[0].finding or "").startswith("no pager could be read: index_N.html probed")


def test_the_probe_stops_at_its_cap() -> None:
    raw = without_pager()
    lists, _, captures = crawl(spider(), response(raw, page=PROBE_CAP - 1, pager=None))
    assert lists == []
    assert (captures[0].finding or "").endswith("stopped at the cap")
