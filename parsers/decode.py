"""Bytes -> text: charset choice (BOM, header, meta, sniffing) and format sniffing."""

from __future__ import annotations

import codecs
import re

from parsers.errors import UnsupportedFormat
from parsers.model import Decoded
from parsers.rules.charsets import (
    GB_SNIFF_CJK_SHARE,
    LABEL_TO_ENCODING,
    META_OVERRIDES,
    PYTHON_CODECS,
    SERVER_DEFAULT_ENCODINGS,
)
from parsers.sniff import FORMS, TEXT_TYPES, sniff

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I
)
# `charset=` as a parameter of its own (after a `;`, or a space where the `;` was forgotten),
# its value bare or quoted.
_HEADER_CHARSET_RE = re.compile(
    r"(?:^|[;,\s])charset\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s;]+))", re.I
)
_META_WINDOW = 2048  # WHATWG prescans 1024 bytes; some Hanweb heads put the meta a bit later
_HTML_SNIFF_RE = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|meta|title|div|p|table|span|br|a|script)\b", re.I
)
_CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_ASCII_WHITESPACE = "\t\n\f\r "
_SNIFF_CHARS = 100_000  # enough of a page to tell GBK text from latin1 read as GBK


def whatwg_encoding(label: str | None) -> str | None:
    """A charset label -> its WHATWG encoding name ('gb2312' -> 'GBK'), or None if not a label."""
    if not label:
        return None
    return LABEL_TO_ENCODING.get(label.strip(_ASCII_WHITESPACE).strip("\"'").lower())


def normalise_charset(label: str | None) -> str | None:
    """A charset label -> the Python codec that decodes it, or None when browsers would ignore it."""
    encoding = whatwg_encoding(label)
    return PYTHON_CODECS[encoding] if encoding else None


def header_charset(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header ('text/html; charset="GBK"' -> 'GBK'),
    or None. The one reader of it: the archive records the codec it implies, the parsers decode
    with it."""
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    label = next((g for g in m.groups() if g is not None), "").strip() if m else ""
    return label or None


def decode_html(raw: bytes, header_charset: str | None) -> Decoded:
    """Decode page bytes: BOM, HTTP header, <meta> in the first 2 KB, then utf-8 / gb18030.

    Only WHATWG labels count (rules/charsets.py). A declared charset that fails strictly gives
    way to the next candidate (servers often declare utf-8 for GBK pages). A header saying
    latin1 / windows-1252 is a server default: the page's meta, then its bytes (utf-8, GBK) come
    first. When nothing decodes cleanly the first candidate is used with replacement characters
    and the encoding says '/replace'. Never raises.
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decode_lenient(raw[len(bom) :], [codec])
    header, meta = whatwg_encoding(header_charset), _meta_encoding(raw)
    if header in SERVER_DEFAULT_ENCODINGS:
        own = _page_says(raw, meta)
        if own is not None:
            return own
    candidates = [_codec(header), _codec(meta), "utf-8", "gb18030"]
    return _decode_lenient(raw, [c for c in candidates if c])


def decode_as(raw: bytes, encoding: str) -> Decoded:
    """Decode with the codec `decode_html` chose before (the archive's `captures.encoding`, e.g.
    'gb18030' or 'utf-8/replace'): no second choice, no candidates tried. Falls back to
    `decode_html` when the bytes do not decode so (they were chosen under other rules)."""
    codec, _, replace = encoding.partition("/")
    for bom, bom_codec in _BOMS:
        if bom_codec == codec and raw.startswith(bom):
            raw = raw[len(bom) :]
            break
    try:
        return Decoded(raw.decode(codec, "replace" if replace else "strict"), encoding)
    except (ValueError, LookupError):
        return decode_html(raw, None)


def _codec(encoding: str | None) -> str | None:
    return PYTHON_CODECS[encoding] if encoding else None


def _meta_encoding(raw: bytes) -> str | None:
    m = _META_CHARSET_RE.search(raw[:_META_WINDOW])
    encoding = whatwg_encoding(m.group(1).decode("ascii", "replace")) if m else None
    return META_OVERRIDES.get(encoding, encoding) if encoding else None


def _page_says(raw: bytes, meta: str | None) -> Decoded | None:
    """What a page under a server-default header says of itself: its meta, or bytes that are
    clearly utf-8 or clearly GBK; None when nothing does (the header then stands)."""
    meta_codec = _codec(meta)
    if meta_codec and meta not in SERVER_DEFAULT_ENCODINGS:
        found = _decode_strict(raw, meta_codec)
        if found is not None:
            return found
    if raw.isascii():
        return None  # pure ASCII: every candidate reads it alike, the header's name is kept
    found = _decode_strict(raw, "utf-8")
    if found is not None:
        return found
    found = _decode_strict(raw, "gb18030")
    return found if found is not None and _mostly_cjk(found.text) else None


def _mostly_cjk(text: str) -> bool:
    sample = text[:_SNIFF_CHARS]
    non_ascii = len(sample) - len(_NON_ASCII_RE.sub("", sample))
    cjk = len(sample) - len(_CJK_RE.sub("", sample))
    return non_ascii > 0 and cjk >= GB_SNIFF_CJK_SHARE * non_ascii


def _decode_strict(raw: bytes, codec: str) -> Decoded | None:
    try:
        return Decoded(raw.decode(codec), codec)
    except (ValueError, LookupError):
        return None


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
    """'text', or the form the parsers read: 'PDF', 'DOCX', 'XLSX', 'DOC', 'XLS' (forms/ reads
    them), by the one sniffer (parsers.sniff). Raises UnsupportedFormat for images, RTF, other
    archives and other binary data."""
    found = sniff(raw)
    if found.type in TEXT_TYPES:
        return "text"
    form = FORMS.get(found.type)
    if form is None:
        raise UnsupportedFormat(found.name)
    return form


def looks_like_html(text: str) -> bool:
    """Whether decoded text is markup rather than plain text (checked on the first 4 KB)."""
    return _HTML_SNIFF_RE.search(text[:4096]) is not None
