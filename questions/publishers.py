"""The registry as `nianbao publishers` lists it, and the 发布机构 that match no registered publisher.

A 发布机构 is *unmatched* when it is neither a registered name nor an alias of its portal. Its
reports may still have been matched by unit code or title (`matched_to` says to whom: add the
label as an alias); when they were not (`matched_to` is None), the registry lacks the agency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import Document, Publisher
from archive.registry import PublisherRegistry


@dataclass(frozen=True)
class PublisherRow:
    """One registered publisher and the reports matched to it."""

    portal: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    unit_code: str | None
    years: str  # "2013-2018", "2019-" or "" when open-ended both ways
    reports: int  # documents matched to it
    first_year: int | None  # of its reports
    last_year: int | None


@dataclass(frozen=True)
class UnmatchedLabel:
    """A 发布机构 seen on reports that no registered name or alias of its portal spells."""

    portal: str
    label: str
    reports: int
    years: tuple[int, ...]  # the report years it was seen on
    matched_to: str | None  # the publisher its reports were matched to otherwise, if any
    example: str  # the URL of one of its reports


def registry_rows(session: Session, portal: str | None = None) -> list[PublisherRow]:
    """The registered publishers, by portal and name, with counts of their reports."""
    counts = (
        select(
            Document.publisher_id,
            func.count().label("n"),
            func.min(Document.report_year).label("first"),
            func.max(Document.report_year).label("last"),
        )
        .group_by(Document.publisher_id)
        .subquery()
    )
    stmt = select(Publisher, counts.c.n, counts.c.first, counts.c.last).outerjoin(
        counts, counts.c.publisher_id == Publisher.id
    )
    if portal is not None:
        stmt = stmt.where(Publisher.portal == portal)
    rows = [
        PublisherRow(
            portal=p.portal,
            name=p.name,
            kind=p.kind,
            aliases=tuple(p.aliases or ()),
            unit_code=p.unit_code,
            years=_span(p.first_year, p.last_year),
            reports=n or 0,
            first_year=first,
            last_year=last,
        )
        for p, n, first, last in session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (r.portal, r.name))


def unmatched_labels(session: Session, portal: str | None = None) -> list[UnmatchedLabel]:
    """The 发布机构 of archived reports that match no registered name or alias; those whose
    reports matched no publisher at all first."""
    registry = PublisherRegistry.load(session, portal)
    names = {i: n for i, n in session.execute(select(Publisher.id, Publisher.name))}
    stmt = select(
        Document.portal,
        Document.publisher_label,
        Document.report_year,
        Document.publisher_id,
        Document.url,
    ).where(Document.publisher_label.is_not(None))
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    seen: dict[tuple[str, str], list[tuple[int | None, int | None, str]]] = defaultdict(list)
    for portal_id, label, year, pub_id, url in session.execute(stmt):
        if label and label.strip() and not registry.knows_label(portal_id, label):
            seen[(portal_id, label)].append((year, pub_id, url))
    rows = []
    for (portal_id, label), reports in seen.items():
        matched = {names.get(p) for _, p, _ in reports if p is not None}
        rows.append(
            UnmatchedLabel(
                portal=portal_id,
                label=label,
                reports=len(reports),
                years=tuple(sorted({y for y, _, _ in reports if y is not None})),
                matched_to=", ".join(sorted(m for m in matched if m)) or None,
                example=min(url for _, _, url in reports),
            )
        )
    return sorted(rows, key=lambda r: (r.matched_to is not None, r.portal, r.label))


def _span(first: int | None, last: int | None) -> str:
    if first is None and last is None:
        return ""
    return f"{first or ''}-{last or ''}"
