"""Portals on neither CMS, configured only by settings: `entry_points` (the first listing pages),
`record_selector` (CSS: where a listing page's record links are; default the whole page),
`article_pattern` (a regex every report page's URL matches) and `next_page_pattern` (a regex the
URL of a further listing page matches). A new such portal is a settings row, not code."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.config import PortalConfig
from crawler.links import anchors
from crawler.selectors import match_many
from crawler.spiders.base import FamilySpider


class GenericSpider(FamilySpider):
    """Crawls a portal described by selectors and URL patterns."""

    def __init__(self, portal: PortalConfig, **kwargs: Any) -> None:
        super().__init__(portal, **kwargs)
        self.next_re = re.compile(portal.next_page_pattern) if portal.next_page_pattern else None
        self.pages: set[str] = set()

    async def start(self) -> Any:
        for path in self.portal.entry_points:
            url = self.portal.url(path)
            self.pages.add(url)
            yield self.request(url, self.parse_list, "listing", meta={"first": True})

    def parse_list(self, response: Response) -> Iterator[Any]:
        """A listing page: its report links, then the next listing page not seen yet."""
        if not (yield from self.open_listing(response)):
            return
        links = self.listing_links(response, None)
        if response.meta.get("first"):
            where = self.portal.record_selector or "the page"
            selector = f"{self.article_re} in {where}"
            match_many(links, selector=selector, portal=self.portal.id, url=response.url)
        yield from self.follow_records(response, links)
        following = self.next_page(response)
        if following is not None and self.more_pages():
            self.pages.add(following)
            yield self.request(following, self.parse_list, "listing")

    def next_page(self, response: Response) -> str | None:
        """The first link to a listing page not fetched yet (pagers list pages in order)."""
        if self.next_re is None:
            return None
        for href, _title in anchors(self.text(response)):
            url = urljoin(response.url, html.unescape(href))
            if self.next_re.search(url) and url not in self.pages:
                return url
        return None
