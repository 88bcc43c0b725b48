"""Headline figures from the prose (figures.md 'Any template: headline figures')."""

from __future__ import annotations

import re

from parsers.anchored import Anchored, WordIndex, anchored
from parsers.errors import BadNumber
from parsers.model import Figure, Provenance
from parsers.numbers import NUMBER_PATTERN, parse_number
from parsers.rules.core import (
    ALL_ANSWERED_SOURCE,
    CUMULATIVE_SOURCE,
    FORM_PROSE,
    HEADLINE_KEYS,
    HEADLINE_RULES,
    INCLUDES_CARRIED_SOURCE,
    NONE_RULES,
    PROSE_RULES,
)

# Spaces around the number, but never a line break: a number on the next line is a table cell.
_N = r"[ \t\u3000\xa0]*(?P<n>" + NUMBER_PATTERN + r")[ \t\u3000\xa0]*"
_POSITIVE = tuple(
    (r.key, anchored(r.pattern.replace("{N}", _N))) for r in (*HEADLINE_RULES, *PROSE_RULES)
)
KEY_ORDER = (*HEADLINE_KEYS, *dict.fromkeys(r.key for r in PROSE_RULES))
_NONE = tuple(
    (r.key, anchored(r.pattern), re.compile(r.requires) if r.requires else None) for r in NONE_RULES
)
_ALL_ANSWERED_RE = re.compile(ALL_ANSWERED_SOURCE)
# Every rule's leading words, looked for in one pass over the text.
_WORDS = WordIndex(
    w for rx in (*(r for _, r in _POSITIVE), *(r for _, r, _ in _NONE)) for w in rx.words or ()
)
_TERMINATORS = frozenset("。；;！!？?\n")
_CLAUSE_ENDS = frozenset("，,。；;！!？?\n")
_CUMULATIVE_RE = re.compile(CUMULATIVE_SOURCE)
_INCLUDES_CARRIED_RE = re.compile(INCLUDES_CARRIED_SOURCE)
_RECEIVED = "headline.applications_received"
_CARRIED_OVER = "headline.applications_carried_over"


def sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end], with its closing punctuation, without outer spaces."""
    s = start
    while s > 0 and text[s - 1] not in _TERMINATORS:
        s -= 1
    e = end
    while e < len(text) and text[e] not in _TERMINATORS:
        e += 1
    if e < len(text) and text[e] != "\n":
        e += 1
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def provenance(text: str, start: int, end: int) -> Provenance:
    """Provenance for the sentence around a match."""
    s, e = sentence_span(text, start, end)
    return Provenance(text[s:e], s, e, form=FORM_PROSE)


def headline_figures(text: str) -> list[Figure]:
    """Every headline (and prose.*) figure the prose states, in key order; the first one wins."""
    found: dict[str, Figure] = {}
    seen = _WORDS.positions(text)  # where each rule's words occur, found once for all rules
    for key, regex in _POSITIVE:
        if key not in found:
            figure = _first_number(key, regex, text, seen)
            if figure:
                found[key] = figure
    _without_carried_over(found, text)
    _add_all_answered(found)
    for key, regex, requires in _NONE:
        if key not in found:
            figure = _first_none(key, regex, requires, text, seen)
            if figure:
                found[key] = figure
    return [found[k] for k in KEY_ORDER if k in found]


def _first_number(
    key: str, regex: Anchored, text: str, seen: dict[str, list[int]] | None = None
) -> Figure | None:
    for m in regex.finditer(text, seen):
        if _cumulative(text, m.start()):
            continue
        try:
            value = parse_number(m.group("n"))
        except BadNumber:
            continue
        # The number's sentence: a rule may start in the sentence before (申请…。办结35件).
        return Figure(key, value, provenance(text, m.start("n"), m.end()))
    return None


def _cumulative(text: str, start: int) -> bool:
    """The clause before a match counts since an earlier time (历年累计), not the year."""
    s = start
    while s > 0 and start - s < 40 and text[s - 1] not in _CLAUSE_ENDS:
        s -= 1
    return _CUMULATIVE_RE.search(text, s, start) is not None


def _without_carried_over(found: dict[str, Figure], text: str) -> None:
    """'收到申请24件(含上年结转1件)': received 23 (本年新收), carried over 1."""
    received = found.get(_RECEIVED)
    if received is None:
        return
    end = received.provenance.end
    p = received.provenance
    m = _INCLUDES_CARRIED_RE.search(text, p.start, end)
    if m is None or int(m.group("n")) > received.value:
        return
    carried = int(m.group("n"))
    found[_RECEIVED] = Figure(_RECEIVED, received.value - carried, p)
    found.setdefault(_CARRIED_OVER, Figure(_CARRIED_OVER, carried, p))


def _add_all_answered(found: dict[str, Figure]) -> None:
    """'收到申请5件，均及时给予答复' states that all 5 were answered."""
    received = found.get("headline.applications_received")
    key = "headline.applications_answered"
    if received and key not in found and _ALL_ANSWERED_RE.search(received.provenance.text):
        found[key] = Figure(key, received.value, received.provenance)


def _first_none(
    key: str,
    regex: Anchored,
    requires: re.Pattern[str] | None,
    text: str,
    seen: dict[str, list[int]] | None = None,
) -> Figure | None:
    for m in regex.finditer(text, seen):
        prov = provenance(text, m.start(), m.end())
        if requires is None or requires.search(prov.text):
            return Figure(key, 0, prov)
    return None
