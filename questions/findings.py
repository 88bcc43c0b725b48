"""Findings: what is wrong with the reports themselves, beyond missing and late.

- `changed`: the report's text changed after nianbao first saw it (two or more versions kept).
- `backdated`: first seen by nianbao after its deadline although its page claims a date on time,
  while a clean crawl of its portal between that claimed date and the deadline did not find it.
- `failed_check`: one of the parser's consistency checks fails on its latest version.
- `copied`: its text repeats the same publisher's report of the previous year almost whole
  (questions.similarity: resemblance of 5-character shingles, years masked, at least `SAME_TEXT`).
- `unreadable`: a capture of its page or of an attachment could not be read (a parser failure,
  a missing blob: captures.index_error); what the report says there is not in its figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from archive.clock import SHANGHAI, day_end, minute
from archive.models import (
    Attachment,
    Capture,
    Check,
    CrawlRun,
    Document,
    DocumentVersion,
    Publisher,
)
from questions.copies import (
    CopyGroup,
    claimed_date,
    copies_of,
    copy_groups,
    is_latest,
    latest_seen,
    latest_texts,
)
from questions.deadlines import DeadlineRules, deadline_for
from questions.evidence import stood
from questions.reports import copies_as_of
from questions.similarity import SAME_TEXT, resemblance

FINDING_KINDS = ("changed", "backdated", "failed_check", "copied", "unreadable")


@dataclass(frozen=True)
class FindingRow:
    """One finding about one report (document), with what it rests on."""

    kind: str
    report_id: int
    portal: str
    publisher: str | None  # the registry name when matched, else the page's 发布机构
    year: int | None
    url: str
    detail: str
    evidence: str


@dataclass(frozen=True)
class _Doc:
    id: int
    portal: str
    publisher_id: int | None
    publisher: str | None
    kind: str | None
    year: int | None
    url: str
    claimed: str | None
    first_seen_at: datetime

    def row(self, kind: str, detail: str, evidence: str) -> FindingRow:
        return FindingRow(
            kind, self.id, self.portal, self.publisher, self.year, self.url, detail, evidence
        )

    @property
    def key(self) -> tuple[object, ...]:
        return (self.portal, self.publisher_id or self.publisher)


def findings(
    session: Session,
    rules: DeadlineRules,
    year: int | None = None,
    report_id: int | None = None,
    until: datetime | None = None,
) -> list[FindingRow]:
    """Every finding, optionally for one report year or one report, by kind, portal, publisher;
    over the archive as it stood at `until` (questions.evidence.stood) when given."""
    docs = _documents(session, year, report_id, until)
    found = _changed(session, docs, until) + _backdated(session, docs, rules)
    found += _failed(session, docs, until) + _copied(session, docs, until)
    found += _unreadable(session, docs, until)
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    found.sort(key=lambda f: (order[f.kind], f.portal, f.publisher or "", f.year or 0, f.report_id))
    return found


def _documents(
    session: Session, year: int | None, report_id: int | None, until: datetime | None
) -> dict[int, _Doc]:
    stmt = select(
        Document.id,
        Document.portal,
        Document.publisher_id,
        func.coalesce(Publisher.name, Document.publisher_label),
        Publisher.kind,
        Document.report_year,
        Document.url,
        claimed_date(Document),
        Document.first_seen_at,
    ).outerjoin(Publisher, Publisher.id == Document.publisher_id)
    if year is not None:
        stmt = stmt.where(Document.report_year == year)
    if report_id is not None:
        stmt = stmt.where(Document.id == report_id)
    stmt = stood(stmt, Document.first_seen_at, until)
    return {row[0]: _Doc(*row) for row in session.execute(stmt)}


def _changed(session: Session, docs: dict[int, _Doc], until: datetime | None) -> list[FindingRow]:
    stmt = (
        select(
            DocumentVersion.document_id,
            func.count(),
            func.min(DocumentVersion.seen_at),
            func.max(DocumentVersion.seen_at),
        )
        .where(DocumentVersion.document_id.in_(list(docs)))
        .group_by(DocumentVersion.document_id)
        .having(func.count() > 1)
    )
    found = []
    for doc_id, versions, first, last in session.execute(
        stood(stmt, DocumentVersion.seen_at, until)
    ):
        doc = docs[doc_id]
        detail = f"{versions} versions of its text"
        evidence = (
            f"first seen {_minute(first)}, last changed {_minute(last)}; "
            f"`nianbao show {doc_id}` gives the diff"
        )
        found.append(doc.row("changed", detail, evidence))
    return found


def _backdated(session: Session, docs: dict[int, _Doc], rules: DeadlineRules) -> list[FindingRow]:
    seen_by_report: dict[tuple[object, ...], datetime] = {}
    for d in docs.values():
        key = (*d.key, d.year)
        seen_by_report[key] = min(seen_by_report.get(key, d.first_seen_at), d.first_seen_at)
    found = []
    for doc in docs.values():
        if doc.kind is None or doc.year is None or not doc.claimed:
            continue
        deadline = deadline_for(rules, doc.year, doc.kind)
        claimed = date.fromisoformat(doc.claimed)
        # Any copy of the report seen before the deadline means nianbao found it in time.
        if claimed > deadline or seen_by_report[(*doc.key, doc.year)] < day_end(deadline):
            continue
        looked = _clean_search(session, doc.portal, claimed, deadline)
        if looked is None:
            continue
        run_id, finished = looked
        detail = (
            f"its page claims {doc.claimed}, on time for the deadline {deadline}, "
            f"but it was first seen {minute(doc.first_seen_at)}"
        )
        evidence = (
            f"run {run_id} crawled {doc.portal} cleanly at {minute(finished)}, after the "
            "claimed date and before the deadline, and did not find it"
        )
        found.append(doc.row("backdated", detail, evidence))
    return found


def _clean_search(
    session: Session, portal: str, claimed: date, deadline: date
) -> tuple[int, datetime] | None:
    """The last clean run of `portal` finished after the claimed day began, by the deadline."""
    start = datetime.combine(claimed, time(), SHANGHAI)
    stmt = (
        select(CrawlRun.id, CrawlRun.finished_at)
        .where(CrawlRun.portal == portal, CrawlRun.status == "ok", CrawlRun.blocked == 0)
        .where(CrawlRun.finished_at >= start, CrawlRun.finished_at < day_end(deadline))
        .order_by(CrawlRun.finished_at.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row and row[1] else None


def _failed(session: Session, docs: dict[int, _Doc], until: datetime | None) -> list[FindingRow]:
    latest = _latest_seen(list(docs), until)
    stmt = (
        select(DocumentVersion.document_id, DocumentVersion.id, Check.rule, Check.detail)
        .join(latest, is_latest(latest))
        .join(Check, Check.version_id == DocumentVersion.id)
        .where(Check.ok.is_(False))
        .order_by(DocumentVersion.document_id, Check.id)
    )
    found = []
    for doc_id, version_id, rule, detail in session.execute(stmt):
        evidence = f"version {version_id}: {detail or 'no detail'}"
        found.append(docs[doc_id].row("failed_check", rule, evidence))
    return found


def _unreadable(
    session: Session, docs: dict[int, _Doc], until: datetime | None
) -> list[FindingRow]:
    pages = select(Capture.document_id, Capture.id).where(Capture.index_error.is_not(None))
    files = (
        select(Attachment.document_id, Capture.id)
        .join(Capture, Capture.id == Attachment.capture_id)
        .where(Capture.index_error.is_not(None))
    )
    if until is not None:  # the unreadable fetches that had happened by then
        pages = pages.where(Capture.fetched_at <= until)
        files = files.where(Capture.fetched_at <= until)
    found = []
    for doc_id, capture_id in session.execute(pages.union(files)):
        if doc_id in docs:
            capture = session.get_one(Capture, capture_id)
            detail = f"{capture.kind} capture {capture.id} of {minute(capture.fetched_at)}"
            found.append(
                docs[doc_id].row("unreadable", detail, f"{capture.url}: {capture.index_error}")
            )
    return found


def _copied(session: Session, docs: dict[int, _Doc], until: datetime | None) -> list[FindingRow]:
    years = {d.year - 1 for d in docs.values() if d.year}
    earlier = {i: d for y in years for i, d in _documents(session, y, None, until).items()}
    groups = _groups(session, years | {y + 1 for y in years})
    if until is not None:
        groups = copies_of(copies_as_of(set(groups.values()), docs.keys() | earlier.keys()))
    previous: dict[tuple[object, ...], list[_Doc]] = defaultdict(list)
    for d in earlier.values():
        if d.id not in groups or groups[d.id].primary == d.id:
            previous[(*d.key, d.year)].append(d)
    pairs = [
        (doc, prev)
        for doc in docs.values()
        if doc.year and (doc.id not in groups or groups[doc.id].primary == doc.id)
        for prev in previous.get((*doc.key, doc.year - 1), [])
    ]
    texts = _texts(session, sorted({d.id for pair in pairs for d in pair}), until)
    found = []
    for doc, prev in pairs:
        score = resemblance(texts.get(doc.id, ""), texts.get(prev.id, ""))
        if score >= SAME_TEXT and texts.get(doc.id):
            detail = f"{score:.0%} of its text is the {prev.year} report's"
            evidence = (
                f"resemblance {score:.3f} (5-character shingles, years masked) "
                f"to report {prev.id} {prev.url}"
            )
            found.append(doc.row("copied", detail, evidence))
    return found


def _groups(session: Session, years: set[int]) -> dict[int, CopyGroup]:
    """Copies of reports of these years (of every year, when there are many)."""
    if len(years) > 4:
        return copies_of(copy_groups(session))
    return copies_of(g for y in sorted(years) for g in copy_groups(session, year=y))


def _latest_seen(ids: list[int], until: datetime | None) -> Subquery:
    """(document_id, seen): when each document's latest version before `until` was seen."""
    if until is None:
        return latest_seen(ids)
    stmt = select(DocumentVersion.document_id, func.max(DocumentVersion.seen_at).label("seen"))
    stmt = stood(stmt.where(DocumentVersion.document_id.in_(ids)), DocumentVersion.seen_at, until)
    return stmt.group_by(DocumentVersion.document_id).subquery()


def _texts(session: Session, ids: list[int], until: datetime | None) -> dict[int, str]:
    """The text of each document's latest version before `until`."""
    if until is None or not ids:
        return latest_texts(session, ids)
    latest = _latest_seen(ids, until)
    stmt = select(DocumentVersion.document_id, DocumentVersion.text).join(latest, is_latest(latest))
    return {doc_id: text for doc_id, text in session.execute(stmt)}


def _minute(value: datetime | None) -> str:
    return minute(value) if value else "?"
