"""What every family spider shares: captures with their outcome, record links, incremental paging,
conditional re-fetches of known pages, and attachments. A family spider only knows its layouts."""

from __future__ import annotations

import html
import re
import weakref
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import Selector
from scrapy.http import Response
from twisted.python.failure import Failure

from archive.captures import LastFetch, is_text
from crawler.config import DEFAULT_OVERLAP, PortalConfig
from crawler.headers import capped_headers
from crawler.items import CaptureItem
from crawler.links import Link, anchors, attachment_hrefs
from crawler.outcomes import TOO_LARGE, OffsiteRefused, Outcome, classify, unanswered
from parsers.decode import decode_html, header_charset
from parsers.model import Decoded

# What an attachment link's bytes contain; most report pages have none of them.
ATTACHMENT_HINTS = (b"downfile", b".pdf", b".doc", b".xls", b".wps", b".et")
# Every final status reaches the callbacks, to be archived as evidence (a 404 where a report was,
# a 412 challenge); 3xx other than 304 are left out so that Scrapy still follows redirects.
HANDLED_STATUSES = [304, *range(400, 600)]
# Kinds of page re-fetched with the validators of their last capture.
CONDITIONAL_KINDS = ("article", "module", "attachment")


class FamilySpider(scrapy.Spider):
    """Base of the family spiders: a portal from settings, captures out, nothing parsed.

    `known` maps the URLs already archived to their last capture. Unless `full`, paging stops
    once the listings have shown `overlap` known records; known pages are asked for with
    If-None-Match / If-Modified-Since, so an unchanged page costs a 304 and no body.
    """

    def __init__(
        self,
        portal: PortalConfig,
        known: Mapping[str, LastFetch] | None = None,
        full: bool = True,
        overlap: int = DEFAULT_OVERLAP,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"{portal.family}:{portal.id}", **kwargs)
        self.portal = portal
        # Scrapy's offsite check is replaced by crawler.middlewares' (ports, numeric hosts).
        self.allowed_domains: list[str] = []
        self.known: Mapping[str, LastFetch] = known or {}
        self.full, self.overlap = full, overlap
        self.listed: set[str] = set()
        self.known_listed: set[str] = set()
        self.article_re = re.compile(portal.article_pattern) if portal.article_pattern else None
        self.known_attachments: dict[str, list[str]] = {}
        # Each response decoded once, by the archive's decoder (not Scrapy's `response.text`,
        # which reads the charset its own way): its links and its capture's codec come from it.
        self.decoded_pages: weakref.WeakKeyDictionary[Response, Decoded] = (
            weakref.WeakKeyDictionary()
        )
        # Set by crawler.pipeline.ArchivePipeline: where captures go without passing through
        # Scrapy's item machinery. Without it (no pipeline) captures are yielded as items.
        self.archive: Callable[[CaptureItem], Any] | None = None
        for last in self.known.values():
            if last.kind == "attachment" and last.parent_url:
                self.known_attachments.setdefault(last.parent_url, []).append(last.url)

    def request(self, url: str, callback: Any, kind: str, **kwargs: Any) -> scrapy.Request:
        """A request whose final response reaches `callback` even when it is an error status."""
        headers = dict(kwargs.pop("headers", None) or {})
        last = self.known.get(url) if kind in CONDITIONAL_KINDS else None
        if last is not None:
            headers |= validators(last)
        meta = {
            "kind": kind,
            "handle_httpstatus_list": HANDLED_STATUSES,
            "validators_sent": bool(last and validators(last)),
            **kwargs.pop("meta", {}),
        }
        # The spiders ask for each record once (`listed`) and each listing page once (by number),
        # so Scrapy's dupefilter, which canonicalises and hashes every request, is spared.
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta=meta,
            headers=headers,
            dont_filter=True,
            **kwargs,
        )

    def capture(self, response: Response, kind: str | None = None) -> CaptureItem:
        """The response as an archive item: original URL, final URL, exact bytes and headers."""
        kind = kind or response.meta["kind"]
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        verdict = self.judge(response, kind, url, content_type)
        keep = verdict.outcome not in ("not_modified", "too_large")
        text = keep and is_text(content_type, verdict.detected_type)
        headers, cut = capped_headers(response.headers)
        return CaptureItem(
            portal=self.portal.id,
            url=url,
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body if keep else None,
            fetched_at=datetime.now(UTC),
            # A link to x.pdf that answered with an error page is not the report's attachment.
            kind="other" if verdict.outcome == "type_mismatch" else kind,
            parent_url=response.meta.get("parent_url"),
            content_type=content_type,
            outcome=verdict.outcome,
            detected_type=verdict.detected_type,
            finding="; ".join(f for f in (verdict.finding, cut) if f) or None,
            listed_title=response.meta.get("listed_title"),
            encoding=self.decoded(response).encoding if text else None,
        )

    def decoded(self, response: Response) -> Decoded:
        """The response's body as text, decoded as the archive decodes it (parsers.decode:
        BOM, header, meta, then the bytes), once per response."""
        found = self.decoded_pages.get(response)
        if found is None:
            content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
            found = decode_html(response.body, header_charset(content_type))
            self.decoded_pages[response] = found
        return found

    def text(self, response: Response) -> str:
        """The response's text (see `decoded`)."""
        return self.decoded(response).text

    def keep(self, item: CaptureItem) -> tuple[CaptureItem, ...]:
        """Archive `item`: straight to the archive pipeline when there is one (then nothing is
        left to yield), else as an item to yield."""
        if self.archive is None:
            return (item,)
        self.archive(item)
        return ()

    def judge(self, response: Response, kind: str, url: str, content_type: str | None) -> Outcome:
        """What the response turned out to be (crawler.outcomes), a stopped download included."""
        if "download_stopped" in response.flags:
            return Outcome("too_large", finding=TOO_LARGE)
        return classify(
            kind=kind,
            url=url,
            final_url=response.url,
            status=response.status,
            body=response.body,
            content_type=content_type,
            validators_sent=bool(response.meta.get("validators_sent")),
        )

    def open_listing(self, response: Response) -> Generator[Any, None, bool]:
        """Archive a listing page; whether it is a usable page of records to read."""
        item = self.capture(response)
        yield from self.keep(item)
        if item.outcome == "blocked":
            self.count("nianbao/listing_blocked")
        usable = item.outcome == "ok" and item.encoding is not None  # a text body
        if not usable:
            self.count("nianbao/listing_errors")
        return usable

    def listing_links(self, response: Response, default: re.Pattern[str] | None) -> list[Link]:
        """A listing page's record links: the anchors inside `record_selector` (default: the
        whole page) whose absolute URL matches `article_pattern` (default: the family's)."""
        selector = self.portal.record_selector
        text = self.text(response)
        if selector:
            text = "".join(Selector(text=text, base_url=response.url).css(selector).getall())
        pattern = self.article_re or default
        return [
            (href, title)
            for href, title in anchors(text)
            if pattern is None or pattern.search(urljoin(response.url, html.unescape(href)))
        ]

    def follow_records(self, response: Response, links: list[Link]) -> Iterator[scrapy.Request]:
        """Requests for the report pages a listing names, each once, with its listed title."""
        before = len(self.listed)
        for href, title in links:
            url = urljoin(response.url, html.unescape(href.strip()))
            if url in self.listed or not url.startswith(("http://", "https://")):
                continue  # also javascript: pager links
            self.listed.add(url)
            if url in self.known:
                self.known_listed.add(url)
            meta = {"listed_title": title or None, "parent_url": response.url}
            yield self.request(url, self.parse_report, "article", meta=meta)
        self.count("nianbao/listing_records", len(self.listed) - before)

    def more_pages(self) -> bool:
        """Whether to fetch the next listing page: always on a full crawl, else until the
        listings have shown `overlap` records already archived."""
        return self.full or len(self.known_listed) < self.overlap

    def attachment_requests(self, response: Response) -> Iterator[scrapy.Request]:
        """Requests for the attachment links on a report page, each tied to its parent page."""
        # Most report pages link no file: a look at the bytes spares searching the text.
        lowered = response.body.lower()
        if not any(hint in lowered for hint in ATTACHMENT_HINTS):
            return
        for href in dict.fromkeys(attachment_hrefs(self.text(response))):
            url = urljoin(response.url, html.unescape(href))
            if not url.startswith(("http://", "https://")):
                continue  # file:///etc/passwd#.pdf is no attachment of a web page
            yield self.request(
                url,
                self.parse_attachment,
                "attachment",
                meta={"parent_url": response.url},
                # Download servlets (downfile.jsp) often refuse a request from nowhere.
                headers={"Referer": response.url},
            )

    def parse_report(self, response: Response) -> Iterator[Any]:
        """An article or annual-report module page: archive it and follow its attachments."""
        item = self.capture(response)
        yield from self.keep(item)
        if item.outcome == "ok" and item.detected_type == "html":
            yield from self.attachment_requests(response)
        elif item.outcome == "not_modified":
            # The page is unchanged, but a file it links may have been replaced at the same URL.
            for url in self.known_attachments.get(response.url, ()):
                meta, headers = {"parent_url": response.url}, {"Referer": response.url}
                yield self.request(
                    url, self.parse_attachment, "attachment", meta=meta, headers=headers
                )

    def parse_attachment(self, response: Response) -> Iterator[CaptureItem]:
        """An attachment: archive the bytes, with the type the bytes are."""
        yield from self.keep(self.capture(response))

    def count(self, key: str, by: int = 1) -> None:
        """Add to a crawl statistic; the worker reads them into the run record."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, by)

    def on_error(self, failure: Failure) -> Iterator[CaptureItem]:
        """A request that failed for good (after retries): record it with status 0 (no answer),
        so that a page that never answers is evidence too; keep crawling."""
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, OffsiteRefused):
            yield from self.keep(self.refused(request, failure.value))
            return
        verdict = unanswered(failure.value)
        if verdict is None:
            self.count("nianbao/robots_denied")  # robots.txt said no: not an error
            self.logger.info("not fetched (robots.txt): %s", request.url)
            return
        self.logger.warning("fetch failed: %s: %s", request.url, verdict.finding)
        if verdict.outcome == "error":  # a bomb refused at the size limit did answer
            self.count("nianbao/unanswered")
            if request.meta.get("kind") == "listing":
                self.count("nianbao/listing_unanswered")
        yield from self.keep(
            CaptureItem(
                portal=self.portal.id,
                # The link as listed; a redirect loop has moved request.url along the loop.
                url=(request.meta.get("redirect_urls") or [request.url])[0],
                final_url=request.url,
                status=0,
                headers=(),
                body=None,
                fetched_at=datetime.now(UTC),
                kind=request.meta.get("kind", "other"),
                parent_url=request.meta.get("parent_url"),
                outcome=verdict.outcome,
                finding=(verdict.finding or "")[:500],
                listed_title=request.meta.get("listed_title"),
            )
        )

    def refused(self, request: scrapy.Request, refusal: OffsiteRefused) -> CaptureItem:
        """A link or a redirect to another host, never fetched: recorded as an error that names
        the target, on the redirect's own status and headers when it was one."""
        self.count("nianbao/offsite_refused")
        self.logger.info("not fetched: %s (from %s)", refusal, request.meta.get("parent_url"))
        answer = refusal.response
        headers, cut = capped_headers(answer.headers) if answer is not None else ((), None)
        return CaptureItem(
            portal=self.portal.id,
            url=(request.meta.get("redirect_urls") or [request.url])[0],
            final_url=request.url,
            status=answer.status if answer is not None else 0,
            headers=headers,
            body=None,
            fetched_at=datetime.now(UTC),
            kind=request.meta.get("kind", "other"),
            parent_url=request.meta.get("parent_url"),
            outcome="error",
            finding="; ".join(f for f in (f"refused: {refusal}"[:500], cut) if f),
            listed_title=request.meta.get("listed_title"),
        )


def validators(last: LastFetch) -> dict[str, str]:
    """The conditional-request headers a page's last capture allows."""
    sent = {"If-None-Match": last.etag, "If-Modified-Since": last.last_modified}
    return {name: value for name, value in sent.items() if value}
