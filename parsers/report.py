"""The public entry points: parse text, HTML or bytes into a ParsedReport; render it as JSON."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from parsers import classify, figureset, forms, htmltext, identity, metadata, script
from parsers.checks import all_checks
from parsers.decode import decode_as, decode_html, header_charset, looks_like_html, sniff_kind
from parsers.errors import LimitExceeded
from parsers.model import Figure, Metadata, Number, ParsedReport
from parsers.rules.limits import MAX_PAGE_BYTES, MAX_TEXT_CHARS, MAX_TEXT_LINES


def parse_text(text: str, url: str | None = None) -> ParsedReport:
    """Parse a plain-text snapshot (the seeds' form: pasted or extracted page text).

    Raises LimitExceeded over MAX_TEXT_CHARS characters or MAX_TEXT_LINES lines.
    """
    _refuse_oversized(text)
    text = script.to_simplified(_normalise_newlines(text))
    header = text.splitlines()[: metadata.HEADER_LINES]
    meta = metadata.build(metadata.from_lines(header))
    return _assemble(text, identity.title_from_lines(text), meta, url, ())


def parse_html(html: str, url: str | None = None) -> ParsedReport:
    """Parse an article or annual-report module page.

    Raises LimitExceeded for a page over a limit of rules/limits.py, CorruptFile when lxml fails.
    """
    if len(html) > MAX_PAGE_BYTES:
        raise LimitExceeded("page", len(html), "characters", MAX_PAGE_BYTES, "MAX_PAGE_BYTES")
    page = htmltext.read_page(_normalise_newlines(html))
    _refuse_oversized(page.main_text)
    if script.may_be_traditional(page.main_text):  # a traditional copy: read it as simplified
        page = htmltext.read_page(script.to_simplified(_normalise_newlines(html)))
    main_lines = page.main_text.splitlines()
    meta = metadata.build(
        metadata.from_cells(page.table_rows),
        metadata.from_lines([*page.other_text.splitlines(), *main_lines[: metadata.HEADER_LINES]]),
        metadata.from_meta_tags(page.meta),
    )
    return _assemble(page.main_text, _html_title(page), meta, url, page.attachments)


def parse_bytes(
    raw: bytes, content_type: str | None = None, url: str | None = None, encoding: str | None = None
) -> ParsedReport:
    """Sniff the bytes and parse them as HTML, plain text, PDF, DOCX, DOC, XLSX or XLS.

    Text is decoded recording the codec: `encoding`, the one chosen when the bytes were archived
    (captures.encoding), when given, so that the choice is made once per capture. A PDF no engine reads gives `needs_ocr`. Raises
    UnsupportedFormat (images, archives, ...), ConverterMissing, CorruptFile or LimitExceeded.
    """
    kind = sniff_kind(raw)
    if kind == "text" and len(raw) > MAX_PAGE_BYTES:  # before decoding it
        raise LimitExceeded("page", len(raw), "bytes", MAX_PAGE_BYTES, "MAX_PAGE_BYTES")
    if kind != "text":
        extracted = forms.extract(raw, kind)
        return dataclasses.replace(parse_text(extracted.text, url), needs_ocr=extracted.needs_ocr)
    if encoding:
        decoded = decode_as(raw, encoding)
    else:
        decoded = decode_html(raw, header_charset(content_type))
    parse = parse_html if looks_like_html(decoded.text) else parse_text
    return dataclasses.replace(parse(decoded.text, url), encoding=decoded.encoding)


def _refuse_oversized(text: str) -> None:
    """The figure readers' bounds on the text snapshot (rules/limits.py)."""
    if len(text) > MAX_TEXT_CHARS:
        raise LimitExceeded("text", len(text), "characters", MAX_TEXT_CHARS, "MAX_TEXT_CHARS")
    lines = text.count("\n") + 1
    if lines > MAX_TEXT_LINES:
        raise LimitExceeded("text", lines, "lines", MAX_TEXT_LINES, "MAX_TEXT_LINES")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")


def _html_title(page: htmltext.Page) -> str | None:
    """ArticleTitle, else a page title or heading that reads as a report title, else a text line."""
    article_title = page.meta.get("ArticleTitle", "").strip()
    if article_title:
        return article_title
    picked = identity.pick_title(page.title_candidates)
    if picked and identity.title_agency_year(picked)[1] is not None:
        return picked
    return identity.title_from_lines(page.main_text) or picked


def _assemble(
    text: str, title: str | None, meta: Metadata, url: str | None, attachments: tuple[str, ...]
) -> ParsedReport:
    template, figures, findings = figureset.extract(text)
    evidence = identity.report_evidence(title, text, template)
    verdict = classify.classify(title, text, evidence)
    return ParsedReport(
        title=title,
        report_year=identity.report_year(title, text, url, meta),
        publisher=identity.publisher(title, meta),
        template=template,
        metadata=meta,
        figures=tuple(figures),
        checks=(*all_checks(figures, template), *findings),
        text=text,
        encoding=None,
        is_report=verdict.is_report,
        attachments=attachments,
        subject=identity.subject(title, text),
        kind=verdict.kind,
        reason=verdict.reason,
    )


def report_to_json(r: ParsedReport) -> dict[str, Any]:
    """The `nianbao parse FILE --json` object of interface.md.

    Decimal values become their exact string ('24252.311082'), so no float ever rounds them;
    integers stay integers.
    """
    return {
        "title": r.title,
        "report_year": r.report_year,
        "template": r.template,
        "metadata": r.metadata.as_dict(),
        "figures": {f.key: _json_number(f.value) for f in r.figures},
        "provenance": {f.key: _provenance(f) for f in r.figures},
        "checks": [{"rule": c.rule, "ok": c.ok, "detail": c.detail} for c in r.checks],
        "needs_ocr": r.needs_ocr,
    }


def _provenance(f: Figure) -> dict[str, Any]:
    p = f.provenance
    out: dict[str, Any] = {"text": p.text, "start": p.start, "end": p.end}
    if f.blank:
        out["blank"] = True  # a table cell left empty, read as 0
    if p.source is not None:
        out["source"] = p.source
    if p.form is not None:
        out["form"] = p.form  # the text form it was read from; 'run-together': by arithmetic
    return out


def _json_number(value: Number) -> int | str:
    return str(value) if isinstance(value, Decimal) else value
