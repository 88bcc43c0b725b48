"""TRS WCM sites (e.g. pingtan.gov.cn): a column's list pages `index.html`, `index_1.html`, …,
each naming the page count in `createPageHTML(count, current, "index", "html")`; articles
`./YYYYMM/tYYYYMMDD_<docid>.htm` with the head meta set and the body in `div.TRS_Editor`; the
全真版 PDF sits beside the article (`./P0….pdf`). A deleted document answers with a meta refresh
to its folder, which crawler.outcomes records as gone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.selectors import LayoutChanged
from crawler.spiders.base import FamilySpider

ARTICLE = re.compile(r"/\d{6}/t\d{8}_\d+\.s?html?$")
PAGER = re.compile(
    r"""createPageHTML\(\s*['"]?(\d+)['"]?\s*,\s*['"]?(\d+)['"]?\s*,\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]"""
)


class TrsSpider(FamilySpider):
    """Crawls one TRS portal from its settings row: each entry point is a column's index.html."""

    async def start(self) -> Any:
        for path in self.portal.entry_points:
            yield self.request(self.portal.url(path), self.parse_list, "listing", meta={"page": 0})

    def parse_list(self, response: Response) -> Iterator[Any]:
        """List page N of a column: its articles, then page N+1 while there is one."""
        if not (yield from self.open_listing(response)):
            return
        page = int(response.meta["page"])
        links = self.listing_links(response, ARTICLE)
        if page == 0 and not links:
            raise LayoutChanged(self.portal.id, ARTICLE.pattern, response.url, 0, ">= 1")
        yield from self.follow_records(response, links)
        pager = PAGER.search(response.text)
        if pager and page + 1 < int(pager.group(1)) and self.more_pages():
            name = f"{pager.group(3)}_{page + 1}.{pager.group(4)}"
            meta = {"page": page + 1}
            yield self.request(urljoin(response.url, name), self.parse_list, "listing", meta=meta)
