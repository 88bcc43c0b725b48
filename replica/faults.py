"""The real web's faults, as the replica serves them: anti-bot challenge pages, an HTML error page
at x.pdf, attachments of every office type, and a file too large to keep.

The DOC and XLS files are sniffable stubs (the OLE2 signature and stream names of the format),
not complete compound files; DOCX and XLSX are complete Office Open XML packages.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache
from html import escape

from replica.pdf import text_pdf
from replica.records import Report

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BIG_FILE_BYTES = 3 * 1024 * 1024  # over the 1 MB limit the crawler tests set for kaihua

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "fakepdf": "application/pdf",  # what the server claims; the bytes are an error page
    "bigpdf": "application/pdf",
}
EXTENSIONS = {"fakepdf": "pdf", "bigpdf": "pdf"}


def challenge_page() -> bytes:
    """A Ruishu-style challenge (answered with 412): a script that sets a cookie and reloads."""
    return (
        b'<!DOCTYPE html><html><head><meta charset="utf-8">'
        b'<meta id="9DhefwqGPrzGxEp9hPaoag" content="kKzJQbcnK1qbZ2GjTNLrXWZ8cR6Wa4">'
        b"<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};"
        b"$_ts.nsd=52981;$_ts.cd='qhFsrrAlcGLkcq3lDGqqqcAtq3qmJhSF';</script>"
        b'<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r="m"></script>'
        b"</head><body></body></html>\n"
    )


def wzws_page() -> bytes:
    """A WZWS (网站卫士) challenge, answered with 200: the page asks the browser to compute a
    cookie and come back."""
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<title></title><script type="text/javascript">var wzwschallenge="ZJXQKQ";'
        'var wzwschallengex="STRRANDOM";var template=5;var encoderchars="ABCDEFGHIJ";'
        "function wzwstemplate(){};function WZWS_CONFIRM_PREFIX_LABEL6(){};"
        'var dynamicurl="/WZWSREL3d6d3N0ZW1wbGF0ZQ==";</script></head><body>'
        "<noscript>请开启JavaScript并刷新该页.</noscript></body></html>\n"
    ).encode()


def error_page() -> bytes:
    """What a misconfigured download servlet answers at x.pdf: an HTML error page, with 200."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示信息</title></head>'
        '<body><div class="error"><p>文件不存在或已被删除！</p><a href="/">返回首页</a></div>'
        "</body></html>\n"
    ).encode()


def file_body(kind: str, report: Report) -> bytes:
    """The bytes of one attachment of `report`."""
    lines = [
        "Statistics attachment (replica)",
        f"Index number: {report.index_no}",
        f"Report year: {report.year}",
        *(f"{key}: {value}" for key, value in report.figures),
    ]
    if kind == "pdf":
        return text_pdf(lines)
    if kind == "docx":
        return _docx(lines)
    if kind == "xlsx":
        return _xlsx(lines)
    if kind in ("doc", "xls"):
        stream = "WordDocument" if kind == "doc" else "Workbook"
        return OLE2 + bytes(504) + f"Root Entry\0{stream}\0".encode("utf-16-le") + bytes(64)
    if kind == "fakepdf":
        return error_page()
    return _big_pdf()


@cache
def _big_pdf() -> bytes:
    padding = b"%" + b"0" * 99 + b"\n"
    return b"%PDF-1.4\n" + padding * (BIG_FILE_BYTES // len(padding)) + b"%%EOF\n"


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            # A fixed date keeps the bytes, and so the file's sha256, the same on every run.
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, text)
    return out.getvalue()


_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
)


def _docx(lines: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in lines)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    override = (
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    )
    return _zip(
        {
            "[Content_Types].xml": _TYPES.format(overrides=override),
            "_rels/.rels": _RELS.format(target="word/document.xml"),
            "word/document.xml": document,
        }
    )


def _xlsx(lines: list[str]) -> bytes:
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{escape(line)}</t></is></c></row>'
        for n, line in enumerate(lines, start=1)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="统计表" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    overrides = (
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    )
    return _zip(
        {
            "[Content_Types].xml": _TYPES.format(overrides=overrides),
            "_rels/.rels": _RELS.format(target="xl/workbook.xml"),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": book_rels,
            "xl/worksheets/sheet1.xml": sheet,
        }
    )
