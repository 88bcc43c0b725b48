"""Hanweb 大汉 JCMS: column page → embedded records → the rest of the list through one of three
endpoints (GET dataproxy page=N, the older POST dataproxy record ranges, or the jpaas JSON API)
→ articles → attachments; plus the annual-report module. Layout facts: docs/portals.md."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.links import Link, anchors, between, first_tag
from crawler.selectors import LayoutChanged, match_many, select_many, select_one, select_optional
from crawler.spiders.base import FamilySpider

# The datastore XML is read with these regexes, never with an XML parser: a hostile answer's DTD
# (a billion laughs, external entities naming file:///etc/passwd or a URL) stays inert text, with
# nothing expanded and nothing fetched (tests/test_faults.py).
# Each is found in linear time (crawler.links): `<record><![CDATA[(.*?)]]></record>` as one regex
# rescans to the end from every record a hostile answer leaves open (10 s at 90 KB).
RECORD_START = re.compile(r"<record>\s*<!\[CDATA\[")
RECORD_END = re.compile(r"\]\]>\s*</record>")
RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)  # its name in errors
NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[", re.I)
QUOTED_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)
TOTAL_RECORD = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
# The older POST endpoint answers several pages per call (jpage's groupSize, 3 on every site seen).
PAGES_PER_CALL = 3
POST_FIELDS = {"col": "1", "appid": "1", "sourceContentType": "1"}
# A jpaas column page declares its list unit on a script tag: url="…/build/unit" queryData="{…}"
# (single-quoted JSON: webId, tplSetId, pageType, tagId, pageId, …); pages are asked by pageNo=N.
UNIT = "jpaas-publish-server/front/page/build/unit"
UNIT_URL = re.compile(r"""\burl\s*=\s*["']([^"']+)["']""", re.I)
QUERY_DATA = re.compile(r"""\bqueryData\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
QUERY_PAIR = re.compile(r"""['"](\w+)['"]\s*:\s*['"]([^'"]*)['"]""")
PAGER = re.compile(r"""data-page\s*=\s*["']?(\d+)""", re.I)
# An annual-report module page given as an entry point (interface.md allows it): one report page,
# crawled as the `annual_report` setting's pages are, never read as a column.
MODULE_PAGE = re.compile(r"/module/xxgk/xxgkAnnualReport\.jsp$", re.I)


def is_module_page(url: str) -> bool:
    """Whether `url` (absolute, or a site path) is a page of the annual-report module."""
    return bool(MODULE_PAGE.search(urlsplit(url).path))


def records(text: str) -> list[str]:
    """The CDATA of each `<record>` of a datastore."""
    return between(text, RECORD_START, RECORD_END)


def record_links(text: str) -> list[Link]:
    """The first link of each `<record>` of a datastore."""
    return [found[0] for record in records(text) if (found := anchors(record))]


def next_group(text: str) -> str | None:
    """The href after `<nextgroup><![CDATA[`: where the rest of the list is served."""
    start = NEXTGROUP.search(text)
    href = QUOTED_HREF.search(text, start.end()) if start else None
    return href.group(1) if href else None


def expect_records(text: str, portal: str, url: str, min: int) -> None:
    """At least `min` records, or LayoutChanged naming the record selector."""
    match_many(records(text), selector=RECORD.pattern, portal=portal, url=url, min=min)


def with_query(url: str, **params: Any) -> str:
    """`url` with these query parameters set (others kept, in order)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


class HanwebSpider(FamilySpider):
    """Crawls one Hanweb portal from its settings row."""

    async def start(self) -> Any:
        modules = [self.portal.url(p) for p in self.portal.entry_points if is_module_page(p)]
        for path in self.portal.entry_points:
            if not is_module_page(path):
                yield self.request(self.portal.url(path), self.parse_column, "listing")
        if self.portal.annual_report is not None:
            modules += self.portal.annual_report.urls(self.portal.base_url)
        for url in dict.fromkeys(modules):
            yield self.request(url, self.parse_report, "module")

    def parse_column(self, response: Response) -> Iterator[Any]:
        """A column page: its embedded records, then the endpoint that serves the rest."""
        if not (yield from self.open_listing(response)):
            return
        text = self.text(response)
        unit = first_tag(text, "script", UNIT)
        links = record_links(text)
        if unit is None:  # a jpaas column embeds no records: its unit script serves them
            match_many(links, selector=RECORD.pattern, portal=self.portal.id, url=response.url)
        yield from self.follow_records(response, links)
        proxy = next_group(text)
        if unit is not None:
            yield from self.jpaas_page(response, unit, 1)
        elif proxy is not None and self.more_pages():
            proxy_url = urljoin(response.url, html.unescape(proxy))
            if "/module/web/jpage/" in proxy_url:
                yield self.request(proxy_url, self.parse_proxy_page, "listing", meta={"page": 1})
            else:
                yield from self.post_call(self.post_job(response, proxy_url), 0)

    def parse_proxy_page(self, response: Response) -> Iterator[Any]:
        """The newer GET dataproxy: records of page N; each page tells how many there are."""
        if not (yield from self.open_listing(response)):
            return
        page = int(response.meta["page"])
        text = self.text(response)
        expect_records(text, self.portal.id, response.url, int(page == 1))
        yield from self.follow_records(response, record_links(text))
        if page < int(select_optional(TOTAL_PAGES, text) or page) and self.more_pages():
            next_url = with_query(response.url, page=page + 1)
            yield self.request(next_url, self.parse_proxy_page, "listing", meta={"page": page + 1})

    def post_job(self, column: Response, proxy_url: str) -> dict[str, Any]:
        """The older POST dataproxy's parameters, from the column page's jpage script."""
        text = self.text(column)
        total = int(select_many(TOTAL_RECORD, text, portal=self.portal.id, url=column.url)[0])
        per_page = int(select_optional(PER_PAGE, text) or "15")
        split = urlsplit(proxy_url)
        form = {**dict(parse_qsl(split.query)), **POST_FIELDS}
        form.pop("page", None)
        endpoint = f"{split.scheme}://{split.netloc}{split.path}"
        return {"endpoint": endpoint, "form": form, "total": total, "per_page": per_page}

    def post_call(self, job: dict[str, Any], call: int) -> Iterator[Any]:
        """Call `call` of the POST dataproxy: the next PAGES_PER_CALL pages of records."""
        step = job["per_page"] * PAGES_PER_CALL
        if call >= math.ceil(job["total"] / step):
            return
        start, end = call * step + 1, min((call + 1) * step, job["total"])
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": job["per_page"]})
        yield self.request(
            f"{job['endpoint']}?{query}",
            self.parse_proxy_records,
            "listing",
            method="POST",
            body=urlencode(job["form"]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            meta={"job": job, "call": call},
        )

    def parse_proxy_records(self, response: Response) -> Iterator[Any]:
        """One answer of the older POST dataproxy: a batch of records."""
        if not (yield from self.open_listing(response)):
            return
        expect_records(self.text(response), self.portal.id, response.url, 1)
        yield from self.follow_records(response, record_links(self.text(response)))
        if self.more_pages():
            yield from self.post_call(response.meta["job"], response.meta["call"] + 1)

    def jpaas_page(self, column: Response, script: str, page: int) -> Iterator[Any]:
        """A request for page `page` of a jpaas list unit."""
        where = {"portal": self.portal.id, "url": column.url}
        unit = select_one(UNIT_URL, script, **where)
        data = select_one(QUERY_DATA, script, **where)
        query = dict(QUERY_PAIR.findall(html.unescape(data)))
        url = urljoin(column.url, unit) + "?" + urlencode({"parseType": "bulidstatic", **query})
        yield self.request(
            with_query(url, pageNo=page), self.parse_jpaas, "listing", meta={"page": page}
        )

    def parse_jpaas(self, response: Response) -> Iterator[Any]:
        """One page of the jpaas API: `{"success": true, "data": {"html": "<li>…"}}`."""
        if not (yield from self.open_listing(response)):
            return
        page = int(response.meta["page"])
        try:
            fragment = str(json.loads(self.text(response))["data"]["html"])
        except (ValueError, KeyError, TypeError):
            raise LayoutChanged(self.portal.id, "data.html", response.url, 0, "1") from None
        links = anchors(fragment)
        if page == 1:
            match_many(
                links, selector="a[href] in data.html", portal=self.portal.id, url=response.url
            )
        yield from self.follow_records(response, links)
        pager = {int(p) for p in PAGER.findall(fragment)}
        if links and (page + 1 in pager or not pager) and self.more_pages():
            yield self.request(
                with_query(response.url, pageNo=page + 1),
                self.parse_jpaas,
                "listing",
                meta={"page": page + 1},
            )
