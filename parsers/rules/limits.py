"""Limits on what one input may make the parsers read: hostile or junk pages and files (issue 12).

Every limit the parsers enforce is here, each with what it bounds and why the figure. Over a limit
the input is refused whole with `errors.LimitExceeded`, which names the constant, rather than
parsed in part: a report read in part would give wrong figures with no sign of it. The figures
are several times the largest real report seen, and keep one input within ~10 s and a few
hundred MB (the hostile inputs of tests/test_hostile_parsers.py, tests/test_fuzz_files.py).
"""

from __future__ import annotations

# fmt: off
# Pages (HTML or plain text). The real pages are 20 KB-3 MB; a 60 KB page has ~2,500 tags.
MAX_PAGE_BYTES = 16_000_000  # raw bytes of a page, and characters of a decoded one
# Tags ('<' counted, an upper bound): 250,000 cost ~2 s and ~110 MB; 10 million made libxml2's
# XPath give up (XPathEvalError) after 5 s and 1.5 GB.
MAX_HTML_TAGS = 250_000
# Nesting libxml2 builds with its XML_PARSE_HUGE option; beyond it, it drops the rest of the page.
# Inline formatting tags (rules.forms.HTML_INLINE_TAGS) are removed before parsing, so unclosed
# <font> or <span> from Word never count; what still nests deeper is refused, never read in part.
MAX_HTML_DEPTH = 2048
# The text snapshot handed to the figure readers (a page's main text, a file's text, plain text).
# Real reports are 5,000-200,000 characters. The readers are linear but not cheap: 1,000,000
# characters of one label repeated cost ~2.5 s, 50,000 lines ~0.5 s (python-docx: ~1.5 s).
MAX_TEXT_CHARS = 1_000_000
MAX_TEXT_LINES = 50_000

# DOCX and XLSX are zip files: their sizes are checked in the zip directory, then the bytes
# actually inflated are counted (a directory can lie). Real reports inflate to under 5 MB.
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_INFLATED_BYTES = 100_000_000  # all members together (images, mostly)
# The XML parts python-docx or openpyxl parse whole (document.xml, styles.xml, sharedStrings.xml,
# the .rels, ...), all together: python-docx parses every part it is led to when it opens a file,
# and lxml's tree costs ~20x the XML. A 9 MB document.xml of empty paragraphs costs ~3 s and
# ~220 MB; 19 MB, or five 9 MB parts, ran out of 512 MB of address space.
MAX_ZIP_XML_BYTES = 10_000_000
# Worksheets are streamed, but openpyxl scans a sheet without a <dimension> whole to look for it
# (~0.2-0.6 s a MB, more under load): all worksheets together. Reports take 20-200 KB.
MAX_ZIP_SHEETS_BYTES = 5_000_000
ZIP_READ_CHUNK = 1 << 20

# Spreadsheets: rows and columns read per sheet (sheets are streamed: the cap applies first).
MAX_SHEET_ROWS = 5000
MAX_SHEET_COLUMNS = 60
MAX_SHEETS = 50
# A colspan="99999" must not blow the grid up.
MAX_SPAN = 50

# PDF: the page count the file declares is checked first (PDFium reads /Count, not the pages);
# each engine then reads at most this many pages, since the page tree may lie about its size.
MAX_PDF_PAGES = 1000
# pdfplumber and pypdf are pure Python: 25-90 us for each character or drawing object (a 91 KB
# mutated PDF of 60,000 characters cost pdfplumber 2.5 s, 9 s on a loaded machine). A file with
# more (counted by PDFium, in C) is read by PDFium alone: 50,000 is a 25-page report (~2,000 a
# page), ~1.5-4 s in pdfplumber; the golden reports have 3,800.
MAX_PDF_OBJECTS_PURE_PYTHON = 50_000
# fmt: on
