"""Text from the binary forms reports arrive in: PDF, DOCX, DOC, XLSX and XLS.

Each reader returns the report's text with table rows as tab-joined lines (the form the
table readers take, grid.py), so a figure's provenance is a span of that text.
"""

from __future__ import annotations

from collections.abc import Callable

from parsers.errors import UnsupportedFormat
from parsers.forms import doc, office, pdf
from parsers.model import Extracted

READERS: dict[str, Callable[[bytes], Extracted]] = {
    "PDF": pdf.extract,
    "DOCX": office.docx_text,
    "XLSX": office.xlsx_text,
    "XLS": office.xls_text,
    "DOC": doc.extract,
}


def extract(raw: bytes, kind: str) -> Extracted:
    """Text of a file of `kind` (decode.sniff_kind's name); UnsupportedFormat for other kinds."""
    reader = READERS.get(kind)
    if reader is None:
        raise UnsupportedFormat(kind)
    return reader(raw)
