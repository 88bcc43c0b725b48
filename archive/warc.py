"""Every raw capture as WARC files, so standard web-archive tools can replay the archive.

One gzipped WARC per portal (`<portal>.warc.gz`): a `warcinfo` record, then one `response` record
per capture in fetch order, its payload the exact stored bytes. The HTTP headers are those
recorded, except that the crawler stores bodies already decoded (gzip and chunking undone), so
`Content-Encoding` and `Transfer-Encoding` are kept as `X-Archive-Orig-…` (the Wayback convention)
and `Content-Length` is the stored body's. `WARC-Nianbao-Capture-ID` names the capture row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from http import HTTPStatus
from io import BytesIO
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.blobs import BlobMissing, BlobStore
from archive.files import StagedFiles, staged_files
from archive.models import Capture

CAPTURE_HEADER = "WARC-Nianbao-Capture-ID"
_DECODED = {"content-encoding", "transfer-encoding"}
_RECOMPUTED = {"content-length"}


@dataclass(frozen=True)
class WarcFile:
    path: Path
    portal: str
    records: int  # response records, one per capture


class BlobsMissing(RuntimeError):
    """Captures whose blobs are not in the store: the export wrote nothing."""

    def __init__(self, shas: list[str]) -> None:
        shown = ", ".join(shas[:3]) + (f" and {len(shas) - 3} more" if len(shas) > 3 else "")
        super().__init__(
            f"{len(shas)} blob(s) missing from the store ({shown}); no WARC written "
            "(see `nianbao archive verify`)"
        )
        self.shas = shas


def export_warc(
    session: Session,
    store: BlobStore,
    out_dir: Path,
    portal: str | None = None,
    replace: bool = False,
) -> list[WarcFile]:
    """Write `<portal>.warc.gz` for every portal with captures (or just `portal`).

    The files appear together, whole, once every one is written (archive.files). A capture
    whose blob is missing stops nothing until the end, then `BlobsMissing` names every one and
    no file is written; an existing file is replaced only when `replace` is set."""
    stmt = select(Capture.portal).distinct().order_by(Capture.portal)
    if portal is not None:
        stmt = stmt.where(Capture.portal == portal)
    written: list[WarcFile] = []
    missing: list[str] = []
    with staged_files(out_dir, replace) as files:
        for name in session.scalars(stmt).all():
            written.append(_write_portal(session, store, files, name, missing))
        if missing:
            raise BlobsMissing(missing)
    return written


def _write_portal(
    session: Session, store: BlobStore, files: StagedFiles, portal: str, missing: list[str]
) -> WarcFile:
    """One portal's WARC; the sha256 of each blob not in the store is added to `missing`."""
    name = f"{portal}.warc.gz"
    count = 0
    with files.open(name, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        info = {"software": "nianbao", "format": "WARC File Format 1.0", "portal": portal}
        writer.write_record(writer.create_warcinfo_record(name, info))
        for capture in _captures(session, portal):
            if missing:  # nothing will be written: only look for the other missing blobs
                if capture.sha256 and not store.has(capture.sha256):
                    missing.append(capture.sha256)
                continue
            try:
                body = store.get(capture.sha256) if capture.sha256 else b""
            except BlobMissing:
                missing.append(str(capture.sha256))
                continue
            writer.write_record(_response(writer, capture, body))
            count += 1
    return WarcFile(files.directory / name, portal, count)


def _captures(session: Session, portal: str) -> Iterator[Capture]:
    stmt = (
        select(Capture)
        .where(Capture.portal == portal)
        .order_by(Capture.fetched_at, Capture.id)
        .execution_options(yield_per=500)
    )
    yield from session.scalars(stmt)


def _response(writer: WARCWriter, capture: Capture, body: bytes) -> ArcWarcRecord:
    http = StatusAndHeaders(
        f"{capture.status} {_reason(capture.status)}",
        http_headers(capture.headers, len(body)),
        protocol="HTTP/1.1",
    )
    moment = capture.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return writer.create_warc_record(
        capture.final_url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": moment, CAPTURE_HEADER: str(capture.id)},
    )


def http_headers(recorded: list[list[str]], length: int) -> list[tuple[str, str]]:
    """The recorded headers, made true of the stored (decoded) body."""
    headers = []
    for name, value in recorded:
        lowered = name.lower()
        if lowered in _DECODED:
            headers.append((f"X-Archive-Orig-{name}", value))
        elif lowered not in _RECOMPUTED:
            headers.append((name, value))
    headers.append(("Content-Length", str(length)))
    return headers


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
