"""TRS WCM sites (e.g. hdzfxxgk.hd.gov.cn): a column's list pages `index.html`, `index_1.html`, …,
whose pager script names the page count, as literal arguments (`createPageHTML(5, 0, "index",
"html")`) or, on most real sites, as variables (`var countPage = 5//共多少页`, then
`createPageHTML(countPage, currentPage, "index", "html")` or an inline document.write pager);
articles `./YYYYMM/tYYYYMMDD_<docid>.htm` with the head meta set and the body in `div.TRS_Editor`;
the 全真版 PDF sits beside the article (`./P0….pdf`). A deleted document answers with a meta
refresh to its folder, which crawler.outcomes records as gone. Where no pager can be read,
`index_N.html` is probed until the first 404 (at most `PROBE_CAP` pages), as a finding."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.items import CaptureItem
from crawler.selectors import match_many
from crawler.spiders.base import FamilySpider, anchors

ARTICLE = re.compile(r"/\d{6}/t\d{8}_\d+\.s?html?$")
PAGER_CALL = re.compile(r"createPageHTML\s*\(([^()]*)\)")
ARGUMENT = re.compile(r"""^\s*(?:(\d+)|['"]([^'"]*)['"]|([A-Za-z_$][\w$]*))\s*$""")
# The variables TRS templates keep the page count in (邯郸 hdzfxxgk.hd.gov.cn, 2020: countPage).
COUNT_VARIABLES = ("countPage",)
PAGER_LINK = re.compile(r"(?:^|/)(index)_(\d+)\.(s?html?)$")
PROBE_CAP = 50  # listing pages fetched at most when no pager can be read
PROBED = f"no pager could be read: index_N.html probed until the first 404 (at most {PROBE_CAP})"


def variable(script: str, name: str) -> str | int | None:
    """The value a page's script first assigns to `name`, when it is a literal."""
    found = re.search(
        rf"""\b{re.escape(name)}\s*=\s*(?:(\d+)|['"]([^'"]*)['"])\s*(?:[;,)]|//|$)""",
        script,
        re.M,
    )
    if found is None:
        return None
    return int(found.group(1)) if found.group(1) else found.group(2)


def argument(script: str, arg: str) -> str | int | None:
    """One argument of a call: a number, a string, or a variable's literal value."""
    m = ARGUMENT.match(arg)
    if m is None:
        return None
    if m.group(3):
        return variable(script, m.group(3))
    return int(m.group(1)) if m.group(1) is not None else m.group(2)


def pager_call(text: str) -> tuple[int, str, str] | None:
    """(page count, name, extension) of the first createPageHTML call whose count resolves."""
    for call in PAGER_CALL.finditer(text):
        values = [argument(text, arg) for arg in call.group(1).split(",")]
        numbers = [v for v in values if isinstance(v, int)]
        names = [v for v in values if isinstance(v, str)]
        if numbers:
            # The newer template passes a div id first: ('page_div', 5, 0, 'index', 'html', 97).
            return numbers[0], *(names[-2:] if len(names) >= 2 else ("index", "html"))
    return None


def page_count(text: str) -> tuple[int, str, str] | None:
    """(page count, name, extension) from the pager script's arguments or variables, else from
    the pager's links (the last page's number); None when none of them can be read."""
    if found := pager_call(text):
        return found
    for name in COUNT_VARIABLES:
        if isinstance(count := variable(text, name), int):
            return count, "index", "html"
    links = [m for href, _ in anchors(text) if (m := PAGER_LINK.search(href.split("?")[0]))]
    if links:
        last = max(links, key=lambda m: int(m.group(2)))
        return int(last.group(2)) + 1, last.group(1), last.group(3)
    return None


class TrsSpider(FamilySpider):
    """Crawls one TRS portal from its settings row: each entry point is a column's index.html."""

    async def start(self) -> Any:
        for path in self.portal.entry_points:
            yield self.request(self.portal.url(path), self.parse_list, "listing", meta={"page": 0})

    def parse_list(self, response: Response) -> Iterator[Any]:
        """List page N of a column: its articles, then the pages after it."""
        if not (yield from self.open_listing(response)):
            return
        page = int(response.meta["page"])
        links = self.listing_links(response, ARTICLE)
        if page == 0:
            match_many(links, selector=ARTICLE.pattern, portal=self.portal.id, url=response.url)
        before = len(self.listed)
        yield from self.follow_records(response, links)
        pager = response.meta.get("pager") or (
            page_count(self.text(response)) if page == 0 else None
        )
        if pager is None and page and len(self.listed) == before:
            return  # a probed page that lists nothing new (a soft 404) ends the listing too
        count, name, ext = pager or (PROBE_CAP, "index", "html")
        for n in self.next_pages(page, count, probing=pager is None):
            meta = {"page": n, "pager": pager}
            yield self.request(
                urljoin(response.url, f"{name}_{n}.{ext}"), self.parse_list, "listing", meta=meta
            )

    def next_pages(self, page: int, count: int, probing: bool) -> range:
        """The list pages to ask for after `page`: on a full crawl with a known count, all the
        rest at once from the first page; else the next one while the listings show new records."""
        if self.full and not probing:
            return range(1, count) if page == 0 else range(0)
        return range(page + 1, min(page + 2, count)) if self.more_pages() else range(0)

    def capture(self, response: Response, kind: str | None = None) -> CaptureItem:
        """A capture; a probed listing page says so: the 404 that ended the probe is the end of
        the listing (gone, not an error), and a page at the cap says that later pages were left."""
        item = super().capture(response, kind)
        if response.meta.get("kind") != "listing" or response.meta.get("pager", True):
            return item
        page = int(response.meta["page"])
        if response.status == 404:
            return dataclasses.replace(item, outcome="gone", finding=f"{PROBED}: {page} pages")
        if page + 1 >= PROBE_CAP:
            return dataclasses.replace(item, finding=f"{PROBED}: stopped at the cap")
        return item
