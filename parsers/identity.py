"""Which report this is: title, report year, publisher, and whether it is a report at all."""

from __future__ import annotations

import re
from collections.abc import Sequence

from parsers.errors import BadNumber
from parsers.model import Metadata
from parsers.numbers import parse_number
from parsers.rules.core import (
    BODY_YEAR_SOURCE,
    BODY_YEAR_WINDOW,
    OPENING_YEAR_SOURCE,
    PLACEHOLDER_MAX_CHARS,
    PLACEHOLDER_SOURCE,
    REPORT_PHRASE_SOURCE,
    STAT_PERIOD_SOURCE,
    TITLE_RE_SOURCE,
    URL_YEAR_SOURCE,
)

_TITLE_RE = re.compile(TITLE_RE_SOURCE)
_REPORT_PHRASE_RE = re.compile(REPORT_PHRASE_SOURCE)
_PLACEHOLDER_RE = re.compile(PLACEHOLDER_SOURCE)
_STAT_PERIOD_RE = re.compile(STAT_PERIOD_SOURCE)
_URL_YEAR_RE = re.compile(URL_YEAR_SOURCE)
_BODY_YEAR_RE = re.compile(BODY_YEAR_SOURCE)
_OPENING_YEAR_RE = re.compile(OPENING_YEAR_SOURCE)
_TITLE_SEPARATOR_RE = re.compile(r"\s+[-_|–—]+\s+|[_|]")

TITLE_SEARCH_LINES = 15  # the title sits above the body; deeper lines are prose
TITLE_MAX_CHARS = 80
REPORT_PHRASE_WINDOW = 3000


def title_from_lines(text: str) -> str | None:
    """The first report-title line; a title split over two lines (seeds 000, 001) is joined."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:TITLE_SEARCH_LINES]
    for i, line in enumerate(lines):
        line = lines[i] = line.strip(" |")  # a title row of a table flattened with '|'
        if len(line) > TITLE_MAX_CHARS:
            continue
        single = _TITLE_RE.match(line)
        if single and single.group("agency"):
            return line
        if i + 1 < len(lines) and _TITLE_RE.match(line + lines[i + 1]):
            return line + lines[i + 1]
        if single:
            return line
    return None


def pick_title(candidates: Sequence[str]) -> str | None:
    """From page titles like '桐乡市…工作报告 - 桐乡市人民政府', the part that is a report title."""
    for candidate in candidates:
        for part in _TITLE_SEPARATOR_RE.split(candidate):
            if _TITLE_RE.match(part.strip()):
                return part.strip()
    return candidates[0] if candidates else None


def title_agency_year(title: str | None) -> tuple[str | None, int | None]:
    """('桐乡市商务局（粮食局）', 2017) from a report title; (None, None) when it is not one."""
    m = _TITLE_RE.match(title.strip()) if title else None
    if not m:
        return None, None
    return (m.group("agency") or None), _year(m.group("year"))


def _year(token: str) -> int | None:
    try:
        value = parse_number(token)
    except BadNumber:
        return None
    return value if isinstance(value, int) and 1900 < value < 2200 else None


def report_year(title: str | None, text: str, url: str | None, metadata: Metadata) -> int | None:
    """Title, the statistics period, the body naming its report, a paragraph opening with the
    year, the URL's fbtime, the publish year - 1."""
    year = title_agency_year(title)[1]
    if year is None and (m := _STAT_PERIOD_RE.search(text)):
        year = _year(m.group(1))
    if year is None and (m := _BODY_YEAR_RE.search(text, 0, BODY_YEAR_WINDOW)):
        year = _year(next(g for g in m.groups() if g))
    if year is None and (m := _OPENING_YEAR_RE.search(text, 0, BODY_YEAR_WINDOW)):
        year = _year(m.group(1))
    if year is None and url and (m := _URL_YEAR_RE.search(url)):
        year = int(m.group(1))
    published = metadata.published_at or metadata.written_date
    if year is None and published:
        # Reports are published in the first months after their year.
        year = int(published[:4]) - 1
    return year


def publisher(title: str | None, metadata: Metadata) -> str | None:
    """The page's 发布机构, else the agency named in the title before the year."""
    return metadata.publisher or title_agency_year(title)[0]


def is_report(title: str | None, text: str, template: str) -> bool:
    """An annual disclosure report was recognised (a '暂无信息' module page is not one)."""
    compact = "".join(text.split())
    if len(compact) < PLACEHOLDER_MAX_CHARS and _PLACEHOLDER_RE.search(compact):
        return False
    if template != "narrative":
        return True
    return bool(
        (title and (_TITLE_RE.match(title) or _REPORT_PHRASE_RE.search(title)))
        or _REPORT_PHRASE_RE.search(text[:REPORT_PHRASE_WINDOW])
    )
