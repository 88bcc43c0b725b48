"""Read-side questions: the reports archived, and which expected reports are missing or late."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session

from archive.models import (
    Attachment,
    Capture,
    Check,
    Document,
    DocumentVersion,
    Figure,
    Publisher,
)
from archive.registry import normalize_name
from archive.status import LateRow, MissingRow, late, local, missing

__all__ = [
    "AttachmentRow",
    "CheckRow",
    "FigureRow",
    "LateRow",
    "MissingRow",
    "ReportDetail",
    "ReportRow",
    "VersionRow",
    "get_report",
    "late",
    "list_reports",
    "missing",
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


def list_reports(
    session: Session,
    portal: str | None = None,
    publisher: str | None = None,
    year: int | None = None,
) -> list[ReportRow]:
    """Archived reports, by portal, year and id; `publisher` matches a name, an alias or a 发布机构."""
    stmt = _reports()
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    if year is not None:
        stmt = stmt.where(Document.report_year == year)
    if publisher is not None:
        ids = _publisher_ids(session, publisher)
        stmt = stmt.where(
            or_(Document.publisher_id.in_(ids), Document.publisher_label == publisher)
        )
    stmt = stmt.order_by(Document.portal, Document.report_year, Document.id)
    return [_report_row(row) for row in session.execute(stmt)]


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
    return ReportDetail(
        report=_report_row(row),
        versions=tuple(_version_row(session, v) for v in versions),
        attachments=tuple(
            AttachmentRow(a.url, a.sha256, a.content_type, a.capture_id) for a in attachments
        ),
    )


def _reports() -> Select[Document, str | None, int, int]:
    versions = (
        select(DocumentVersion.document_id, func.count().label("n"))
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    captures = (
        select(Capture.document_id, func.count().label("n"))
        .where(Capture.document_id.is_not(None))
        .group_by(Capture.document_id)
        .subquery()
    )
    return (
        select(
            Document,
            func.coalesce(Publisher.name, Document.publisher_label),
            func.coalesce(versions.c.n, 0),
            func.coalesce(captures.c.n, 0),
        )
        .outerjoin(Publisher, Publisher.id == Document.publisher_id)
        .outerjoin(versions, versions.c.document_id == Document.id)
        .outerjoin(captures, captures.c.document_id == Document.id)
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


def _publisher_ids(session: Session, name: str) -> Sequence[int]:
    wanted = normalize_name(name)
    return [
        p.id
        for p in session.scalars(select(Publisher))
        if wanted in {normalize_name(n) for n in (p.name, *(p.aliases or ()))}
    ]
