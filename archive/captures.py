"""Recording one fetch: the bytes into the blob store first, then the rows that point at them."""

from __future__ import annotations

import codecs
import dataclasses
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, cast

from sqlalchemy import Executable, Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.models import CAPTURE_KINDS, CAPTURE_OUTCOMES, Blob, Capture
from parsers.decode import decode_html, header_charset
from parsers.sniff import TEXT_TYPES

CAPTURES = cast(Table, Capture.__table__)


class InvalidCapture(ValueError):
    """A capture that is not one: a field missing, unknown or of the wrong type, a kind or
    outcome the archive does not know, a naive time. The message is one line."""


@dataclass(frozen=True, kw_only=True)
class CaptureIn:
    """One fetch, from the spider that made it to the archive writer: the bytes, the headers,
    what kind of page it was and what it turned out to be (`outcome`, crawler.outcomes).

    The one type for a capture on its way (crawler.items names it `CaptureItem` for the
    spiders): checked where it is built, so a wrong value fails at its source, not in a writer
    process later; keyword-only, so two `str | None` fields cannot be swapped by position.
    `body` is None for a 304, a fetch that got no answer and a file over the size limit;
    `run_id` is the crawl run's, stamped by the archive writer when the spider leaves it out.
    """

    portal: str
    url: str
    final_url: str
    status: int
    headers: Headers
    body: bytes | None
    fetched_at: datetime
    kind: str  # robots | listing | article | module | attachment | other
    run_id: int | None = None
    parent_url: str | None = None
    content_type: str | None = None
    # What the fetch turned out to be (crawler.outcomes): see models.CAPTURE_OUTCOMES.
    outcome: str = "ok"
    detected_type: str | None = None  # what the bytes are (parsers.sniff)
    finding: str | None = None
    listed_title: str | None = None
    # The codec a text body decodes with (parsers.decode.decode_html, e.g. 'gb18030' or
    # 'utf-8/replace'), chosen where the body was first decoded: the spider decodes a page once,
    # for its links and for this. None: a binary body, no body, or not chosen yet (the archive
    # writer then chooses it by the same rule, `text_encoding`).
    encoding: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CAPTURE_KINDS:
            raise InvalidCapture(
                f"capture kind {self.kind!r} is not one of {', '.join(CAPTURE_KINDS)}"
            )
        if self.outcome not in CAPTURE_OUTCOMES:
            raise InvalidCapture(
                f"outcome {self.outcome!r} is not one of {', '.join(CAPTURE_OUTCOMES)}"
            )
        for name, types in _FIELD_TYPES:
            if not isinstance(getattr(self, name), types) or type(getattr(self, name)) is bool:
                raise InvalidCapture(f"capture field {name}: {getattr(self, name)!r:.80}")
        if self.encoding is not None and not _is_codec(self.encoding):
            raise InvalidCapture(f"capture encoding {self.encoding!r:.80} is no codec")
        if self.fetched_at.tzinfo is None:
            raise InvalidCapture("fetched_at must be an aware datetime")
        if not isinstance(self.headers, tuple):  # a list (a test, JSON): kept as the tuple
            pairs = (tuple(p) if isinstance(p, list) else p for p in self.headers)
            object.__setattr__(self, "headers", tuple(pairs))
        for pair in self.headers:
            if not (
                type(pair) is tuple and len(pair) == 2 and _is_str(pair[0]) and _is_str(pair[1])
            ):
                raise InvalidCapture(f"capture header {pair!r:.80} is no (name, value) pair")


Headers = tuple[tuple[str, str], ...]


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_codec(encoding: str) -> bool:
    """Whether `encoding` is a codec as decode_html names one: 'gbk', 'utf-8/replace'."""
    codec, slash, rest = encoding.partition("/")
    try:
        codecs.lookup(codec)
    except LookupError:
        return False
    return not slash or rest == "replace"


_OPT_STR = (str, type(None))
# Checked on every capture built (a few isinstance calls: microseconds against a fetch).
_FIELD_TYPES: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("portal", str), ("url", str), ("final_url", str), ("status", int),
    ("headers", (tuple, list)), ("body", (bytes, type(None))), ("fetched_at", datetime),
    ("kind", str), ("run_id", (int, type(None))), ("parent_url", _OPT_STR),
    ("content_type", _OPT_STR), ("outcome", str), ("detected_type", _OPT_STR),
    ("finding", _OPT_STR), ("listed_title", _OPT_STR), ("encoding", _OPT_STR),
)  # fmt: skip
CAPTURE_FIELDS = tuple(f.name for f in dataclasses.fields(CaptureIn))


def dump_capture(capture: CaptureIn, stream: IO[bytes]) -> None:
    """Write `capture` to `stream` as its fields by name (the crawl's pipe to its archive
    writer: crawler.pipeline, crawler.writer); `load_capture` reads it back.

    Pickle of a plain dict: bytes, datetimes and None go as they are, at the speed of the
    crawl, and a name, not a position, says what each value is. The stream is a pipe between
    two processes of one crawl, never data from elsewhere."""
    fields = {name: getattr(capture, name) for name in CAPTURE_FIELDS}
    pickle.dump(fields, stream, pickle.HIGHEST_PROTOCOL)


def load_capture(stream: IO[bytes]) -> CaptureIn:
    """The next capture `dump_capture` wrote to `stream`, checked as where it was built.
    EOFError at the end of the stream; InvalidCapture when what comes is no capture."""
    try:
        fields = pickle.load(stream)
    except pickle.UnpicklingError as exc:
        raise InvalidCapture(f"not a capture: {exc}") from exc
    if not isinstance(fields, dict) or set(fields) != set(CAPTURE_FIELDS):
        names = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
        raise InvalidCapture(f"not a capture's fields: {names}")
    return CaptureIn(**fields)


def record_capture(session: Session, store: BlobStore, cap: CaptureIn) -> Capture:
    """Archive one fetch and flush its row; the caller commits."""
    sha = None
    if cap.body is not None:
        # The blob is durable before any row names it, so a crash at any point leaves at worst an
        # unreferenced file, never a row pointing at nothing.
        sha = store.put(cap.body)
        _add_blob_row(session, sha, len(cap.body))
    row = Capture(**_values(cap, sha))
    session.add(row)
    session.flush()
    return row


def record_captures(
    session: Session,
    store: BlobStore,
    caps: Sequence[CaptureIn],
) -> None:
    """Archive a batch of fetches with one statement per table (the crawler's writer process
    uses it: row by row, the ORM costs a fast crawl more than the fetching). The caller
    commits."""
    bodies = [cap.body for cap in caps if cap.body is not None]
    # Every blob is durable before the rows that name it, as above (one sync for the batch).
    shas = iter(store.put_many(bodies))
    sizes: dict[str, int] = {}
    rows = []
    for cap in caps:
        sha = None
        if cap.body is not None:
            sha = next(shas)
            sizes[sha] = len(cap.body)
        rows.append(_values(cap, sha))
    now = datetime.now(UTC)
    blobs = [{"sha256": sha, "size": size, "stored_at": now} for sha, size in sizes.items()]
    if blobs:
        session.execute(_blob_insert(session), blobs)
    if rows:
        # Core, on the table: the ORM's bookkeeping per row would cost more than the insert.
        session.execute(insert(CAPTURES), rows)


def _values(cap: CaptureIn, sha: str | None) -> dict[str, Any]:
    return {
        "run_id": cap.run_id,
        "portal": cap.portal,
        "url": cap.url,
        "final_url": cap.final_url,
        "status": cap.status,
        "headers": [[name, value] for name, value in cap.headers],
        "fetched_at": cap.fetched_at,
        "sha256": sha,
        "content_type": cap.content_type,
        "encoding": cap.encoding or text_encoding(cap.body, cap.content_type, cap.detected_type),
        "kind": cap.kind,
        "parent_url": cap.parent_url,
        "outcome": cap.outcome,
        "detected_type": cap.detected_type,
        "finding": cap.finding,
        "listed_title": cap.listed_title,
    }


def _blob_insert(session: Session) -> Executable:
    """INSERT of blob rows that ignores the ones already there (on both backends)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Blob).on_conflict_do_nothing()
    return sqlite.insert(Blob).on_conflict_do_nothing()


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


def text_encoding(
    body: bytes | None, content_type: str | None, detected_type: str | None = None
) -> str | None:
    """The charset a text body decodes with (as the parsers decode it); None for binary bodies.

    A body is text when its Content-Type says so or, when the header is absent or wrong, when
    its bytes are HTML, XML or plain text (`detected_type`, parsers.sniff).
    """
    if body is None or not is_text(content_type, detected_type):
        return None
    return decode_html(body, header_charset(content_type)).encoding


def is_text(content_type: str | None, detected_type: str | None) -> bool:
    """Whether a body is text: its Content-Type says so, or its bytes are HTML, XML, JSON or
    plain text (`detected_type`, parsers.sniff) when the header is absent or wrong."""
    return _text_mime(content_type) or detected_type in TEXT_TYPES


def _text_mime(content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in {"application/xhtml+xml", "application/xml"}


@dataclass(frozen=True)
class LastFetch:
    """What a conditional re-fetch of a URL needs from its latest capture with a body."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str
    kind: str = "article"
    parent_url: str | None = None  # the page an attachment was linked from


def last_fetches(
    session: Session, portal: str, kinds: tuple[str, ...] = ("article", "module", "attachment")
) -> dict[str, LastFetch]:
    """The latest good capture of every URL of `portal` of these kinds, by URL as requested."""
    latest = (
        select(func.max(Capture.id))
        .where(
            Capture.portal == portal,
            Capture.kind.in_(kinds),
            Capture.status == 200,
            Capture.outcome == "ok",
            Capture.sha256.is_not(None),
        )
        .group_by(Capture.url)
    )
    rows = session.execute(
        select(
            Capture.url, Capture.headers, Capture.sha256, Capture.kind, Capture.parent_url
        ).where(Capture.id.in_(latest))
    )
    found: dict[str, LastFetch] = {}
    for url, headers, sha, kind, parent in rows:
        named = {str(name).lower(): str(value) for name, value in headers}
        found[url] = LastFetch(
            url, named.get("etag"), named.get("last-modified"), sha, kind, parent
        )
    return found
