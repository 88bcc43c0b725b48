"""Indexing in short committed batches: the crawl's pass and `reparse`.

SQLite has one write lock for the whole file: a pass in one transaction held it for minutes, and
every other writer (a lease renewal, a second crawl, a command) failed after the busy timeout.
Here each batch parses its captures outside any transaction (parsing is most of the time), then
takes the indexing lock and writes them in one short transaction, and commits: a batch is written
whole or not at all, and what is not written yet stays unindexed for the next pass.

Under the lock each capture is looked at again, so two passes at once (a crawl's own and
`reparse`) never index one capture twice nor create one document twice. A capture the database
refuses (a value too long, a broken invariant) is recorded on the capture and passed over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Select, func, or_, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, load_only

from archive.blobs import BlobStore
from archive.db import session_scope
from archive.errors import write_failure
from archive.indexing import (
    PAGE_KINDS,
    REFUSED,
    IndexPass,
    IndexStats,
    Parsed,
    Unreadable,
    captures_due,
    index_page,
    link_attachment,
    one_line,
    parent_document,
    parse_capture,
    record_unreadable,
)
from archive.models import Capture
from archive.registry import PublisherRegistry

BATCH_CAPTURES = 50
BATCH_SECONDS = 1.0  # of parsing; the write that follows takes a fraction of it
# Any constant will do: it only has to be the same for every process indexing one database.
_PG_INDEX_LOCK = 7_310_2020
_BATCH = list[tuple[int, Parsed | None]]  # capture id, and its parse (None: parse under lock)


@dataclass(frozen=True)
class _Job:
    engine: Engine
    store: BlobStore
    registry: PublisherRegistry
    reparse: bool
    started: datetime
    batch_captures: int
    batch_seconds: float


def index_in_batches(
    engine: Engine,
    store: BlobStore,
    *,
    portal: str | None = None,
    reparse: bool = False,
    leave_live_crawls: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    batch_captures: int = BATCH_CAPTURES,
    batch_seconds: float = BATCH_SECONDS,
) -> IndexStats:
    """As archive.indexing.index_captures, committing every `batch_captures` captures or
    `batch_seconds` of parsing. `leave_live_crawls`: see captures_due."""
    with session_scope(engine) as session:
        # One portal's publishers when indexing one portal (a capture matches only its own
        # portal's): the whole registry, loaded for each portal a crawl process closes, made
        # closing N portals cost N x N (0.15 s a portal at 500 portals).
        registry = PublisherRegistry.load(session, portal)
        light = load_only(
            Capture.id, Capture.sha256, Capture.content_type, Capture.url, Capture.final_url,
            Capture.portal, Capture.parent_url, Capture.encoding,
        )  # fmt: skip
        pages, files = (
            session.scalars(
                captures_due(kinds, None, reparse, portal, leave_live_crawls).options(light)
            ).all()
            for kinds in (PAGE_KINDS, ("attachment",))
        )
    job = _Job(engine, store, registry, reparse, datetime.now(UTC), batch_captures, batch_seconds)
    stats, done, total = IndexStats(), 0, len(pages) + len(files)
    for captures, attach in ((pages, False), (files, True)):
        for batch in _parsed_batches(job, captures, attach):
            stats += _write(job, batch, attach)
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)
    return stats


def _parsed_batches(job: _Job, captures: Iterable[Capture], attach: bool) -> Iterator[_BATCH]:
    """The captures parsed, a batch at a time: at most `batch_captures` of them, or what was
    parsed within `batch_seconds` (one huge page makes a batch of its own)."""
    pending = iter(captures)
    while True:
        batch: _BATCH = []
        started = time.monotonic()
        with Session(job.engine) as read:
            for capture in pending:
                batch.append((capture.id, _parse(job, read, capture, attach)))
                full = len(batch) >= job.batch_captures
                if full or time.monotonic() - started >= job.batch_seconds:
                    break
        if not batch:
            return
        yield batch


def _parse(job: _Job, read: Session, capture: Capture, attach: bool) -> Parsed | None:
    if not attach:
        return parse_capture(job.store, capture)
    # An attachment is parsed only for a report: most attachments without one are never read.
    if parent_document(read, capture) is None:
        return None
    return parse_capture(job.store, capture, capture.url)


def _write(job: _Job, batch: _BATCH, attach: bool) -> IndexStats:
    """Write a parsed batch; when the database refuses it for what one capture holds, each
    capture alone, and the one refused alone is recorded as such."""
    try:
        return _write_once(job, batch, attach)
    except Exception as exc:
        if not _capture_fault(exc, job):
            raise
        if len(batch) > 1:
            stats = IndexStats()
            for item in batch:
                stats += _write(job, [item], attach)
            return stats
        return _record_refused(job, batch[0][0], exc)


def _write_once(job: _Job, batch: _BATCH, attach: bool) -> IndexStats:
    parsed = dict(batch)
    with session_scope(job.engine) as session:
        lock_for_indexing(session)
        state = IndexPass(session, job.store, job.registry, datetime.now(UTC))
        for capture in session.scalars(_still_due(job, list(parsed))):
            got = parsed[capture.id]
            if attach:
                link_attachment(state, capture, got)
            else:
                index_page(
                    state, capture, got if got is not None else parse_capture(job.store, capture)
                )
        session.flush()
    return state.stats()


def _still_due(job: _Job, ids: list[int]) -> Select[Capture]:
    """The batch's captures no other pass has indexed since this one began."""
    stmt = captures_due(PAGE_KINDS + ("attachment",), None, True, None).where(Capture.id.in_(ids))
    if job.reparse:
        return stmt.where(or_(Capture.indexed_at.is_(None), Capture.indexed_at < job.started))
    return stmt.where(Capture.indexed_at.is_(None))


def _capture_fault(exc: Exception, job: _Job) -> bool:
    """Whether `exc` may come of one capture's data (a value too long, a bug on odd input),
    rather than of the archive (full, read-only, locked, unreachable): those stop the pass."""
    url = job.engine.url.render_as_string(hide_password=True)
    if write_failure(exc, url) is not None:
        return False
    return not isinstance(exc, DBAPIError) or isinstance(exc, (DataError, IntegrityError))


def _record_refused(job: _Job, capture_id: int, exc: Exception) -> IndexStats:
    """Record why the capture could not be written: the database refused a value, or the
    indexing code failed on it (a bug on odd input, counted as a parse error)."""
    if isinstance(exc, DBAPIError):
        cause = exc.orig if exc.orig is not None else exc
        why = Unreadable(f"{REFUSED} ({type(cause).__name__})", one_line(cause))
    else:
        why = Unreadable(type(exc).__name__, one_line(exc))
    with session_scope(job.engine) as session:
        lock_for_indexing(session)
        state = IndexPass(session, job.store, job.registry, datetime.now(UTC))
        capture = session.get(Capture, capture_id)
        if capture is not None:
            record_unreadable(state, capture, why)
    return state.stats()


def lock_for_indexing(session: Session) -> None:
    """Take the archive's indexing lock for the session's transaction; it must come first.

    SQLite: BEGIN IMMEDIATE, the write lock itself (pysqlite would begin a deferred transaction
    only at the first write, after reads that may by then be stale). PostgreSQL: an advisory
    lock, released at commit."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_PG_INDEX_LOCK)))
