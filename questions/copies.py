"""Copies of one report: the same publisher's report for one year, published at two URLs or
republished later, with near-identical text. They are one report; its earliest copy stands for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, select, tuple_
from sqlalchemy.orm import Session

from archive.models import Document, DocumentVersion
from questions.similarity import SAME_TEXT, resemblance

# Documents of one (publisher, year): by registered publisher, else by the subject the report
# names, else by the printed 发布机构 (a module page prints none, its column article the office).
_Key = tuple[object, ...]


@dataclass(frozen=True)
class CopyGroup:
    """One report archived more than once: `primary` (the earliest claimed date, then the lowest
    id) stands for it; `copies` are the other documents, earliest first."""

    primary: int
    copies: tuple[int, ...]
    resemblance: float  # the lowest resemblance of a copy's text to the primary's

    @property
    def members(self) -> tuple[int, ...]:
        return (self.primary, *self.copies)


@dataclass(frozen=True)
class _Doc:
    id: int
    key: _Key
    claimed: str  # the date it claims, '9999' when it claims none (sorts last)


def copy_groups(
    session: Session, year: int | None = None, portal: str | None = None
) -> list[CopyGroup]:
    """Every report archived as more than one document, optionally of one year or portal."""
    docs = _candidates(session, year, portal)
    texts = latest_texts(session, [d.id for d in docs])
    by_key: dict[_Key, list[_Doc]] = defaultdict(list)
    for doc in docs:
        by_key[doc.key].append(doc)
    groups: list[CopyGroup] = []
    for members in by_key.values():
        groups += _cluster(sorted(members, key=lambda d: (d.claimed, d.id)), texts)
    return sorted(groups, key=lambda g: g.primary)


def copies_of(groups: Iterable[CopyGroup]) -> dict[int, CopyGroup]:
    """Each document of a group, mapped to its group."""
    return {member: group for group in groups for member in group.members}


def latest_texts(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The text of each document's latest version."""
    if not ids:
        return {}
    latest = latest_seen(ids)
    stmt = select(DocumentVersion.document_id, DocumentVersion.text).join(latest, is_latest(latest))
    return {doc_id: text for doc_id, text in session.execute(stmt)}


def latest_seen(ids: Sequence[int] | None = None) -> Subquery:
    """(document_id, seen): when each document's latest version was seen."""
    stmt = select(DocumentVersion.document_id, func.max(DocumentVersion.seen_at).label("seen"))
    if ids is not None:
        stmt = stmt.where(DocumentVersion.document_id.in_(ids))
    return stmt.group_by(DocumentVersion.document_id).subquery()


def is_latest(latest: Subquery) -> ColumnElement[bool]:
    """Joins `latest_seen` to the version it names."""
    return and_(
        latest.c.document_id == DocumentVersion.document_id,
        latest.c.seen == DocumentVersion.seen_at,
    )


def claimed_date(doc: type[Document]) -> ColumnElement[str]:
    """The date a report claims: its 发布时间's day, else its 成文日期 (ISO text compares as dates)."""
    return func.coalesce(func.substr(doc.published_at, 1, 10), doc.written_date)


def _candidates(session: Session, year: int | None, portal: str | None) -> list[_Doc]:
    """Documents sharing their (publisher, year) with another document."""
    matched = (Document.publisher_id,)
    printed = (Document.portal, _named())
    found: list[_Doc] = []
    for key_cols, has_publisher in ((matched, True), (printed, False)):
        cols = (*key_cols, Document.report_year)
        shared = _filtered(select(*cols), year, portal, has_publisher)
        shared = shared.group_by(*cols).having(func.count() > 1)
        stmt = _filtered(
            select(Document.id, *cols, claimed_date(Document)), year, portal, has_publisher
        ).where(tuple_(*cols).in_(shared))
        for row in session.execute(stmt):
            doc_id, key, claimed = row[0], tuple(row[1:-1]), row[-1]
            found.append(_Doc(doc_id, (has_publisher, *key), claimed or "9999"))
    return found


def _filtered(
    stmt: Select[Any], year: int | None, portal: str | None, has_publisher: bool
) -> Select[Any]:
    # A page judged no report since it was archived (documents.not_report) is no copy of one.
    stmt = stmt.where(Document.report_year.is_not(None), Document.not_report.is_(None))
    if has_publisher:
        stmt = stmt.where(Document.publisher_id.is_not(None))
    else:
        stmt = stmt.where(Document.publisher_id.is_(None), _named().is_not(None))
    if year is not None:
        stmt = stmt.where(Document.report_year == year)
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    return stmt


def _named() -> ColumnElement[str | None]:
    """Whose report a document is when no registered publisher matched it."""
    return func.coalesce(Document.subject, Document.publisher_label)


def _cluster(docs: list[_Doc], texts: dict[int, str]) -> list[CopyGroup]:
    """Greedy: each document joins the first earlier group whose primary's text it repeats."""
    groups: list[list[tuple[int, float]]] = []
    for doc in docs:
        text = texts.get(doc.id, "")
        for group in groups:
            score = resemblance(texts.get(group[0][0], ""), text)
            if score >= SAME_TEXT:
                group.append((doc.id, score))
                break
        else:
            groups.append([(doc.id, 1.0)])
    return [
        CopyGroup(g[0][0], tuple(i for i, _ in g[1:]), min(s for _, s in g[1:]))
        for g in groups
        if len(g) > 1
    ]
