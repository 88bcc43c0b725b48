"""PDF -> text: pdfplumber first, then PDFium, then pypdf; 'needs OCR' when none gives text.

Chinese PDFs whose fonts lack a Unicode map come out as '(cid:123)' runs (pdfminer) or
U+FFFD; such text is rejected and the next engine tried, since engines map fonts differently.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from itertools import islice

from parsers.errors import CorruptFile, LimitExceeded
from parsers.model import Extracted
from parsers.rules.forms import (
    PDF_BAD_TEXT_SHARE,
    PDF_CID_SOURCE,
    PDF_COMMON_WORDS,
    PDF_MIN_CHARS,
)
from parsers.rules.limits import MAX_PDF_OBJECTS_PURE_PYTHON, MAX_PDF_PAGES

_CID_RE = re.compile(PDF_CID_SOURCE)
_SPACE_RUN_RE = re.compile(r"[ \t\u3000]{2,}")
_JUNK_RE = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")

# pdfminer and pypdf log every odd object of a broken file; the outcome is what matters here.
for _name in ("pdfminer", "pypdf"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def extract(raw: bytes) -> Extracted:
    """The first engine's text that reads as text; else empty text with needs_ocr.

    Raises LimitExceeded when the file declares more than MAX_PDF_PAGES pages; each engine
    reads at most that many, whatever the page tree holds. A file with more characters and
    drawing objects than MAX_PDF_OBJECTS_PURE_PYTHON is read by PDFium alone.
    """
    survey = _survey(raw)
    engines = _ENGINES
    if survey is not None:
        pages, objects = survey
        if pages > MAX_PDF_PAGES:
            raise LimitExceeded("PDF", pages, "pages declared", MAX_PDF_PAGES, "MAX_PDF_PAGES")
        if objects > MAX_PDF_OBJECTS_PURE_PYTHON:
            engines = (_pdfium,)
    opened = False
    for engine in engines:
        try:
            text = engine(raw)
        except MemoryError:  # not the file's fault alone: the caller sees it
            raise
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


def _survey(raw: bytes) -> tuple[int, int] | None:
    """(pages declared, characters and page objects) by PDFium, in C; None if it cannot open it.

    The page count is the tree's /Count (no page loaded); objects are counted page by page, up
    to MAX_PDF_PAGES pages, and only until they pass MAX_PDF_OBJECTS_PURE_PYTHON.
    """
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pypdfium2.PdfDocument(raw)
    except Exception:  # noqa: BLE001 - unreadable here: the engines decide
        return None
    try:
        pages, objects = len(pdf), 0
        for i in range(min(pages, MAX_PDF_PAGES)):
            if objects > MAX_PDF_OBJECTS_PURE_PYTHON:
                break
            page = pdf[i]
            objects += pdfium_c.FPDFPage_CountObjects(page.raw) + page.get_textpage().count_chars()
        return pages, objects
    except Exception:  # noqa: BLE001 - a page PDFium cannot load: the engines decide
        return None
    finally:
        pdf.close()


def _pdfplumber(raw: bytes) -> str:
    import pdfplumber  # imported on use: slow to import, and most inputs are HTML
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    # pdf.pages would walk the whole page tree first; the pages are made one by one instead.
    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        texts, doctop = [], 0.0
        for number, leaf in enumerate(islice(PDFPage.create_pages(pdf.doc), MAX_PDF_PAGES), 1):
            page = Page(pdf, leaf, page_number=number, initial_doctop=doctop)
            texts.append(page.extract_text() or "")
            doctop += float(page.height)
            page.close()
        return "\n".join(texts)


def _pdfium(raw: bytes) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(raw)
    try:
        pages = (pdf[i] for i in range(min(len(pdf), MAX_PDF_PAGES)))
        return "\n".join(page.get_textpage().get_text_range() for page in pages)
    finally:
        pdf.close()


def _pypdf(raw: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(raw))  # its page tree walk stops at 100,000 entries
    return "\n".join(page.extract_text() or "" for page in islice(reader.pages, MAX_PDF_PAGES))


_ENGINES: tuple[Callable[[bytes], str], ...] = (_pdfplumber, _pdfium, _pypdf)


def _tidy(text: str) -> str:
    """One space for the runs of spaces that column layout leaves; CR and form feeds as breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return "\n".join(_SPACE_RUN_RE.sub(" ", line).strip() for line in text.split("\n"))
