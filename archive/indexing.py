"""Turning archived captures into documents and versions, from the stored bytes alone."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from archive.blobs import BlobMissing, BlobStore
from archive.figure_rows import FigureRow, row_of, write_figures
from archive.models import (
    Attachment,
    Capture,
    Check,
    CrawlRun,
    Document,
    DocumentVersion,
    Figure,
    url_sha256,
)
from archive.registry import PublisherRegistry
from parsers import PARSER_VERSION, ParsedReport, parse_bytes

PAGE_KINDS = ("article", "module")
MISSING_BLOB = "missing blob"
REFUSED = "refused by the database"


@dataclass(frozen=True)
class IndexStats:
    """What one indexing pass added. `new_versions` counts changes to documents already known;
    `parse_errors`, `missing_blobs` and `refused` count the captures recorded as unreadable
    (captures.index_error) and passed over."""

    new_reports: int = 0
    new_versions: int = 0
    parse_errors: int = 0
    missing_blobs: int = 0
    refused: int = 0

    def __add__(self, other: IndexStats) -> IndexStats:
        return IndexStats(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))


def _fields(stats: IndexStats) -> tuple[int, ...]:
    return tuple(getattr(stats, f.name) for f in dataclasses.fields(stats))


@dataclass(frozen=True)
class Unreadable:
    """Why a capture could not be parsed: `kind` (a parser's exception class, or MISSING_BLOB)
    and a one-line message; stored as "<kind>: <message>" in captures.index_error."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


Parsed = ParsedReport | Unreadable


@dataclass
class IndexPass:
    session: Session
    store: BlobStore
    registry: PublisherRegistry
    now: datetime
    new_reports: int = 0
    new_versions: int = 0
    parse_errors: int = 0
    missing_blobs: int = 0
    refused: int = 0

    def stats(self) -> IndexStats:
        return IndexStats(
            self.new_reports, self.new_versions, self.parse_errors, self.missing_blobs, self.refused
        )


def index_captures(
    session: Session,
    store: BlobStore,
    run_id: int | None = None,
    reparse: bool = False,
    portal: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexStats:
    """Parse the captures not indexed yet (all of them with `reparse`) into documents, of one
    run or one portal when given; `on_progress(done, total)` hears of each capture. All in the
    caller's transaction: a long pass holds SQLite's write lock throughout, so the crawl and
    `reparse` use archive.batches instead."""
    state = IndexPass(session, store, PublisherRegistry.load(session), datetime.now(UTC))
    pages = session.scalars(captures_due(PAGE_KINDS, run_id, reparse, portal)).all()
    files = session.scalars(captures_due(("attachment",), run_id, reparse, portal)).all()
    total = len(pages) + len(files)
    for done, capture in enumerate(pages, 1):
        index_page(state, capture, parse_capture(store, capture))
        if on_progress is not None:
            on_progress(done, total)
    for done, capture in enumerate(files, len(pages) + 1):
        link_attachment(state, capture)
        if on_progress is not None:
            on_progress(done, total)
    session.flush()
    return state.stats()


def captures_due(
    kinds: tuple[str, ...],
    run_id: int | None,
    reparse: bool,
    portal: str | None,
    leave_live_crawls: bool = False,
) -> Select[Capture]:
    """The captures a pass parses, in fetch order. `leave_live_crawls`: not the unindexed
    captures of a run still crawling; its own indexing counts them for its run."""
    stmt = select(Capture).where(
        Capture.kind.in_(kinds), Capture.status == 200, Capture.sha256.is_not(None)
    )
    if run_id is not None:
        stmt = stmt.where(Capture.run_id == run_id)
    if portal is not None:
        stmt = stmt.where(Capture.portal == portal)
    if not reparse:
        stmt = stmt.where(Capture.indexed_at.is_(None))
    if leave_live_crawls:
        live = select(CrawlRun.id).where(CrawlRun.status == "running")
        stmt = stmt.where(
            or_(
                Capture.indexed_at.is_not(None),
                Capture.run_id.is_(None),
                Capture.run_id.not_in(live),
            )
        )
    # In fetch order, so that each capture is compared with the version seen just before it.
    return stmt.order_by(Capture.fetched_at, Capture.id)


def parse_capture(store: BlobStore, capture: Capture, url: str | None = None) -> Parsed:
    """The capture's bytes parsed, or why they could not be. Any exception of the parser is
    caught, not only ParseError: whatever one page does to a parser (an lxml limit, a
    MemoryError, a bug), it must not stop the pass nor poison the portal's later crawls."""
    if capture.sha256 is None:  # captures_due selects captures with a body only
        return Unreadable(MISSING_BLOB, "the capture has no body")
    try:
        raw = store.get(capture.sha256)
    except BlobMissing:
        return Unreadable(MISSING_BLOB, f"{capture.sha256} is not in the blob store")
    try:
        # With the codec chosen when the bytes were archived: one choice per capture.
        return parse_bytes(raw, capture.content_type, url or capture.final_url, capture.encoding)
    except Exception as exc:  # noqa: BLE001 - recorded on the capture, see above
        return Unreadable(type(exc).__name__, one_line(exc))


def one_line(exc: BaseException, limit: int = 300) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else "(no message)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record_unreadable(state: IndexPass, capture: Capture, why: Unreadable) -> None:
    """Mark the capture indexed with its reason; the bytes stay, and `reparse` retries them."""
    capture.indexed_at, capture.index_error = state.now, str(why)
    if why.kind == MISSING_BLOB:
        state.missing_blobs += 1
    elif why.kind.startswith(REFUSED):
        state.refused += 1
    else:
        state.parse_errors += 1


def index_page(state: IndexPass, capture: Capture, parsed: Parsed) -> None:
    """Make a page capture (parsed) into its document and version."""
    if isinstance(parsed, Unreadable):
        record_unreadable(state, capture, parsed)
        # A later fetch of a known report: the report shows it (findings: `unreadable`).
        capture.document_id = _known_document(state, capture)
        return
    capture.index_error = None
    if not parsed.is_report:
        # Kept as kind `other` with the classifier's reason; `reparse` judges it again.
        capture.indexed_at, capture.not_report = state.now, f"{parsed.kind}: {parsed.reason}"
        _judged_other(state, capture)
        return
    capture.not_report = None
    doc, created = _document(state, capture, parsed)
    # Set together, so that they reach the database in one UPDATE.
    capture.indexed_at, capture.document_id = state.now, doc.id
    _record_version(state, doc, capture, parsed, created)
    if not created and capture.fetched_at >= doc.last_seen_at:
        _refresh(state.registry, doc, parsed)
        doc.not_report = None
    doc.first_seen_at = min(doc.first_seen_at, capture.fetched_at)
    doc.last_seen_at = max(doc.last_seen_at, capture.fetched_at)


def _document(state: IndexPass, capture: Capture, parsed: ParsedReport) -> tuple[Document, bool]:
    """The capture's document, and whether it was created now (filled from `parsed`)."""
    # No autoflush: a document's (portal, url) never changes, and new ones are flushed at once.
    with state.session.no_autoflush:
        doc = state.session.scalar(select(Document).where(_same_url(capture)))
    if doc is not None:
        return doc, False
    doc = Document(
        portal=capture.portal,
        url=capture.final_url,
        first_seen_at=capture.fetched_at,
        last_seen_at=capture.fetched_at,
    )
    _refresh(state.registry, doc, parsed)  # before the INSERT: one statement, not two
    state.session.add(doc)
    state.session.flush()
    state.new_reports += 1
    return doc, True


def _judged_other(state: IndexPass, capture: Capture) -> None:
    """A page archived as a report and now judged none, at its latest fetch: not a report."""
    with state.session.no_autoflush:
        doc = state.session.scalar(select(Document).where(_same_url(capture)))
    if doc is not None and capture.fetched_at >= doc.last_seen_at:
        doc.not_report = capture.not_report
        capture.document_id = doc.id


def _known_document(state: IndexPass, capture: Capture) -> int | None:
    return state.session.scalar(select(Document.id).where(_same_url(capture)))


def _same_url(capture: Capture) -> ColumnElement[bool]:
    """The document of the capture's page, found through the URL's index key."""
    url = capture.final_url
    return and_(
        Document.portal == capture.portal,
        Document.url_sha256 == url_sha256(url),
        Document.url == url,
    )


def _refresh(registry: PublisherRegistry, doc: Document, parsed: ParsedReport) -> None:
    """Make the document mirror its latest parse, and match it to the registry."""
    meta = parsed.metadata
    doc.title = parsed.title
    doc.report_year = parsed.report_year
    doc.index_no = meta.index_no
    doc.written_date = meta.written_date
    doc.published_at = meta.published_at
    doc.template = parsed.template
    doc.publisher_label = meta.publisher or parsed.publisher
    doc.subject = parsed.subject
    entry = registry.match_document(doc)
    doc.publisher_id = entry.id if entry else None


def _record_version(
    state: IndexPass, doc: Document, capture: Capture, parsed: ParsedReport, created: bool
) -> None:
    """Keep a version only when the text differs from the one seen just before this capture
    (a document `created` now has none yet)."""
    sha = hashlib.sha256(parsed.text.encode("utf-8")).hexdigest()
    session = state.session
    if created:
        _new_version(session, doc, capture, parsed, sha)
        return
    own = session.scalar(select(DocumentVersion).where(DocumentVersion.capture_id == capture.id))
    previous = session.scalar(
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == doc.id,
            DocumentVersion.seen_at <= capture.fetched_at,
            DocumentVersion.capture_id != capture.id,
        )
        .order_by(DocumentVersion.seen_at.desc(), DocumentVersion.id.desc())
        .limit(1)
    )
    unchanged = previous is not None and previous.content_sha256 == sha
    if own is not None and unchanged:
        # A re-parse found this snapshot equal to the one before it: they are one version.
        _drop_derived(session, own.id)
        session.delete(own)
    elif own is not None:
        _drop_derived(session, own.id)
        _fill_version(session, own, parsed, sha)
    elif not unchanged:
        if previous is not None:
            state.new_versions += 1
        _new_version(session, doc, capture, parsed, sha)


def _new_version(
    session: Session, doc: Document, capture: Capture, parsed: ParsedReport, sha: str
) -> None:
    version = DocumentVersion(document_id=doc.id, capture_id=capture.id, seen_at=capture.fetched_at)
    session.add(version)
    _fill_version(session, version, parsed, sha)


def _fill_version(
    session: Session, version: DocumentVersion, parsed: ParsedReport, sha: str
) -> None:
    version.content_sha256 = sha
    version.title = parsed.title
    version.meta = dataclasses.asdict(parsed.metadata)
    version.text = parsed.text
    version.encoding = parsed.encoding
    version.parser_version = PARSER_VERSION
    version.template = parsed.template
    session.flush()
    _add_figures(session, version, parsed)
    if parsed.checks:
        session.execute(
            insert(Check),
            [
                {"version_id": version.id, "rule": c.rule, "ok": bool(c.ok), "detail": c.detail}
                for c in parsed.checks
            ],
        )


def _add_figures(session: Session, version: DocumentVersion, parsed: ParsedReport) -> None:
    capture = session.get(Capture, version.capture_id)
    if capture is not None:
        write_figures(session, version.id, (row_of(f, capture) for f in parsed.figures))


def _drop_derived(session: Session, version_id: int) -> None:
    # "fetch": the deleted rows leave the session by their keys. The default ("evaluate") tests
    # every object the session holds, once per statement: quadratic over a pass of thousands.
    fetch = {"synchronize_session": "fetch"}
    session.execute(delete(Figure).where(Figure.version_id == version_id), execution_options=fetch)
    session.execute(delete(Check).where(Check.version_id == version_id), execution_options=fetch)


def link_attachment(state: IndexPass, capture: Capture, parsed: Parsed | None = None) -> None:
    """Attach an attachment capture to its report (`parsed` when it was parsed already)."""
    doc = parent_document(state.session, capture)
    if doc is None:
        if not _parent_pending(state.session, capture):
            capture.indexed_at = state.now
        return  # else retried once the parent page is indexed
    capture.indexed_at = state.now
    _parse_attachment(state, doc, capture, parsed)
    known = state.session.scalar(
        select(Attachment.id).where(
            Attachment.document_id == doc.id,
            Attachment.url == capture.url,
            Attachment.sha256 == capture.sha256,
        )
    )
    if known is None:
        state.session.add(
            Attachment(
                document_id=doc.id,
                capture_id=capture.id,
                url=capture.url,
                sha256=capture.sha256,
                content_type=capture.content_type,
            )
        )


def _parse_attachment(
    state: IndexPass, doc: Document, capture: Capture, parsed: Parsed | None
) -> None:
    """An attachment's figures join the version of its report current when it was fetched.

    A scan no engine reads marks the report `needs_ocr`. When the page is narrative and the
    attachment carries the table, the table's headline figures win (figures.md) and the page's
    prose figures they shadow stay as prose.<name>; otherwise the page's figures win.
    """
    version = _version_at(state.session, doc, capture)
    if version is None or capture.sha256 is None:
        return
    if parsed is None:
        parsed = parse_capture(state.store, capture, capture.url)
    if isinstance(parsed, Unreadable):
        record_unreadable(state, capture, parsed)
        return
    capture.index_error = None
    if parsed.needs_ocr:
        doc.needs_ocr = True
        return
    table_wins = version.template in (None, "narrative") and parsed.template != "narrative"
    if table_wins:
        version.template = doc.template = parsed.template
    _merge_figures(state.session, version, parsed, capture, table_wins)
    state.session.add_all(
        Check(
            version_id=version.id,
            rule=c.rule,
            ok=bool(c.ok),
            detail=f"{c.detail} (attachment {capture.url})",
        )
        for c in parsed.checks
    )


def _version_at(session: Session, doc: Document, capture: Capture) -> DocumentVersion | None:
    stmt = select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
    before = stmt.where(DocumentVersion.seen_at <= capture.fetched_at)
    order = (DocumentVersion.seen_at.desc(), DocumentVersion.id.desc())
    return session.scalar(before.order_by(*order).limit(1)) or session.scalar(
        stmt.order_by(*order).limit(1)
    )


def _merge_figures(
    session: Session,
    version: DocumentVersion,
    parsed: ParsedReport,
    capture: Capture,
    table_wins: bool,
) -> None:
    have = {
        f.key: f for f in session.scalars(select(Figure).where(Figure.version_id == version.id))
    }
    new = [f for f in parsed.figures
           if f.key not in have or (table_wins and f.key.startswith("headline."))]  # fmt: skip
    shadowed = [have[f.key] for f in new if f.key in have]
    kept = {f"prose.{old.key.removeprefix('headline.')}": old for old in shadowed}
    for old in shadowed:
        session.delete(old)
    session.flush()  # the rows go before their keys are used again
    rows = [
        FigureRow(key, old.value, old.provenance) for key, old in kept.items() if key not in have
    ]
    # Not the page's own prose figure: its shadow copy, above, is kept instead.
    rows += [row_of(f, capture) for f in new if f.key not in kept]
    write_figures(session, version.id, rows)


def parent_document(session: Session, capture: Capture) -> Document | None:
    if not capture.parent_url:
        return None
    stmt = (
        select(Document)
        .join(Capture, Capture.document_id == Document.id)
        .where(Capture.portal == capture.portal, _is_url(capture.parent_url))
        .limit(1)
    )
    return session.scalar(stmt)


def _parent_pending(session: Session, capture: Capture) -> bool:
    """True while the page the attachment was linked from is archived but not indexed yet."""
    if not capture.parent_url:
        return False
    stmt = select(Capture.id).where(
        Capture.portal == capture.portal,
        Capture.kind.in_(PAGE_KINDS),
        Capture.indexed_at.is_(None),
        _is_url(capture.parent_url),
    )
    return session.scalar(stmt.limit(1)) is not None


def _is_url(url: str) -> ColumnElement[bool]:
    return or_(Capture.url == url, Capture.final_url == url)
