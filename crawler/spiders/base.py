"""What every family spider shares: turning a response into a capture, and link discovery."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.config import PortalConfig
from crawler.items import CaptureItem

# Attachments a report may keep its tables in (portals.md: downfile.jsp → 302 → /attach/…).
ATTACHMENT_HREF = re.compile(
    r"""href\s*=\s*["']([^"']*(?:downfile\.jsp[^"']*|\.(?:pdf|docx?|xlsx?|wps|et)(?:\?[^"']*)?))["']""",
    re.IGNORECASE,
)
# 4xx/5xx reach the callbacks to be archived as evidence (a 404 where a report was is a finding);
# 3xx are left out because `handle_httpstatus_all` would also stop Scrapy following redirects.
ERROR_STATUSES = list(range(400, 600))


class FamilySpider(scrapy.Spider):
    """Base of the family spiders: a portal from settings, captures out, nothing parsed."""

    def __init__(self, portal: PortalConfig, **kwargs: Any) -> None:
        super().__init__(name=f"{portal.family}:{portal.id}", **kwargs)
        self.portal = portal
        self.allowed_domains: list[str] = []  # base_url may be any host, loopback replicas included

    def request(self, url: str, callback: Any, kind: str, **kwargs: Any) -> scrapy.Request:
        """A request whose final response reaches `callback` even when it is an error status."""
        meta = {"kind": kind, "handle_httpstatus_list": ERROR_STATUSES, **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def capture(self, response: Response, kind: str | None = None) -> CaptureItem:
        """The response as an archive item: original URL, final URL, exact bytes and headers."""
        redirects = response.meta.get("redirect_urls") or [response.url]
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        )
        content_type = response.headers.get("Content-Type")
        return CaptureItem(
            portal=self.portal.id,
            url=redirects[0],
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=datetime.now(UTC),
            kind=kind or response.meta["kind"],
            parent_url=response.meta.get("parent_url"),
            content_type=content_type.decode("latin-1") if content_type else None,
        )

    def attachment_requests(self, response: Response) -> Iterator[scrapy.Request]:
        """Requests for the attachment links on a report page, each tied to its parent page."""
        if response.status != 200 or not _is_html(response):
            return
        for href in dict.fromkeys(ATTACHMENT_HREF.findall(response.text)):
            yield self.request(
                urljoin(response.url, href.replace("&amp;", "&")),
                self.parse_attachment,
                "attachment",
                meta={"parent_url": response.url},
            )

    def parse_report(self, response: Response) -> Iterator[Any]:
        """An article or annual-report module page: archive it and follow its attachments."""
        yield self.capture(response)
        yield from self.attachment_requests(response)

    def parse_attachment(self, response: Response) -> Iterator[CaptureItem]:
        """An attachment: archive the bytes; their type is decided later, from the bytes."""
        yield self.capture(response)

    def count(self, key: str, by: int = 1) -> None:
        """Add to a crawl statistic; the worker reads them into the run record."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, by)

    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (after retries): count it, log it, keep crawling."""
        self.count("nianbao/errors")
        self.logger.warning("fetch failed: %s: %s", failure.request.url, failure.getErrorMessage())  # type: ignore[attr-defined]


def _is_html(response: Response) -> bool:
    if not isinstance(response, TextResponse):
        return False
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
    return "html" in content_type or response.body[:512].lstrip().lower().startswith(
        (b"<!doctype", b"<html")
    )
