"""One figure across publishers and years, from each report's latest version.

A report archived more than once (questions.copies) counts once, by its earliest copy. Values stay
the exact decimals the parser read, as text; `as_number` turns one into a `Decimal` for sums and
plots, never a float on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from archive.models import Document, DocumentVersion, Figure, Publisher
from questions.copies import copies_of, copy_groups, is_latest, latest_seen
from questions.reports import publisher_ids


@dataclass(frozen=True)
class FigureValue:
    """One figure of one report, as `nianbao figures` lists it."""

    report_id: int
    portal: str
    publisher: str | None  # the registry name when matched, else the page's 发布机构
    year: int | None
    key: str
    value: str  # the exact decimal, as text

    @property
    def number(self) -> Decimal:
        return Decimal(self.value)


def figure_values(
    session: Session,
    key: str | None,
    publisher: str | None = None,
    years: tuple[int, int] | None = None,
    portal: str | None = None,
) -> list[FigureValue]:
    """`key` (every key when None) in every report's latest version, by portal, publisher, year."""
    latest = latest_seen()
    stmt = (
        select(
            Document.id,
            Document.portal,
            func.coalesce(Publisher.name, Document.publisher_label),
            Document.report_year,
            Figure.key,
            Figure.value,
        )
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .join(latest, is_latest(latest))
        .join(Figure, Figure.version_id == DocumentVersion.id)
        .outerjoin(Publisher, Publisher.id == Document.publisher_id)
    )
    if key is not None:
        stmt = stmt.where(Figure.key == key)
    if years is not None:
        stmt = stmt.where(Document.report_year.between(*years))
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    if publisher is not None:
        stmt = stmt.where(_publisher_is(session, publisher))
    groups = copies_of(copy_groups(session, portal=portal))
    rows = [
        FigureValue(doc_id, portal_id, name, year, figure_key, value)
        for doc_id, portal_id, name, year, figure_key, value in session.execute(stmt)
        if doc_id not in groups or groups[doc_id].primary == doc_id
    ]
    return sorted(
        rows, key=lambda r: (r.portal, r.publisher or "", r.year or 0, r.report_id, r.key)
    )


def known_keys(session: Session) -> list[str]:
    """Every figure key the archive holds, for telling a user what exists."""
    return list(session.scalars(select(Figure.key).distinct().order_by(Figure.key)))


def _publisher_is(session: Session, name: str) -> ColumnElement[bool]:
    ids = publisher_ids(session, name)
    return or_(Document.publisher_id.in_(ids), Document.publisher_label == name)


def figure_number(text: Any) -> Any:
    """The archive keeps a figure as its exact decimal text; JSON gets it as a number (an int
    when written without a point), the same in the CLI and the web view."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return text
    return int(value) if value == value.to_integral_value() and "." not in str(text) else value
