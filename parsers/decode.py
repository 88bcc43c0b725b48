"""Bytes -> text: charset choice (BOM, header, meta, sniffing) and format sniffing."""

from __future__ import annotations

import codecs
import re

from parsers.errors import UnsupportedFormat
from parsers.model import Decoded
from parsers.rules.forms import GB_CHARSETS

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I
)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)
_META_WINDOW = 2048  # WHATWG prescans 1024 bytes; some Hanweb heads put the meta a bit later
_HTML_SNIFF_RE = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|meta|title|div|p|table|span|br|a|script)\b", re.I
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def normalise_charset(label: str | None) -> str | None:
    """A charset label -> a Python codec name, or None when unknown. GB labels -> gb18030."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in GB_CHARSETS:
        return "gb18030"  # sites declare gb2312 and serve GBK/GB18030 (portals.md)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # junk labels, e.g. with a NUL in them
        return None
    return "utf-8" if codec == "utf-8" else codec


def charset_from_content_type(content_type: str | None) -> str | None:
    """'text/html; charset=GBK' -> 'GBK'."""
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    return m.group(1) if m else None


def decode_html(raw: bytes, header_charset: str | None) -> Decoded:
    """Decode page bytes: BOM, HTTP header, <meta> in the first 2 KB, then utf-8 / gb18030.

    A declared charset that fails strictly gives way to the next candidate (servers often
    declare utf-8 for GBK pages); when nothing decodes cleanly the first candidate is used
    with replacement characters and the encoding says '/replace'. Never raises.
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decode_lenient(raw[len(bom) :], [codec])
    candidates = [normalise_charset(header_charset), _meta_charset(raw), "utf-8", "gb18030"]
    return _decode_lenient(raw, [c for c in candidates if c])


def _meta_charset(raw: bytes) -> str | None:
    m = _META_CHARSET_RE.search(raw[:_META_WINDOW])
    return normalise_charset(m.group(1).decode("ascii", "replace")) if m else None


def _decode_lenient(raw: bytes, codecs_to_try: list[str]) -> Decoded:
    seen: list[str] = []
    for codec in codecs_to_try:
        if codec in seen:
            continue
        seen.append(codec)
        try:
            return Decoded(raw.decode(codec), codec)
        except (ValueError, LookupError):  # UnicodeError is a ValueError; odd codecs raise others
            continue
    first = seen[0] if seen else "utf-8"
    try:
        return Decoded(raw.decode(first, errors="replace"), f"{first}/replace")
    except (ValueError, LookupError):
        return Decoded(raw.decode("utf-8", errors="replace"), "utf-8/replace")


def sniff_kind(raw: bytes) -> str:
    """'text', or the binary form: 'PDF', 'DOCX', 'XLSX', 'DOC', 'XLS' (forms/ reads them).

    Raises UnsupportedFormat for images, RTF, other archives and other binary data.
    """
    head = raw[:1024]
    if b"%PDF-" in head:
        return "PDF"
    if raw.startswith(b"PK\x03\x04"):
        return _known(_zip_kind(raw))
    if raw.startswith(_OLE2_MAGIC):
        return _known(_ole2_kind(raw))
    for magic, kind in ((b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
                        (b"GIF8", "GIF image"), (b"{\\rtf", "RTF")):  # fmt: skip
        if raw.startswith(magic):
            raise UnsupportedFormat(kind)
    if b"\x00" in head and not any(raw.startswith(bom) for bom, _ in _BOMS[1:]):
        raise UnsupportedFormat("binary data")
    return "text"


def _known(kind: str) -> str:
    if kind not in ("DOCX", "XLSX", "DOC", "XLS"):
        raise UnsupportedFormat(kind)
    return kind


def _zip_kind(raw: bytes) -> str:
    # Member names sit in plain text in the local file headers: no need to open the archive.
    if b"word/" in raw:
        return "DOCX"
    if b"xl/" in raw:
        return "XLSX"
    return "ZIP archive"


def _ole2_kind(raw: bytes) -> str:
    # Stream names are UTF-16LE in the OLE2 directory.
    if "WordDocument".encode("utf-16-le") in raw:
        return "DOC"
    if "Workbook".encode("utf-16-le") in raw or "Book".encode("utf-16-le") in raw:
        return "XLS"
    return "OLE2 document (DOC/XLS)"


def looks_like_html(text: str) -> bool:
    """Whether decoded text is markup rather than plain text (checked on the first 4 KB)."""
    return _HTML_SNIFF_RE.search(text[:4096]) is not None
