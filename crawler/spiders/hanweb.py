"""Hanweb 大汉 JCMS: column page → embedded records → dataproxy pages → articles → attachments,
plus the annual-report module. Layout facts are in docs/portals.md and the replica portals."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.selectors import LayoutChanged, select_many, select_optional
from crawler.spiders.base import FamilySpider

RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
RECORD_HREF = re.compile(r"""<a\b[^>]*?href\s*=\s*["']([^"']+)["']""", re.I)
NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href\s*=\s*[\"']([^\"']+)[\"']", re.S | re.I)
TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)
TOTAL_RECORD = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
# The older POST endpoint answers several pages per call (jpage's groupSize, 3 on every site seen).
PAGES_PER_CALL = 3
POST_FIELDS = {"col": "1", "appid": "1", "sourceContentType": "1"}


class HanwebSpider(FamilySpider):
    """Crawls one Hanweb portal from its settings row."""

    async def start(self) -> Any:
        for path in self.portal.entry_points:
            yield self.request(self.portal.url(path), self.parse_column, "listing")
        if self.portal.annual_report is not None:
            for url in self.portal.annual_report.urls(self.portal.base_url):
                yield self.request(url, self.parse_report, "module")

    def parse_column(self, response: Response) -> Iterator[Any]:
        """A column page: its embedded records, then the dataproxy pages for the rest."""
        yield self.capture(response)
        if response.status != 200 or not isinstance(response, TextResponse):
            raise LayoutChanged(self.portal.id, "column page", response.url, 0, "HTTP 200 HTML")
        yield from self.follow_records(response, min_records=1)
        proxy = select_optional(NEXTGROUP, response.text)
        if proxy is None:
            return
        proxy_url = urljoin(response.url, proxy.replace("&amp;", "&"))
        if "/module/web/jpage/" in proxy_url:
            yield self.request(proxy_url, self.parse_proxy_page, "listing")
        else:
            yield from self.post_proxy_requests(response, proxy_url)

    def parse_proxy_page(self, response: Response) -> Iterator[Any]:
        """The newer GET dataproxy: records of page N; page 1 tells how many pages there are."""
        yield self.capture(response)
        yield from self.follow_records(response, min_records=1)
        query = dict(parse_qsl(urlsplit(response.url).query))
        if query.get("page") != "1":
            return
        pages = int(select_optional(TOTAL_PAGES, response.text) or "1")
        for page in range(2, pages + 1):
            url = response.url.replace("page=1", f"page={page}", 1)
            yield self.request(url, self.parse_proxy_page, "listing")

    def post_proxy_requests(self, column: Response, proxy_url: str) -> Iterator[Any]:
        """The older POST dataproxy: record ranges up to the page script's totalRecord."""
        text = column.text
        total = int(select_many(TOTAL_RECORD, text, portal=self.portal.id, url=column.url)[0])
        per_page = int(select_optional(PER_PAGE, text) or "15")
        step = per_page * PAGES_PER_CALL
        split = urlsplit(proxy_url)
        form = {**dict(parse_qsl(split.query)), **POST_FIELDS}
        form.pop("page", None)
        endpoint = f"{split.scheme}://{split.netloc}{split.path}"
        for call in range(math.ceil(total / step)):
            start, end = call * step + 1, min((call + 1) * step, total)
            query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
            yield self.request(
                f"{endpoint}?{query}",
                self.parse_proxy_records,
                "listing",
                method="POST",
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )

    def parse_proxy_records(self, response: Response) -> Iterator[Any]:
        """One answer of the older POST dataproxy: a batch of records, nothing else."""
        yield self.capture(response)
        yield from self.follow_records(response, min_records=1)

    def follow_records(self, response: Response, min_records: int) -> Iterator[Any]:
        """Requests for every record's link; fewer than `min_records` means the layout moved."""
        if response.status != 200 or not isinstance(response, TextResponse):
            self.count("nianbao/listing_errors")
            return
        records = select_many(
            RECORD, response.text, portal=self.portal.id, url=response.url, min=min_records
        )
        self.count("nianbao/listing_records", len(records))
        for record in records:
            href = select_optional(RECORD_HREF, record)
            if href:
                yield self.request(urljoin(response.url, href), self.parse_report, "article")
