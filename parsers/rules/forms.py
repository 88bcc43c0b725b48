"""Rules about the forms reports come in: charsets, HTML structure, attachment links, files."""

from __future__ import annotations

# fmt: off
# Declared charsets that are really GBK / GB18030 on these sites (portals.md "Encodings").
GB_CHARSETS = frozenset({"gb2312", "gbk", "gb_2312-80", "gb2312-80", "x-gbk", "cp936", "csgb2312",
                         "euc-cn", "gb18030", "x-euc-cn", "chinese", "ms936", "windows-936"})
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

# Limits on what a spreadsheet or document may make us read (junk or hostile files).
MAX_SHEET_ROWS = 5000
MAX_SHEET_COLUMNS = 60
DOC_CONVERTER = ("antiword", "-x", "db", "-m", "UTF-8.txt", "-")  # DOC -> DocBook on stdin
DOC_CONVERTER_TIMEOUT = 60  # seconds
# antiword exits 0 yet gives up on some files, saying so on stderr.
DOC_CONVERTER_FAILED = (b"I'm afraid", b"unable to continue", b"is not a Word Document")
DOC_FALLBACK = ("soffice", "--headless", "--convert-to", "docx")
# fmt: on
