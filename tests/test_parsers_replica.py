"""Accuracy over the replica portals: every served report page, parsed from its bytes, against
the replica's ground truth (STYLE 10: a labelled corpus with a floor that only rises; here 100%).
"""

from __future__ import annotations

import pytest

from parsers import ParsedReport, parse_bytes
from replica.records import Report
from replica.site import Site
from replica.truth import load_truth


def _served() -> list[tuple[Report, ParsedReport]]:
    pairs = []
    for portal in load_truth().portals:
        site = Site(portal.id)
        for url, report in sorted(site.docs.items()):
            page = site.document(url)
            pairs.append((report, parse_bytes(page.body, page.content_type, url)))
    return pairs


SERVED = _served()


def _headline(parsed: ParsedReport) -> dict[str, object]:
    return {k: v for k, v in parsed.values().items() if k.startswith("headline.")}


def test_the_corpus_is_not_empty() -> None:
    assert len(SERVED) > 50


def test_generated_reports_headline_figures_exactly() -> None:
    wrong = [
        (r.url, dict(r.figures), _headline(p))
        for r, p in SERVED
        if r.seed is None and _headline(p) != dict(r.figures)
    ]
    assert wrong == []


def test_seed_reports_state_at_least_the_truth() -> None:
    # The plan lists only the figures a seed states 'unambiguously'; the parser finds more.
    wrong = [
        (r.url, k, v, _headline(p).get(k))
        for r, p in SERVED
        if r.seed is not None
        for k, v in r.figures
        if _headline(p).get(k) != v
    ]
    assert wrong == []


@pytest.mark.parametrize("field", ["title", "report_year", "is_report", "encoding"])
def test_identity_of_every_page(field: str) -> None:
    expected = {
        "title": lambda r: r.title,
        "report_year": lambda r: r.year,
        "is_report": lambda r: True,
        "encoding": lambda r: "gb18030" if r.encoding == "gbk" else r.encoding,
    }[field]
    wrong = [
        (r.url, expected(r), getattr(p, field))
        for r, p in SERVED
        if expected(r) != getattr(p, field)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("field", "truth"),
    [
        ("index_no", "index_no"),
        ("publisher", "publisher_label"),
        ("written_date", "written_date"),
        ("published_at", "published_at"),
        ("source", "source"),
    ],
)
def test_article_metadata(field: str, truth: str) -> None:
    # Module pages print at most a date (发布时间:YYYY-MM-DD), so only article pages are compared.
    wrong = [
        (r.url, getattr(r, truth), getattr(p.metadata, field))
        for r, p in SERVED
        if r.layout != "module" and getattr(r, truth) != getattr(p.metadata, field)
    ]
    assert wrong == []


def test_empty_module_page_is_not_a_report() -> None:
    page = Site(load_truth().portals[0].id).module_empty()
    assert not parse_bytes(page.body, page.content_type).is_report
