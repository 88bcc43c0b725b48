"""The public entry points: parse text, HTML or bytes into a ParsedReport; render it as JSON."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from parsers import headline, htmltext, identity, metadata, table14
from parsers.checks import all_checks
from parsers.decode import charset_from_content_type, decode_html, looks_like_html, sniff_kind
from parsers.model import Figure, Metadata, Number, ParsedReport
from parsers.rules import HEADLINE_KEYS
from parsers.templates import detect_template


def parse_text(text: str, url: str | None = None) -> ParsedReport:
    """Parse a plain-text snapshot (the seeds' form: pasted or extracted page text)."""
    text = _normalise_newlines(text)
    header = text.splitlines()[: metadata.HEADER_LINES]
    meta = metadata.build(metadata.from_lines(header))
    return _assemble(text, identity.title_from_lines(text), meta, url, ())


def parse_html(html: str, url: str | None = None) -> ParsedReport:
    """Parse an article or annual-report module page."""
    page = htmltext.read_page(_normalise_newlines(html))
    main_lines = page.main_text.splitlines()
    meta = metadata.build(
        metadata.from_cells(page.table_rows),
        metadata.from_lines([*page.other_text.splitlines(), *main_lines[: metadata.HEADER_LINES]]),
        metadata.from_meta_tags(page.meta),
    )
    return _assemble(page.main_text, _html_title(page), meta, url, page.attachments)


def parse_bytes(
    raw: bytes, content_type: str | None = None, url: str | None = None
) -> ParsedReport:
    """Sniff the bytes, decode text (recording the codec) and parse it as HTML or plain text.

    Raises UnsupportedFormat for PDF, DOCX, XLSX, DOC, XLS and other binary formats.
    """
    sniff_kind(raw)
    decoded = decode_html(raw, charset_from_content_type(content_type))
    parse = parse_html if looks_like_html(decoded.text) else parse_text
    return dataclasses.replace(parse(decoded.text, url), encoding=decoded.encoding)


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
    stats, sections = table14.parse_national2014(text)
    template = detect_template(text, sections)
    prose = headline.headline_figures(text)
    from_table = table14.headline_from_table(stats)
    figures = (*_merge_headline(prose, from_table), *stats)
    return ParsedReport(
        title=title,
        report_year=identity.report_year(title, text, url, meta),
        publisher=identity.publisher(title, meta),
        template=template,
        metadata=meta,
        figures=figures,
        checks=tuple(all_checks(figures, prose, from_table)),
        text=text,
        encoding=None,
        is_report=identity.is_report(title, text, template),
        attachments=attachments,
    )


def _merge_headline(prose: list[Figure], from_table: list[Figure]) -> list[Figure]:
    """Table-derived headline figures win (figures.md); the prose fills what the table lacks."""
    merged = {f.key: f for f in prose}
    merged.update({f.key: f for f in from_table})
    return sorted(merged.values(), key=lambda f: HEADLINE_KEYS.index(f.key))


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
        "provenance": {
            f.key: {"text": f.provenance.text, "start": f.provenance.start, "end": f.provenance.end}
            for f in r.figures
        },
        "checks": [{"rule": c.rule, "ok": c.ok, "detail": c.detail} for c in r.checks],
    }


def _json_number(value: Number) -> int | str:
    return str(value) if isinstance(value, Decimal) else value
