"""The frozen data types the parsers return."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

PARSER_VERSION = "0.3.0"

Number = int | Decimal


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, with the codec actually used ('utf-8', 'gb18030', 'utf-8/replace')."""

    text: str
    encoding: str


@dataclass(frozen=True)
class Extracted:
    """Text read from a binary file (PDF, DOCX, DOC, XLS, XLSX), tables as tab-joined rows."""

    text: str
    form: str
    needs_ocr: bool = False
    # Issue 13. Whose report it is, as its title or opening names it (`publisher` stays the page's
    # 发布机构, who posted it: a government's report is often posted by its office).
    subject: str | None = None
    # The classifier's verdict (classify.py): 'report' or 'other', and the evidence that decided.
    kind: str = "report"
    reason: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where a figure came from: `text == report.text[start:end]`.

    `source` is None for the report's own text; a figure merged in from an attachment names the
    attachment's snapshot there (merge.py), and its span is in that attachment's text. `form` says
    how the text printed it.
    """

    text: str
    start: int
    end: int
    source: str | None = None
    # The form the figure was read from (rules.core.FORMS): 'table-cells', 'pipe-table',
    # 'cells-per-line', 'text-row', 'run-together' (recovered by arithmetic), 'prose', ...
    form: str | None = None


@dataclass(frozen=True)
class Figure:
    """One extracted number under a figures.md key.

    `blank` marks a table cell left empty: its value is 0 (figures.md), but the report did not
    print the 0, which matters when judging a report.
    """

    key: str
    value: Number
    provenance: Provenance
    blank: bool = False


@dataclass(frozen=True)
class Check:
    """One consistency rule applied to the report's own figures."""

    rule: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Metadata:
    """The page's metadata block; ISO strings or None when the page does not carry the field."""

    index_no: str | None = None
    publisher: str | None = None
    disclosure: str | None = None
    written_date: str | None = None
    category: str | None = None
    doc_number: str | None = None
    published_at: str | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """All eight fields, in declaration order (the `--json` metadata object)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ParsedReport:
    """Everything one parse of one page or file yields."""

    title: str | None
    report_year: int | None
    publisher: str | None
    template: str
    metadata: Metadata
    figures: tuple[Figure, ...]
    checks: tuple[Check, ...]
    text: str
    encoding: str | None
    is_report: bool
    attachments: tuple[str, ...]
    # A PDF (or scan) no engine could read text from: the figures await OCR.
    needs_ocr: bool = False
    # Issue 13. Whose report it is, as its title or opening names it (`publisher` stays the page's
    # 发布机构, who posted it: a government's report is often posted by its office).
    subject: str | None = None
    # The classifier's verdict (classify.py): 'report' or 'other', and the evidence that decided.
    kind: str = "report"
    reason: str = ""

    def figure(self, key: str) -> Figure | None:
        """The figure under `key`, or None when the report does not give it."""
        return next((f for f in self.figures if f.key == key), None)

    def values(self) -> dict[str, Number]:
        """Figure values by key, in extraction order."""
        return {f.key: f.value for f in self.figures}
