"""Recording one fetch: the bytes into the blob store first, then the rows that point at them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.models import CAPTURE_KINDS, Blob, Capture
from parsers import decode_html


@dataclass(frozen=True)
class CaptureIn:
    """One fetch as the crawler saw it; `body` is None when the response had none (e.g. 304)."""

    portal: str
    run_id: int | None
    url: str
    final_url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes | None
    fetched_at: datetime
    kind: str
    parent_url: str | None = None
    content_type: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CAPTURE_KINDS:
            raise ValueError(f"capture kind {self.kind!r} is not one of {', '.join(CAPTURE_KINDS)}")
        if self.fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be an aware datetime")


def record_capture(session: Session, store: BlobStore, cap: CaptureIn) -> Capture:
    """Archive one fetch and flush its row; the caller commits."""
    sha = None
    if cap.body is not None:
        # The blob is durable before any row names it, so a crash at any point leaves at worst an
        # unreferenced file, never a row pointing at nothing.
        sha = store.put(cap.body)
        _add_blob_row(session, sha, len(cap.body))
    row = Capture(
        run_id=cap.run_id,
        portal=cap.portal,
        url=cap.url,
        final_url=cap.final_url,
        status=cap.status,
        headers=[[name, value] for name, value in cap.headers],
        fetched_at=cap.fetched_at,
        sha256=sha,
        content_type=cap.content_type,
        encoding=text_encoding(cap.body, cap.content_type),
        kind=cap.kind,
        parent_url=cap.parent_url,
    )
    session.add(row)
    session.flush()
    return row


def _add_blob_row(session: Session, sha: str, size: int) -> None:
    # Two crawl processes may store the same bytes (robots.txt, a shared attachment) at once:
    # insert-or-ignore instead of look-then-insert, which would race.
    values = {"sha256": sha, "size": size, "stored_at": datetime.now(UTC)}
    dialect = session.get_bind().dialect.name
    stmt: Executable
    if dialect == "postgresql":
        stmt = postgresql.insert(Blob).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Blob).values(values).on_conflict_do_nothing()
    else:
        if session.get(Blob, sha) is None:
            session.add(Blob(**values))
        return
    session.execute(stmt)


def text_encoding(body: bytes | None, content_type: str | None) -> str | None:
    """The charset a text body decodes with (as the parsers decode it); None for binary bodies."""
    if body is None or not _is_text(content_type):
        return None
    return decode_html(body, header_charset(content_type)).encoding


def header_charset(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


def _is_text(content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in {"application/xhtml+xml", "application/xml"}
