"""What a body is, from its bytes alone: the one sniffer the crawl and the parsers both call.

The crawl records the type on every capture (`detected_type`: a link to x.pdf that answered with
an HTML error page is told apart by it); the parsers pick the reader by it. The bytes decide, never
the URL nor the Content-Type: servers send PDFs as text/html and error pages as application/pdf.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from typing import NamedTuple

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# OLE2 stream names (UTF-16LE in the directory) and the type each one means.
_OLE_STREAMS = (("WordDocument", "doc"), ("Workbook", "xls"), ("Book", "xls"),
                ("PowerPoint Document", "ppt"))  # fmt: skip
# [Content_Types].xml of an Office Open XML file names its main part's content type.
_OOXML = (("wordprocessingml", "docx"), ("spreadsheetml", "xlsx"), ("presentationml", "pptx"))
_MAGIC = ((b"\x89PNG", "image", "PNG image"), (b"\xff\xd8\xff", "image", "JPEG image"),
          (b"GIF8", "image", "GIF image"), (b"{\\rtf", "rtf", "RTF"))  # fmt: skip
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|script|title)\b", re.I | re.S)  # fmt: skip
_HTML_ANYWHERE = re.compile(rb"<(?:html|body)\b", re.I)
_HEAD = 2048  # bytes of a text body looked at

# The types a body may be; the names are the archive's `captures.detected_type` values.
TEXT_TYPES = frozenset({"html", "xml", "json", "text"})
# Types the parsers read (parsers.forms), by the name the forms use.
FORMS = {"pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "doc": "DOC", "xls": "XLS"}
_NAMES = {"zip": "ZIP archive", "ole": "OLE2 document (DOC/XLS)", "binary": "binary data"}


class Sniffed(NamedTuple):
    """The body's type (pdf, doc(x), xls(x), ppt(x), image, rtf, zip, ole, html, xml, json,
    text or binary) and a name for people ("PNG image", "ZIP archive")."""

    type: str
    name: str


def sniff(body: bytes) -> Sniffed:
    """What `body` is, by its magic bytes (and, for text, how it starts)."""
    if b"%PDF-" in body[:1024]:
        return _named("pdf")
    if body.startswith(b"PK\x03\x04"):
        return _named(_zip_type(body))
    if body.startswith(_OLE2):
        return _named(
            next((t for name, t in _OLE_STREAMS if name.encode("utf-16-le") in body), "ole")
        )
    for magic, kind, name in _MAGIC:
        if body.startswith(magic):
            return Sniffed(kind, name)
    return _named(_text_type(body))


def sniff_type(body: bytes) -> str:
    """`sniff(body).type`."""
    return sniff(body).type


def _named(kind: str) -> Sniffed:
    return Sniffed(kind, _NAMES.get(kind) or FORMS.get(kind) or kind.upper())


def _zip_type(body: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        # A truncated file still names its parts in the local headers.
        types = (
            "wordprocessingml" if b"word/" in body else "spreadsheetml" if b"xl/" in body else ""
        )
    return next((kind for marker, kind in _OOXML if marker in types), "zip")


def _text_type(body: bytes) -> str:
    head = body[:_HEAD]
    for bom, codec in _UTF16_BOMS:
        if head.startswith(bom):  # a UTF-16 page is text, its NUL bytes notwithstanding
            head = head[len(bom) :].decode(codec, "ignore").encode("utf-8")
            break
    else:
        head = head.removeprefix(codecs.BOM_UTF8)
    if _HTML_START.match(head):
        return "html"
    stripped = head.lstrip()
    if stripped.startswith(b"<"):  # <?xml included
        return "html" if _HTML_ANYWHERE.search(head) else "xml"
    if stripped[:1] in (b"{", b"["):
        return "json"
    return "binary" if b"\x00" in head else "text"
