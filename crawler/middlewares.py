"""Scrapy components for the real web's manners: retries that back off, a per-file size limit, and
no fetch outside the portal's hosts (crawler.hosts), whether a page links there or redirects."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from w3lib.url import safe_url_string

from crawler.hosts import HostPolicy
from crawler.outcomes import OffsiteRefused

MAX_BACKOFF = 300.0  # seconds; a Retry-After asking for longer is capped here
NOT_BEFORE = "nianbao_not_before"
REDIRECTS = frozenset({301, 302, 303, 307, 308})  # the statuses RedirectMiddleware follows


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries on 429, 5xx and timeouts, spaced out: retry n of a request waits
    `base × 2^(n-1)` seconds, or as long as the server's Retry-After asks if that is longer.

    The wait happens before the request enters its host's download slot, so the other requests
    to the host go on meanwhile (one at a time, as ever).
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("NIANBAO_RETRY_BACKOFF", 2.0)

    def process_request(self, request: Request) -> Deferred[None] | None:
        wait = request.meta.get(NOT_BEFORE, 0.0) - time.monotonic()
        if wait <= 0:
            return None
        return deferLater(reactor, wait, lambda: None)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if response.status in self.retry_http_codes:
            request.meta["nianbao_retry_after"] = retry_after(response)
        return super().process_response(request, response)

    def _retry(self, request: Request, reason: Any) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            backoff = self.base * 2 ** (retry.meta["retry_times"] - 1)
            wait = min(MAX_BACKOFF, max(backoff, request.meta.pop("nianbao_retry_after", 0.0)))
            retry.meta[NOT_BEFORE] = time.monotonic() + wait
        return retry


def retry_after(response: Response) -> float:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date); 0 when absent."""
    value = (response.headers.get("Retry-After") or b"").decode("latin-1").strip()
    if not value:
        return 0.0
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


class FileSizeLimit:
    """Stops a download past `NIANBAO_MAX_FILE_BYTES`: the response reaches its callback flagged
    `download_stopped`, with its status and headers, and is recorded as too large, not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FileSizeLimit:
        limit = crawler.settings.getint("NIANBAO_MAX_FILE_BYTES")
        if limit <= 0:
            raise NotConfigured
        ext = cls(limit)
        crawler.signals.connect(ext.headers_received, signal=signals.headers_received)
        crawler.signals.connect(ext.bytes_received, signal=signals.bytes_received)
        return ext

    def headers_received(
        self, headers: Any, body_length: int, request: Request, spider: Any
    ) -> None:
        if body_length > self.limit:
            raise StopDownload(fail=False)

    def bytes_received(self, data: bytes, request: Request, spider: Any) -> None:
        got = request.meta.get("nianbao_received", 0) + len(data)
        request.meta["nianbao_received"] = got
        if got > self.limit:
            raise StopDownload(fail=False)


class _PortalHosts:
    """A downloader middleware that knows the portal's hosts (`NIANBAO_BASE_URL`,
    `NIANBAO_ALLOWED_HOSTS`, crawler.hosts)."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        base_url = crawler.settings.get("NIANBAO_BASE_URL")
        if not base_url:
            raise NotConfigured
        hosts = tuple(crawler.settings.getlist("NIANBAO_ALLOWED_HOSTS"))
        return cls(HostPolicy.of(base_url, hosts))


class OffsiteRequests(_PortalHosts):
    """Refuses every request to a host outside the portal's before anything else sees it,
    robots.txt included: record links, attachments, pagers, module pages, and any redirect hop
    that got this far."""

    def process_request(self, request: Request) -> None:
        if not self.policy.allows(request.url):
            what = "redirect" if request.meta.get("redirect_urls") else "link"
            raise OffsiteRefused(f"{what} to another host {request.url}")


class OffsiteRedirects(_PortalHosts):
    """Sees each 3xx before Scrapy's RedirectMiddleware does, and refuses one whose target is
    outside the portal's hosts: the redirect is recorded (crawler.spiders.base.on_error) and
    its target never requested."""

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or not location:
            return response
        # The target as RedirectMiddleware computes it (scheme-relative and relative alike).
        target = safe_url_string(location)
        if location.startswith(b"//"):
            target = request.url.split(":", 1)[0] + "://" + target.lstrip("/")
        target = urljoin(request.url, target)
        if target.split(":", 1)[0].lower() in ("http", "https") and not self.policy.allows(target):
            raise OffsiteRefused(f"redirect to another host {target}", response)
        return response
