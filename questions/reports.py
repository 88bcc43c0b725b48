"""Read-side questions: the reports archived, and which expected reports are missing or late.

Copies of one report (questions.copies) are listed once, under their earliest copy, with the URLs of
the others; `get_report` tells how a report was matched to its publisher and how each version
differs from the one before.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session

from archive.clock import local
from archive.models import (
    Attachment,
    Capture,
    Check,
    Document,
    DocumentVersion,
    Figure,
    Publisher,
    url_sha256,
)
from archive.registry import PublisherRegistry, normalize_name
from questions.copies import CopyGroup, copies_of, copy_groups
from questions.deadlines import DeadlineRules, deadline_for
from questions.evidence import stood
from questions.status import LateRow, MissingRow, UndatedRow, late, missing, timeliness

__all__ = [
    "AttachmentRow",
    "CaptureRow",
    "CheckRow",
    "FigureRow",
    "LateRow",
    "MissingRow",
    "ReportDetail",
    "ReportRow",
    "UndatedRow",
    "VersionRow",
    "captures_at",
    "copies_as_of",
    "diff_versions",
    "get_report",
    "late",
    "list_reports",
    "report_verdict",
    "missing",
    "timeliness",
]


@dataclass(frozen=True)
class ReportRow:
    """One archived report as the `reports` command lists it."""

    id: int
    portal: str
    publisher: str | None  # the registry name when matched, else the page's 发布机构
    year: int | None
    title: str | None
    url: str
    index_no: str | None
    written_date: str | None
    published_at: str | None
    first_seen_at: datetime  # Asia/Shanghai
    template: str | None
    versions: int  # distinct text snapshots kept
    captures: int  # fetches of the page recorded
    copies: tuple[str, ...] = ()  # URLs of the report's other copies (republished elsewhere)
    subject: str | None = None  # whose report it is, as its title or opening names it
    kind: str = "report"  # 'other' once a re-parse judged the page no report (`reason` says why)
    reason: str | None = None
    posted_by: str | None = (
        None  # the page's 发布机构: who posted it (an office, for its government)
    )


@dataclass(frozen=True)
class FigureRow:
    key: str
    value: str  # the exact decimal, as text
    provenance: dict[str, Any]


@dataclass(frozen=True)
class CheckRow:
    rule: str
    ok: bool
    detail: str | None


@dataclass(frozen=True)
class VersionRow:
    """One text snapshot of a report, with what the parser found in it."""

    id: int
    capture_id: int
    seen_at: datetime  # Asia/Shanghai
    content_sha256: str
    title: str | None
    metadata: dict[str, Any]
    text: str
    encoding: str | None
    parser_version: str
    template: str | None
    figures: tuple[FigureRow, ...]
    checks: tuple[CheckRow, ...]


@dataclass(frozen=True)
class AttachmentRow:
    url: str
    sha256: str | None
    content_type: str | None
    capture_id: int


@dataclass(frozen=True)
class ReportDetail:
    """Everything `show` prints about one report; versions oldest first."""

    report: ReportRow
    versions: tuple[VersionRow, ...]
    attachments: tuple[AttachmentRow, ...]
    matched: str | None = (
        None  # how the publisher was matched, e.g. "alias '经信局' in its 发布机构"
    )
    copy_of: int | None = None  # the report this page is a copy of (its earliest copy)
    copy_ids: tuple[int, ...] = ()  # the other copies, when this is the earliest
    diffs: tuple[str, ...] = ()  # each version against the one before: a unified text diff


def list_reports(
    session: Session,
    portal: str | None = None,
    publisher: str | None = None,
    year: int | None = None,
    until: datetime | None = None,
) -> list[ReportRow]:
    """Archived reports, by portal, year and id; `publisher` matches a name, an alias or a 发布机构.
    A report archived more than once is one row, its earliest copy's, listing the others. With
    `until`, the archive as it stood then (questions.evidence.stood): the reports first seen before
    it, their versions and captures before it (their fields are those of the latest parse)."""
    stmt = stood(_reports(until), Document.first_seen_at, until)
    stmt = stmt.where(Document.not_report.is_(None))  # judged no report since (a re-parse)
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    if year is not None:
        stmt = stmt.where(Document.report_year == year)
    if publisher is not None:
        ids = publisher_ids(session, publisher)
        stmt = stmt.where(
            or_(Document.publisher_id.in_(ids), Document.publisher_label == publisher)
        )
    stmt = stmt.order_by(Document.portal, Document.report_year, Document.id)
    rows = [_report_row(row) for row in session.execute(stmt)]
    groups = copies_of(copy_groups(session, year=year, portal=portal))
    if groups and until is not None:
        present = set(session.scalars(stood(select(Document.id), Document.first_seen_at, until)))
        groups = copies_of(copies_as_of(groups.values(), present))
    if not groups:
        return rows
    urls = {row.id: row.url for row in rows}
    return [
        replace(row, copies=tuple(urls.get(i) or _url(session, i) for i in groups[row.id].copies))
        if row.id in groups
        else row
        for row in rows
        if row.id not in groups or groups[row.id].primary == row.id
    ]


def get_report(session: Session, report_id: int) -> ReportDetail | None:
    """One report with every version, its figures and checks, and its attachments."""
    row = session.execute(_reports().where(Document.id == report_id)).first()
    if row is None:
        return None
    versions = session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == report_id)
        .order_by(DocumentVersion.seen_at, DocumentVersion.id)
    ).all()
    attachments = session.scalars(
        select(Attachment).where(Attachment.document_id == report_id).order_by(Attachment.id)
    ).all()
    doc = row[0]
    group = copies_of(copy_groups(session, year=doc.report_year, portal=doc.portal)).get(doc.id)
    copy_urls = tuple(_url(session, i) for i in group.members if i != doc.id) if group else ()
    version_rows = tuple(_version_row(session, v) for v in versions)
    match = PublisherRegistry.load(session, doc.portal).explain_document(doc)
    return ReportDetail(
        report=replace(_report_row(row), copies=copy_urls),
        versions=version_rows,
        attachments=tuple(
            AttachmentRow(a.url, a.sha256, a.content_type, a.capture_id) for a in attachments
        ),
        matched=f"{match.entry.name}, by {match.explain()}" if match else None,
        copy_of=group.primary if group and group.primary != doc.id else None,
        copy_ids=group.copies if group and group.primary == doc.id else (),
        diffs=tuple(
            diff_versions(a, b) for a, b in zip(version_rows, version_rows[1:], strict=False)
        ),
    )


def diff_versions(old: VersionRow, new: VersionRow) -> str:
    """A readable diff of two text snapshots: changed paragraphs, one line of context."""
    lines = difflib.unified_diff(
        old.text.splitlines(),
        new.text.splitlines(),
        fromfile=f"version {old.id} seen {old.seen_at:%Y-%m-%dT%H:%M}",
        tofile=f"version {new.id} seen {new.seen_at:%Y-%m-%dT%H:%M}",
        n=1,
        lineterm="",
    )
    return "\n".join(lines)


def _url(session: Session, document_id: int) -> str:
    return session.scalar(select(Document.url).where(Document.id == document_id)) or ""


def copies_as_of(groups: Iterable[CopyGroup], present: Collection[int]) -> list[CopyGroup]:
    """Copy groups as they stood when only the `present` documents existed: the earliest present
    member stands for its group; a group left with one member is no group."""
    found = {}
    for group in groups:
        members = [m for m in group.members if m in present]
        if len(members) > 1:
            found[members[0]] = CopyGroup(members[0], tuple(members[1:]), group.resemblance)
    return list(found.values())


def _reports(until: datetime | None = None) -> Select[Document, str | None, int, int]:
    versions = stood(
        select(DocumentVersion.document_id, func.count().label("n")),
        DocumentVersion.seen_at,
        until,
    ).group_by(DocumentVersion.document_id)
    captures = stood(
        select(Capture.document_id, func.count().label("n")).where(
            Capture.document_id.is_not(None)
        ),
        Capture.fetched_at,
        until,
    ).group_by(Capture.document_id)
    v, c = versions.subquery(), captures.subquery()
    return (
        select(
            Document,
            func.coalesce(Publisher.name, Document.publisher_label),
            func.coalesce(v.c.n, 0),
            func.coalesce(c.c.n, 0),
        )
        .outerjoin(Publisher, Publisher.id == Document.publisher_id)
        .outerjoin(v, v.c.document_id == Document.id)
        .outerjoin(c, c.c.document_id == Document.id)
    )


def _report_row(row: Row[Document, str | None, int, int]) -> ReportRow:
    doc, publisher, versions, captures = row
    return ReportRow(
        id=doc.id,
        portal=doc.portal,
        publisher=publisher,
        year=doc.report_year,
        title=doc.title,
        url=doc.url,
        index_no=doc.index_no,
        written_date=doc.written_date,
        published_at=doc.published_at,
        first_seen_at=local(doc.first_seen_at),
        template=doc.template,
        versions=versions,
        captures=captures,
        subject=doc.subject,
        posted_by=doc.publisher_label,
        kind="other" if doc.not_report else "report",
        reason=doc.not_report,
    )


def _version_row(session: Session, v: DocumentVersion) -> VersionRow:
    figures = session.scalars(
        select(Figure).where(Figure.version_id == v.id).order_by(Figure.key)
    ).all()
    checks = session.scalars(select(Check).where(Check.version_id == v.id).order_by(Check.id)).all()
    return VersionRow(
        id=v.id,
        capture_id=v.capture_id,
        seen_at=local(v.seen_at),
        content_sha256=v.content_sha256,
        title=v.title,
        metadata=dict(v.meta),
        text=v.text,
        encoding=v.encoding,
        parser_version=v.parser_version,
        template=v.template,
        figures=tuple(FigureRow(f.key, f.value, dict(f.provenance)) for f in figures),
        checks=tuple(CheckRow(c.rule, c.ok, c.detail) for c in checks),
    )


def publisher_ids(session: Session, name: str) -> Sequence[int]:
    """Registered publishers whose name or an alias is `name` (full/half width, brackets folded)."""
    wanted = normalize_name(name)
    return [
        p.id
        for p in session.scalars(select(Publisher))
        if wanted in {normalize_name(n) for n in (p.name, *(p.aliases or ()))}
    ]


@dataclass(frozen=True)
class CaptureRow:
    """One fetch of a URL as `show URL` lists it: what came back and what nianbao made of it."""

    capture_id: int
    portal: str
    url: str
    fetched_at: datetime
    status: int
    outcome: str
    kind: str  # what the crawler fetched it as: listing, article, module, attachment, …
    report_id: int | None  # the report the capture was read into, if it was one
    not_report: str | None  # why the page is not a report (`other: …`), when so judged
    index_error: str | None


def captures_at(session: Session, url: str, portals: Collection[str]) -> list[CaptureRow]:
    """Every capture of `url` in `portals`, newest first (the (portal, url_sha256) index)."""
    rows = session.scalars(
        select(Capture)
        .where(Capture.portal.in_(sorted(portals)), Capture.url_sha256 == url_sha256(url))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
    )
    return [
        CaptureRow(
            c.id,
            c.portal,
            c.url,
            local(c.fetched_at if c.fetched_at.tzinfo else c.fetched_at.replace(tzinfo=UTC)),
            c.status,
            c.outcome,
            c.kind,
            c.document_id,
            c.not_report,
            c.index_error,
        )
        for c in rows
        if c.url == url  # a sha256 collision is not a match
    ]


def report_verdict(
    session: Session, detail: ReportDetail, kind: str | None, rules: DeadlineRules
) -> tuple[date | None, str]:
    """A report's deadline and its verdict in words, as `late` judges its publisher's year."""
    r = detail.report
    if kind is None or r.year is None:
        return None, "not judged: the report matches no registered publisher (or states no year)"
    deadline = deadline_for(rules, r.year, kind)
    for row in late(session, r.year, rules):
        if (row.portal, row.publisher) == (r.portal, r.publisher):
            return deadline, (
                f"late {row.days_late} day{'s' if row.days_late != 1 else ''}: "
                f"the publisher's first copy claims "
                f"{row.published_at}, due {row.deadline}"
            )
    if not (r.published_at or r.written_date):
        return deadline, "undated: the report states neither 发布时间 nor 成文日期"
    return deadline, "on time: the publisher's first copy claims a date on or before the deadline"
