"""One replica portal's content: every page it serves, built from the plan and the truth."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from replica import narrative, pages
from replica.pdf import text_pdf
from replica.plan import PlanPublisher, data_text, load_plan, numbers
from replica.records import MODULE_PATH, Portal, Report
from replica.truth import load_truth

PER_PAGE = 15
SHANGHAI = timezone(timedelta(hours=8))
HTML_UTF8 = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """A response body with what conditional requests need."""

    body: bytes
    content_type: str
    last_modified: float | None = None  # epoch seconds

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def epoch(published_at: str) -> float:
    """'YYYY-MM-DDTHH:MM' in Asia/Shanghai, as epoch seconds."""
    return datetime.fromisoformat(published_at).replace(tzinfo=SHANGHAI).timestamp()


def _html(text: str, encoding: str, last_modified: float | None = None) -> Page:
    ctype = f"text/html; charset={pages.charset_label(encoding)}"
    return Page(pages.encode(text, encoding), ctype, last_modified)


def _xml(text: str) -> Page:
    return Page(text.encode("utf-8"), "text/xml; charset=UTF-8")


class Site:
    """The pages of one portal. Immutable: per-server state (revisions) is passed in."""

    def __init__(self, portal_id: str) -> None:
        truth = load_truth()
        self.portal: Portal = truth.portal(portal_id)
        self.docs: dict[str, Report] = {r.url: r for r in truth.reports_of(portal_id)}
        articles = sorted(
            (r for r in self.docs.values() if r.is_article),
            key=lambda r: (r.published_at, r.url),
            reverse=True,  # newest first, as the column lists them
        )
        self.listing: tuple[str, ...] = tuple(pages.record(r) for r in articles)
        self.attachments: dict[str, Report] = {
            r.attachment.rsplit("filename=", 1)[1]: r for r in articles if r.attachment
        }
        self.static: dict[str, Page] = self._static_pages()
        self._rendered: dict[str, Page] = {}

    def _static_pages(self) -> dict[str, Page]:
        column = pages.column_page(self.portal, self.listing[:PER_PAGE], len(self.listing))
        return {
            "/robots.txt": Page(pages.ROBOTS.encode("ascii"), "text/plain; charset=utf-8"),
            "/": _html(pages.home_page(self.portal), "utf-8"),
            "/index.html": _html(pages.home_page(self.portal), "utf-8"),
            self.portal.column_path: _html(column, "utf-8"),
            "/private/drafts.html": _html(pages.private_page(), "utf-8"),
        }

    def document(
        self, key: str, extra: Sequence[str] = (), revised_at: float | None = None
    ) -> Page:
        """A report page (article path, or module path with its query), with any revisions."""
        if not extra:
            if key not in self._rendered:
                self._rendered[key] = self._render(self.docs[key], ())
            return self._rendered[key]
        return self._render(self.docs[key], extra, revised_at)

    def _render(
        self, report: Report, extra: Sequence[str], revised_at: float | None = None
    ) -> Page:
        body = [*report_body(report), *extra]
        modified = max(epoch(report.published_at), revised_at or 0.0)
        if report.layout == "module":
            return _html(
                pages.module_page(report.title, body, report.encoding), report.encoding, modified
            )
        html = pages.article_page(self.portal, report, self._trail(report), body)
        return _html(html, report.encoding, modified)

    def _trail(self, report: Report) -> tuple[str, ...]:
        # 桐乡 files reports under a node per year; 台州 under the publisher's own directory.
        parents, column = self.portal.breadcrumb, self.portal.column_name
        if report.layout == "table":
            return (*parents, column, f"{report.year}年")
        return (*parents, _entry(report).crumb, column)

    @staticmethod
    def module_key(area: str, year: str) -> str:
        return f"{MODULE_PATH}?area={area}&fbtime={year}"

    def module_empty(self) -> Page:
        return _html(pages.module_empty_page(), "utf-8")

    def proxy_page(self, page: int) -> Page:
        """Newer jpage: page N (1-based) of the column's records, with the totals."""
        total = len(self.listing)
        chunk = self.listing[(page - 1) * PER_PAGE : page * PER_PAGE] if page >= 1 else ()
        return _xml(pages.datastore_page(chunk, total, math.ceil(total / PER_PAGE)))

    def proxy_range(self, start: int, end: int) -> Page:
        """Older jpage: records start..end (1-based, inclusive)."""
        chunk = self.listing[max(start, 1) - 1 : max(end, 0)]
        return _xml(pages.datastore_range(chunk))

    def empty_proxy(self) -> Page:
        """What jpage answers for a column or unit it does not know."""
        return _xml(pages.datastore_page((), 0, 0))

    def attachment(self, filename: str) -> Page | None:
        report = self.attachments.get(filename)
        if report is None:
            return None
        return Page(attachment_pdf(report), "application/pdf", epoch(report.published_at))


def _entry(report: Report) -> PlanPublisher:
    return load_plan().entry(report.portal, report.publisher)


@cache
def report_body(report: Report) -> tuple[str, ...]:
    """The paragraphs of a report's body, as div#zoom shows them."""
    if report.seed:
        return seed_paragraphs(report.seed)
    entry = _entry(report)
    pub = entry.publisher
    title_name = entry.attr("title_name", report.year) or pub.name
    author = f"{pub.name}办公室" if pub.kind == "government" else title_name
    we = narrative.self_reference(title_name, pub.kind)
    identity = f"{pub.portal}|{pub.name}|{report.year}"
    body = narrative.paragraphs(numbers(entry, report.year), author, we, report.gbk_probe, identity)
    if report.layout == "module" and report.year <= 2018:
        # The module's older reports start with the title and the date; newer ones do not.
        body = [report.title, f"发布时间:{report.published_date}", *body]
    return tuple(body)


@cache
def seed_paragraphs(seed: str) -> tuple[str, ...]:
    """A seed's text less the breadcrumb/metadata lines the page template prints itself."""
    cfg = load_plan().seeds[seed]
    lines = data_text(f"seeds/{cfg['file']}").splitlines()
    head, tail = cfg.get("head_lines", 0), cfg.get("tail_lines", 0)
    lines = lines[head : len(lines) - tail]
    return tuple(s for line in lines if (s := line.strip()))


def attachment_pdf(report: Report) -> bytes:
    """The statistics attachment of a report: ASCII text in a one-page PDF."""
    figures = dict(report.figures)
    return text_pdf(
        [
            "Statistics attachment (replica)",
            f"Index number: {report.index_no}",
            f"Report year: {report.year}",
            f"Proactive disclosures: {figures.get('headline.proactive_total', 0)}",
            f"Applications received: {figures.get('headline.applications_received', 0)}",
        ]
    )
