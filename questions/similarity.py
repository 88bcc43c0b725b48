"""How alike two report texts are: resemblance of character shingles (Broder, 1997).

The measure is the Jaccard index of the sets of 5-character shingles of the two texts, after
dropping whitespace and masking four-digit years (a report copied from last year's has had its years
changed, and nothing else should count as a difference). Five characters is about two or three
Chinese words: short enough that a changed figure or a reworded clause breaks only a few shingles,
long enough that two unrelated reports share few. It is linear in the texts' length, unlike an edit
distance, and insensitive to paragraphs being moved.

Thresholds (measured on the replica portals, whose generated reports are short and share one
template's sentences, which makes them look more alike than real reports do):
- two pages of one report (a republished copy) score 1.0: the text snapshot is the body, and the
  body is the same under a new 索引号 and date;
- honest reports of one publisher in consecutive years score 0.01-0.75, and reports of two
  publishers in one year at most 0.78;
- the same report with every figure changed scores 0.72-0.96 (median 0.80; long texts higher).
So `SAME_TEXT` = 0.9 says "the same text, figures mostly included": clear of every honest pair on
the replica, and real reports, longer and less alike, sit lower still. It serves both for grouping
the copies of one report and for finding a report copied almost whole from the previous year's.
"""

from __future__ import annotations

import re
from functools import lru_cache

SHINGLE = 5
SAME_TEXT = 0.9
_YEAR = re.compile(r"(?:19|20)\d{2}")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The text as compared: no whitespace, every four-digit year replaced by `#`."""
    return _YEAR.sub("#", _SPACE.sub("", text))


@lru_cache(maxsize=4096)
def shingles(text: str) -> frozenset[str]:
    """The set of `SHINGLE`-character substrings of the normalized text."""
    flat = normalize(text)
    if len(flat) <= SHINGLE:
        return frozenset([flat]) if flat else frozenset()
    return frozenset(flat[i : i + SHINGLE] for i in range(len(flat) - SHINGLE + 1))


def resemblance(a: str, b: str) -> float:
    """Jaccard index of the two texts' shingle sets: 1.0 for equal texts, 0.0 for disjoint ones."""
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
