"""`nianbao portals check`: crawl a portal's first listing pages with its family spider, politely
(robots.txt, the delay, one request at a time, crawler.hosts), and say what nianbao understood.

The crawl runs in its own process (`python -m crawler.probe`, a CrawlJob as JSON on stdin, the
report as one JSON line on stdout), as crawls do (crawler/process.py): Scrapy's reactor cannot
restart. No pipeline runs, so nothing reaches the archive: `ProbeRecorder`, a spider middleware,
takes the captures, lets through a handful of requests (`QUOTAS`) and reads a few record pages
with the parsers' public API (title, year, whether a report was recognised).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.items import CaptureItem
from crawler.job import CrawlJob
from crawler.process import die_with_parent
from crawler.settings import scrapy_settings
from crawler.spiders import SPIDERS, hanweb, trs
from crawler.spiders.base import FamilySpider
from crawler.worker import listings
from parsers import parse_bytes

# Requests let through, by kind: four listing pages (the entry points first), three records, two
# module pages, no attachment. robots.txt is asked for besides.
QUOTAS = {"listing": 4, "article": 3, "module": 2, "attachment": 0}
TIMEOUT_SECONDS = 300.0
# createPageHTML(5, …) or createPageHTML('page_div', 5, …): the count written as a number.
LITERAL_PAGER = re.compile(r"""createPageHTML\s*\(\s*(?:['"][^'"]*['"]\s*,\s*)?\d""")
# What a family's listing pages carry (docs/portals.md): which family a page that the portal's
# spider cannot read looks like.
MARKERS = {
    "hanweb": re.compile(r"<datastore>|jpaas-publish-server|/module/web/jpage/|/col/col\d+/", re.I),
    "trs": re.compile(r"createPageHTML|\bcountPage\b|/t\d{8}_\d+\.s?html?\b", re.I),
}
# The recorder of this process's probe crawl (one crawl per process).
RECORDERS: list[ProbeRecorder] = []


class ProbeRecorder(BaseSpiderMiddleware):
    """Records what the family spider makes of each page, and keeps the crawl to QUOTAS."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.family = crawler.settings.get("NIANBAO_FAMILY")
        self.report: dict[str, Any] = {
            "listings": [],
            "records": [],
            "modules": [],
            "pager": None,
            "looks_like": None,
            "left": dict.fromkeys(QUOTAS, 0),
        }
        self.sent = dict.fromkeys(QUOTAS, 0)
        self.by_url: dict[str, dict[str, Any]] = {}
        RECORDERS.append(self)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        kind = request.meta.get("kind", "other")
        source = self.by_url.get(response.url) if isinstance(response, Response) else None
        if source is not None and kind in ("article", "listing"):
            source["records" if kind == "article" else "next_pages"] += 1
        if self.sent.get(kind, 0) >= QUOTAS.get(kind, 0):
            self.report["left"][kind] = self.report["left"].get(kind, 0) + 1
            return None
        self.sent[kind] = self.sent.get(kind, 0) + 1
        return request

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if not isinstance(item, CaptureItem):
            return item
        seen = {
            "url": item.url,
            "status": item.status,
            "outcome": item.outcome,
            "finding": item.finding,
        }
        if item.kind == "listing":
            entry = {**seen, "records": 0, "next_pages": 0}
            self.report["listings"].append(entry)
            self.by_url[item.final_url] = entry
            if isinstance(response, Response) and item.outcome == "ok" and item.encoding:
                # The text the spider read the page as (decoded once, as the archive reads it).
                spider = self.crawler.spider
                assert isinstance(spider, FamilySpider)  # the probe runs family spiders only
                text = spider.text(response)
                self.read_pager(response, text)
                if self.report["looks_like"] is None:
                    found = [f for f, marker in MARKERS.items() if marker.search(text)]
                    self.report["looks_like"] = found
        elif item.kind in ("article", "module"):
            key = "records" if item.kind == "article" else "modules"
            self.report[key].append({**seen, "listed_title": item.listed_title, **read(item)})
        return None

    def read_pager(self, response: Response, text: str) -> None:
        """The pager as the family reads it; a later answer that tells the page count wins."""
        callback = getattr(response.request.callback, "__name__", "") if response.request else ""
        found = pager_of(self.family, callback, text, response.meta)
        known = self.report["pager"]
        if found is not None and (known is None or known["pages"] is None or found["pages"]):
            self.report["pager"] = found


def read(item: CaptureItem) -> dict[str, Any]:
    """Title, year and whether a report was recognised, as the parsers read the page."""
    if item.outcome != "ok" or not item.body:
        return {"title": None, "year": None, "is_report": None, "publisher": None}
    try:
        parsed = parse_bytes(item.body, item.content_type, item.url)
    except Exception as exc:  # any parser failure is what the user should see, not a crash
        return {"title": None, "year": None, "is_report": None, "error": f"{exc}"[:200]}
    return {
        "title": parsed.title,
        "year": parsed.report_year,
        "is_report": parsed.is_report,
        "publisher": parsed.publisher,
    }


def pager_of(family: str, callback: str, text: str, meta: Any) -> dict[str, Any] | None:
    """{"pages": N or None, "how": …} from one listing answer, or None when it tells nothing."""
    if family == "trs" and int(meta.get("page", 0)) == 0:
        return trs_pager(text)
    if family == "hanweb":
        return hanweb_pager(callback, text)
    if family == "generic" and callback == "parse_list" and meta.get("first"):
        return {
            "pages": None,
            "how": "next listing page: the first link matching next_page_pattern",
        }
    return None


def trs_pager(text: str) -> dict[str, Any]:
    """How crawler.spiders.trs reads the page count of a TRS column."""
    found = trs.page_count(text)
    if found is None:
        return {"pages": None, "how": trs.PROBED}
    count = found[0]
    if trs.pager_call(text) is not None:
        literal = LITERAL_PAGER.search(text) is not None
        how = "createPageHTML's " + ("arguments" if literal else "variables (countPage)")
    elif any(isinstance(trs.variable(text, v), int) for v in trs.COUNT_VARIABLES):
        how = "the pager script's variable countPage"
    else:
        how = "the pager's links (index_N)"
    return {"pages": count, "how": how}


def hanweb_pager(callback: str, text: str) -> dict[str, Any] | None:
    """How crawler.spiders.hanweb pages a column: which endpoint, and the count it tells."""
    if callback == "parse_column":
        if hanweb.first_tag(text, "script", hanweb.UNIT) is not None:
            return {"pages": None, "how": "jpaas list unit (pageNo=N)"}
        proxy = hanweb.next_group(text)
        if proxy is None:
            return {"pages": 1, "how": "no <nextgroup>: the column page's records only"}
        if "/module/web/jpage/" in proxy:
            return {"pages": None, "how": "GET dataproxy.jsp?page=N (totalpage in its answer)"}
        total = hanweb.select_optional(hanweb.TOTAL_RECORD, text)
        per = int(hanweb.select_optional(hanweb.PER_PAGE, text) or "15")
        pages = math.ceil(int(total) / per) if total else None
        return {"pages": pages, "how": f"POST dataproxy.jsp (totalRecord:{total}, perPage:{per})"}
    if callback == "parse_proxy_page":
        total = hanweb.select_optional(hanweb.TOTAL_PAGES, text)
        how = "GET dataproxy.jsp?page=N (totalpage in its answer)"
        return {"pages": int(total) if total else None, "how": how}
    if callback == "parse_jpaas":
        numbers = [int(p) for p in hanweb.PAGER.findall(text)]
        how = "jpaas list unit (its data-page pager, else pageNo=N until a page lists nothing)"
        return {"pages": max(numbers) if numbers else None, "how": how}
    return None


def verdict(job: CrawlJob, report: dict[str, Any]) -> tuple[bool, str]:
    """Whether nianbao reads the portal, and why not."""
    fetched, errors = report["listings"], report["errors"]
    if not listings(job):
        if any(m["outcome"] == "ok" for m in report["modules"]):
            return True, "reads it"
        return False, errors[0] if errors else "no module page answered"
    if not fetched:
        if report["robots_denied"]:
            return False, "robots.txt disallows the listing"
        return False, "the listing did not answer"
    first = fetched[0]
    if first["outcome"] != "ok":
        why = f": {first['finding']}" if first["finding"] else ""
        return False, f"the listing answered {first['status']} ({first['outcome']}{why})"
    if errors or not sum(entry["records"] for entry in fetched):
        family = job.portal.family
        why = f"the {family} spider found no record on the listing"
        why += f" ({errors[0]})" if errors else ""
        others = [f for f in report["looks_like"] or () if f != family]
        if others and family not in (report["looks_like"] or ()):
            why += f"; the page looks like a {others[0]} portal's (family = {others[0]!r}?)"
        return False, why
    return True, "reads it"


def probe(job: CrawlJob) -> dict[str, Any]:
    """Run the probe crawl in this process; the report as a dict."""
    settings = scrapy_settings(job, 0)
    for key in ("NIANBAO_DATABASE_URL", "NIANBAO_BLOB_DIR", "NIANBAO_RUN_ID"):
        settings.pop(key)
    settings |= {
        "ITEM_PIPELINES": {},  # nothing is archived
        "SPIDER_MIDDLEWARES": {**settings["SPIDER_MIDDLEWARES"], "crawler.probe.ProbeRecorder": 10},
        "NIANBAO_FAMILY": job.portal.family,
        "LOG_LEVEL": "WARNING",
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SPIDERS[job.portal.family])
    errors: list[str] = []

    def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
        errors.append(str(failure.value))

    # Signals hold their receivers weakly: a lambda would be collected before the crawl.
    crawler.signals.connect(on_spider_error, signal=signals.spider_error)
    process.crawl(crawler, portal=job.portal, known={}, full=True)
    process.start()
    recorder = RECORDERS[-1]
    stats = crawler.stats.get_stats() if crawler.stats else {}
    report = recorder.report | {
        "portal": job.portal.id,
        "family": job.portal.family,
        "base_url": job.portal.base_url,
        "errors": errors,
        "requests": int(stats.get("downloader/request_count", 0)),
        "robots_denied": int(stats.get("nianbao/robots_denied", 0)),
        "offsite_refused": int(stats.get("nianbao/offsite_refused", 0)),
    }
    readable, why = verdict(job, report)
    return report | {"readable": readable, "why": why}


class ProbeFailed(Exception):
    """The probe process died or said nothing."""


def run_probe(job: CrawlJob, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """`python -m crawler.probe` for one portal; its report."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.probe"],
            input=job.to_json().encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=die_with_parent(),
        )
    except subprocess.TimeoutExpired:
        raise ProbeFailed(f"check of {job.portal.id} took over {timeout:g} s") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ProbeFailed(
            f"check of {job.portal.id} exited {done.returncode}: {err[-1] if err else ''}"
        )
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def main() -> None:
    job = CrawlJob.from_json(sys.stdin.read())
    # Run as `python -m crawler.probe` this module is __main__; Scrapy loads the recorder from
    # crawler.probe, whose RECORDERS is the list to read.
    from crawler import probe as module

    print(json.dumps(module.probe(job), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
