"""Rules about the forms reports come in: charsets, HTML structure, attachment links, files."""

from __future__ import annotations

# fmt: off
ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx")
ATTACHMENT_MARKERS = ("downfile.jsp",)  # Hanweb /module/download/downfile.jsp?...filename=….pdf

# The article body: Hanweb's div#zoom, then TRS's div.TRS_Editor, then common CMS containers.
MAIN_CONTENT_XPATHS = (
    "//div[@id='zoom']",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//div[@id='Zoom' or @id='content' or @id='UCAP-CONTENT' or @class='article-content']",
)

HTML_BLOCK_TAGS = frozenset(
    ["address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
     "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
     "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre",
     "section", "table", "tbody", "thead", "tfoot", "ul", "td", "th", "tr"]
)
# Purely inline formatting, removed when a page nests too deep (the text between stays): Word-pasted
# CMS pages leave <font> and <span> unclosed, one per paragraph, and each nests the rest of the
# page one level deeper, until libxml2's depth limit drops everything after (issue 12: 130
# unclosed <font> paragraphs took a report from 210 figures to 0). None of these starts a line.
# o:p and st1:* are Word's own (empty paragraph marks, smart tags around dates).
HTML_INLINE_TAGS = ("font", "span", "b", "i", "u", "s", "em", "strong", "small", "big", "strike",
                    "tt", "o:p", r"st1:[\w-]+")
# Never text: scripts, styles, Word's <xml> islands and the head.
HTML_SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "head", "iframe", "object", "select", "option",
     "xml", "title"]
)

# Text extracted from a PDF whose fonts have no Unicode map: '(cid:123)' runs or U+FFFD.
PDF_CID_SOURCE = r"\(cid:\d+\)"
PDF_BAD_TEXT_SHARE = 0.05  # more than this share of characters unreadable: try the next engine
PDF_MIN_CHARS = 20
# Words every readable report has; garbled text (glyph ids read as characters) has none.
PDF_COMMON_WORDS = ("公开", "政府", "信息", "的", "年")  # fewer readable characters than this on every page: a scan, needs OCR

DOC_CONVERTER = ("antiword", "-x", "db", "-m", "UTF-8.txt", "-")  # DOC -> DocBook on stdin
DOC_CONVERTER_TIMEOUT = 60  # seconds
# antiword exits 0 yet gives up on some files, saying so on stderr.
DOC_CONVERTER_FAILED = (b"I'm afraid", b"unable to continue", b"is not a Word Document")
DOC_FALLBACK = ("soffice", "--headless", "--convert-to", "docx")
# fmt: on
