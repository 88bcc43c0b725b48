"""Search reports by title, publisher (registry name or 发布机构) or 索引号."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.models import Document, Publisher

SEARCH_FIELDS = ("id", "portal", "publisher", "year", "title", "index_no", "published_at", "url")
LIMIT = 200


def search(session: Session, text: str) -> list[dict[str, Any]]:
    """Reports whose title, publisher or 索引号 contains `text` (at most LIMIT, newest first)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name = func.coalesce(Publisher.name, Document.publisher_label)
    stmt = (
        select(
            Document.id,
            Document.portal,
            name,
            Document.report_year,
            Document.title,
            Document.index_no,
            Document.published_at,
            Document.url,
        )
        .outerjoin(Publisher, Publisher.id == Document.publisher_id)
        .where(
            or_(
                Document.title.like(pattern, escape="\\"),
                Document.index_no.like(pattern, escape="\\"),
                Document.publisher_label.like(pattern, escape="\\"),
                Publisher.name.like(pattern, escape="\\"),
            )
        )
        .order_by(Document.report_year.desc(), Document.portal, Document.id)
        .limit(LIMIT)
    )
    return [dict(zip(SEARCH_FIELDS, row, strict=True)) for row in session.execute(stmt)]
