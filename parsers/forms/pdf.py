"""PDF -> text: pdfplumber first, then PDFium, then pypdf; 'needs OCR' when none gives text.

Chinese PDFs whose fonts lack a Unicode map come out as '(cid:123)' runs (pdfminer) or
U+FFFD; such text is rejected and the next engine tried, since engines map fonts differently.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable

from parsers.errors import CorruptFile
from parsers.model import Extracted
from parsers.rules.forms import (
    PDF_BAD_TEXT_SHARE,
    PDF_CID_SOURCE,
    PDF_COMMON_WORDS,
    PDF_MIN_CHARS,
)

_CID_RE = re.compile(PDF_CID_SOURCE)
_SPACE_RUN_RE = re.compile(r"[ \t\u3000]{2,}")
_JUNK_RE = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")

# pdfminer and pypdf log every odd object of a broken file; the outcome is what matters here.
for _name in ("pdfminer", "pypdf"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def extract(raw: bytes) -> Extracted:
    """The first engine's text that reads as text; else empty text with needs_ocr."""
    opened = False
    for engine in _ENGINES:
        try:
            text = engine(raw)
        except Exception:  # noqa: BLE001 - third-party readers raise anything on broken files
            continue
        opened = True
        if readable(text):
            return Extracted(_tidy(text), "pdf", needs_ocr=False)
    if not opened:
        raise CorruptFile("PDF")
    return Extracted("", "pdf", needs_ocr=True)


def readable(text: str) -> bool:
    """Enough characters, few of them '(cid:N)', U+FFFD or control codes, and real words.

    A font without a Unicode map may also come out as other Chinese characters (glyph order
    read as codes): a long Chinese text with none of a report's commonest words is that.
    """
    bad = sum(len(m) for m in _CID_RE.findall(text)) + len(_JUNK_RE.findall(text))
    size = len(re.sub(r"\s+", "", text))
    if size - bad < PDF_MIN_CHARS or bad > PDF_BAD_TEXT_SHARE * max(size, 1):
        return False
    chinese = len(_CJK_RE.findall(text))
    return chinese < PDF_MIN_CHARS * 5 or any(w in text for w in PDF_COMMON_WORDS)


def _pdfplumber(raw: bytes) -> str:
    import pdfplumber  # imported on use: slow to import, and most inputs are HTML

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _pdfium(raw: bytes) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(raw)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def _pypdf(raw: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(raw))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


_ENGINES: tuple[Callable[[bytes], str], ...] = (_pdfplumber, _pdfium, _pypdf)


def _tidy(text: str) -> str:
    """One space for the runs of spaces that column layout leaves; CR and form feeds as breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return "\n".join(_SPACE_RUN_RE.sub(" ", line).strip() for line in text.split("\n"))
