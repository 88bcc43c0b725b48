"""One replica portal's content: every page it serves, built from the plan and the truth."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from replica import family_pages, narrative, pages
from replica.families import plan_for, truth_for
from replica.faults import CONTENT_TYPES, EXTENSIONS, file_body
from replica.pdf import text_pdf
from replica.plan import PlanPublisher, data_text, load_plan, numbers
from replica.posts import Post, post_pages
from replica.records import MODULE_PATH, Portal, Report

PER_PAGE = 15
SHANGHAI = timezone(timedelta(hours=8))
HTML_UTF8 = "text/html; charset=utf-8"
# A draft a listing links by mistake; robots.txt disallows /private/, so a polite crawler skips it.
PRIVATE_DRAFT = "/private/xxgk/ndbg/content/2025-01/02/content_9999999.shtml"


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


def _html(
    text: str, encoding: str, last_modified: float | None = None, ctype: str | None = None
) -> Page:
    ctype = ctype or f"text/html; charset={pages.charset_label(encoding)}"
    return Page(pages.encode(text, encoding), ctype, last_modified)


def _xml(text: str) -> Page:
    return Page(text.encode("utf-8"), "text/xml; charset=UTF-8")


def content_type(report: Report) -> str:
    """The Content-Type a report page is served with: its own charset, none, or a lying one."""
    if report.charset_header is None:
        return f"text/html; charset={pages.charset_label(report.encoding)}"
    return f"text/html; charset={report.charset_header}" if report.charset_header else "text/html"


class Site:
    """The pages of one portal. Immutable: per-server state (revisions, faults) is passed in."""

    def __init__(self, portal_id: str) -> None:
        truth = truth_for(portal_id)
        self.portal: Portal = truth.portal(portal_id)
        self.config = plan_for(portal_id).portals[portal_id]
        self.docs: dict[str, Report] = {r.url: r for r in truth.reports_of(portal_id)}
        # Non-report posts of the column (data/posts.toml): listed and served, not in the truth.
        self.posts: dict[str, tuple[Report, Post]] = post_pages(
            self.portal, int(self.config.get("docid_base", 0))
        )
        self.served: dict[str, Report] = self.docs | {
            u: page for u, (page, _) in self.posts.items()
        }
        articles = sorted(
            (r for r in self.served.values() if r.is_article),
            key=lambda r: (r.published_at, r.url),
            reverse=True,  # newest first, as the column lists them
        )
        self.listing: tuple[str, ...] = tuple(self._record(r) for r in articles)
        self.attachments: dict[str, Report] = {
            r.attachment.rsplit("filename=", 1)[1]: r for r in articles if r.attachment
        }
        self.files: dict[str, tuple[Report, str]] = {
            path: (r, kind) for r in articles for path, kind in self.report_files(r)
        }
        self.static: dict[str, Page] = self._static_pages()
        self.lists: dict[str, int] = self._list_paths()
        self._rendered: dict[str, Page] = {}

    @property
    def per_page(self) -> int:
        return self.portal.per_page

    def _record(self, report: Report) -> str:
        if self.portal.family == "trs":
            return family_pages.trs_record(self.portal, report)
        if self.portal.family == "generic":
            return family_pages.generic_record(report)
        return pages.record(report)

    def _static_pages(self) -> dict[str, Page]:
        return {
            "/robots.txt": Page(pages.ROBOTS.encode("ascii"), "text/plain; charset=utf-8"),
            "/": _html(pages.home_page(self.portal), "utf-8"),
            "/index.html": _html(pages.home_page(self.portal), "utf-8"),
            "/private/drafts.html": _html(pages.private_page(), "utf-8"),
            PRIVATE_DRAFT: _html(pages.private_page(), "utf-8"),
        }

    def _list_paths(self) -> dict[str, int]:
        """The listing pages' paths, with their 0-based page numbers."""
        portal, count = self.portal, self.list_pages()
        if portal.family == "trs":
            # The folder itself serves its index.html, as the web server does.
            return {portal.list_path: 0} | {
                portal.list_path + (f"index_{n}.html" if n else "index.html"): n
                for n in range(count)
            }
        if portal.family == "generic":
            return {
                portal.list_path + (f"list_{n + 1}.shtml" if n else "list.shtml"): n
                for n in range(count)
            }
        return {portal.column_path: 0}

    def list_pages(self) -> int:
        return max(1, math.ceil(len(self.listing) / self.per_page))

    def list_page(self, number: int, broken: bool = False) -> Page:
        """Listing page `number` (0-based); a `broken` listing shows no records at all."""
        portal, per = self.portal, self.per_page
        chunk = () if broken else self.listing[number * per : (number + 1) * per]
        if portal.family == "trs":
            return _html(
                family_pages.trs_list_page(portal, chunk, number, self.list_pages()), "utf-8"
            )
        if portal.family == "generic":
            if number == 0 and not broken:
                chunk = (*chunk, f"<li><a href='{PRIVATE_DRAFT}' title='草稿'>草稿</a></li>")
            html = family_pages.generic_list_page(portal, chunk, number + 1, self.list_pages())
            return _html(html, "utf-8")
        if portal.paging == "jpaas":
            web_id, tpl = self.config["jpaas_web_id"], self.config["jpaas_tpl_set_id"]
            return _html(family_pages.jpaas_column_page(portal, web_id, tpl), "utf-8")
        total = 0 if broken else len(self.listing)
        return _html(pages.column_page(portal, chunk, total), "utf-8")

    def document(
        self, key: str, extra: Sequence[str] = (), revised_at: float | None = None
    ) -> Page:
        """A report page (article path, or module path with its query), with any revisions."""
        if not extra:
            if key not in self._rendered:
                self._rendered[key] = self._render(self.served[key], ())
            return self._rendered[key]
        return self._render(self.served[key], extra, revised_at)

    def _render(
        self, report: Report, extra: Sequence[str], revised_at: float | None = None
    ) -> Page:
        post = self.posts.get(report.url)
        body = [*(post[1].paragraphs if post else report_body(report)), *extra]
        modified = max(epoch(report.published_at), revised_at or 0.0)
        ctype = content_type(report)
        if report.layout == "module":
            html = pages.module_page(report.title, body, report.encoding)
        elif self.portal.family == "trs":
            links = ["./" + path.rsplit("/", 1)[1] for path, _kind in self.report_files(report)]
            html = family_pages.trs_article(self.portal, report, body, links)
        elif self.portal.family == "generic":
            files = [
                (path, f"{report.title}统计表.{path.rsplit('.', 1)[1]}")
                for path, _kind in self.report_files(report)
            ]
            html = family_pages.generic_article(report, body, files)
        else:
            html = pages.article_page(self.portal, report, self._trail(report), body)
        return _html(html, report.encoding, modified, ctype)

    def _trail(self, report: Report) -> tuple[str, ...]:
        # 桐乡 files reports under a node per year; 台州 under the publisher's own directory.
        parents, column = self.portal.breadcrumb, self.portal.column_name
        if report.layout == "table":
            return (*parents, column, f"{report.year}年")
        return (*parents, _entry(report).crumb, column)

    def report_files(self, report: Report) -> list[tuple[str, str]]:
        """The paths of a report's attachment files (`files` in the plan), with their kinds."""
        if not report.files:
            return []
        folder, name = report.url.rsplit("/", 1)
        docid = name.split("_")[-1].split(".")[0]
        if self.portal.family == "trs":
            day = name[1:9]
            return [(f"{folder}/P0{day}{docid}{n:02d}.pdf", k) for n, k in enumerate(report.files)]
        return [
            (f"{self.portal.list_path}files/{docid}_{n}.{EXTENSIONS.get(k, k)}", k)
            for n, k in enumerate(report.files, start=1)
        ]

    def file(self, path: str) -> Page | None:
        """An attachment file of the families' reports, as the server claims it to be."""
        if path not in self.files:
            return None
        report, kind = self.files[path]
        return Page(file_body(kind, report), CONTENT_TYPES[kind], epoch(report.published_at))

    @staticmethod
    def module_key(area: str, year: str) -> str:
        return f"{MODULE_PATH}?area={area}&fbtime={year}"

    def module_empty(self) -> Page:
        return _html(pages.module_empty_page(), "utf-8")

    def proxy_page(self, page: int, broken: bool = False) -> Page:
        """Newer jpage: page N (1-based) of the column's records, with the totals."""
        listing = () if broken else self.listing
        total = len(listing)
        chunk = listing[(page - 1) * PER_PAGE : page * PER_PAGE] if page >= 1 else ()
        return _xml(pages.datastore_page(chunk, total, math.ceil(total / PER_PAGE)))

    def proxy_range(self, start: int, end: int, broken: bool = False) -> Page:
        """Older jpage: records start..end (1-based, inclusive)."""
        listing = () if broken else self.listing
        chunk = listing[max(start, 1) - 1 : max(end, 0)]
        return _xml(pages.datastore_range(chunk))

    def empty_proxy(self) -> Page:
        """What jpage answers for a column or unit it does not know."""
        return _xml(pages.datastore_page((), 0, 0))

    def jpaas_page(self, page: int, broken: bool = False) -> Page:
        """Page N (1-based) of the jpaas list unit, as JSON."""
        listing = () if broken else self.listing
        per = self.per_page
        chunk = listing[(page - 1) * per : page * per] if page >= 1 else ()
        pages_count = math.ceil(len(listing) / per)
        text = family_pages.jpaas_answer(chunk, page, pages_count, len(listing))
        return Page(text.encode("utf-8"), "application/json;charset=UTF-8")

    def attachment(self, filename: str) -> Page | None:
        report = self.attachments.get(filename)
        if report is None:
            return None
        return Page(attachment_pdf(report), "application/pdf", epoch(report.published_at))


def _entry(report: Report) -> PlanPublisher:
    return plan_for(report.portal).entry(report.portal, report.publisher)


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
