"""All figures of one text: the template's table, headline figures, and the prose's own.

Headline figures come from the table when it gives them, else from the prose (figures.md). A
prose figure the table shadows is kept as prose.<name>, so a contradiction stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from parsers import govtables, headline, local, table14
from parsers.model import Check, Figure, Provenance
from parsers.rules.core import HEADLINE_KEYS
from parsers.rules.gov import GOV_HEADLINE
from parsers.templates import gov_template, other_template


def extract(text: str) -> tuple[str, list[Figure], list[Check]]:
    """(template, figures in order: headline.*, prose.*, then the table's; the tables' findings)."""
    # The gov markers win over any national2014 sections, so a gov text skips that table's read.
    template = gov_template(text)
    stats: list[Figure] = []
    if template is None:
        stats, sections = table14.parse_national2014(text)
        template = other_template(text, sections)
    table, from_table, findings = _table(text, template, stats)
    prose = headline.headline_figures(text)
    return template, [*_merge(prose, from_table), *table], findings


def _table(
    text: str, template: str, stats: list[Figure]
) -> tuple[list[Figure], list[Figure], list[Check]]:
    """(the table's figures, the headline figures derived from them, findings)."""
    if template == "national2014":
        return stats, table14.headline_from_table(stats), []
    if template in ("gov2019", "gov2021"):
        figures, findings = govtables.parse_gov(text, template)
        return figures, gov_headline(figures, text), findings
    if template == "local-pre2019":
        figures, findings = local.parse_local(text)
        return figures, local.headline_from_local(figures), findings
    return [], [], []


def gov_headline(figures: Sequence[Figure], text: str) -> list[Figure]:
    """Headline figures summed from the gov tables' cells; provenance spans the rows used."""
    by_key = {f.key: f for f in figures}
    out = []
    for key, parts in GOV_HEADLINE:
        used = [by_key[p] for p in parts if p in by_key]
        if len(used) != len(parts):
            continue
        value = sum(f.value for f in used)
        start = min(f.provenance.start for f in used)
        end = max(f.provenance.end for f in used)
        prov = Provenance(text[start:end], start, end, form=used[0].provenance.form)
        out.append(Figure(key, value, prov, blank=all(f.blank for f in used)))
    return out


def _merge(prose: list[Figure], from_table: list[Figure]) -> list[Figure]:
    """Table-derived headline figures win; the prose fills the rest; shadowed ones become prose.*."""
    table_keys = {f.key for f in from_table}
    headline_figs = {f.key: f for f in prose if f.key in HEADLINE_KEYS and f.key not in table_keys}
    headline_figs.update({f.key: f for f in from_table})
    shadowed = [
        Figure("prose." + f.key.removeprefix("headline."), f.value, f.provenance, f.blank)
        for f in prose
        if f.key in table_keys
    ]
    extra = [f for f in prose if f.key.startswith("prose.")]
    ordered = sorted(headline_figs.values(), key=lambda f: HEADLINE_KEYS.index(f.key))
    return [*ordered, *shadowed, *extra]
