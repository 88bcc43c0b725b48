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
    DISCLOSURE_WORDS,
    OPENING_YEAR_SOURCE,
    PLACEHOLDER_MAX_CHARS,
    PLACEHOLDER_SOURCE,
    REPORT_PHRASE_SOURCE,
    STAT_PERIOD_SOURCE,
    TITLE_RE_SOURCE,
    URL_YEAR_SOURCE,
    YEAR_PATTERN,
)
from parsers.rules.kinds import (
    COMPILER,
    COMPILER_OFFICE,
    CONTACT,
    CONTACT_OFFICE,
    EXTRA_YEAR_PATTERNS,
    SUBJECT_ALIAS_NOTE,
    SUBJECT_CHROME,
    SUBJECT_NOT_UNIT,
    SUBJECT_PREFIX,
    SUBJECT_TEXT_PATTERNS,
    SUBJECT_TRAILING_WORDS,
    SUBJECT_WINDOW,
)

_TITLE_RE = re.compile(TITLE_RE_SOURCE)
_REPORT_PHRASE_RE = re.compile(REPORT_PHRASE_SOURCE)
_PLACEHOLDER_RE = re.compile(PLACEHOLDER_SOURCE)
_STAT_PERIOD_RE = re.compile(STAT_PERIOD_SOURCE)
_URL_YEAR_RE = re.compile(URL_YEAR_SOURCE)
_BODY_YEAR_RE = re.compile(BODY_YEAR_SOURCE)
_OPENING_YEAR_RE = re.compile(OPENING_YEAR_SOURCE)
_SUBJECT_RES = tuple(
    (role, re.compile(p.replace("YEAR", "(?:" + YEAR_PATTERN + ")"), re.M))
    for role, p, _ in SUBJECT_TEXT_PATTERNS
)
_NOT_UNIT_RE = re.compile(SUBJECT_NOT_UNIT)
_TRAILING_RE = re.compile(SUBJECT_TRAILING_WORDS)
_PREFIX_RE = re.compile(SUBJECT_PREFIX)
_CHROME_RE = re.compile(SUBJECT_CHROME)
_ALIAS_NOTE_RE = re.compile(SUBJECT_ALIAS_NOTE)
_OFFICE_RE = re.compile(COMPILER_OFFICE)
_CONTACT_OFFICE_RE = re.compile(CONTACT_OFFICE)
# The office suffix dropped from a unit found as compiler or contact: the office's unit.
_OFFICE_OF = {COMPILER: _OFFICE_RE, CONTACT: _CONTACT_OFFICE_RE}
_EXTRA_YEAR_RES = tuple(
    re.compile(p.replace("YEAR", "(?:" + YEAR_PATTERN + ")")) for p, _ in EXTRA_YEAR_PATTERNS
)
_DISCLOSURE_RE = re.compile(DISCLOSURE_WORDS)
_TITLE_SEPARATOR_RE = re.compile(r"\s+[-_|–—]+\s+|[_|]")

TITLE_SEARCH_LINES = 15  # the title sits above the body; deeper lines are prose
TITLE_MAX_CHARS = 80
REPORT_PHRASE_WINDOW = 3000


def title_from_lines(text: str) -> str | None:
    """The first report-title line; a title split over two lines (seeds 000, 001) is joined."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:TITLE_SEARCH_LINES]
    for i, line in enumerate(lines):
        line = lines[i] = line.strip(" |•·")  # a title row of a table flattened with '|'
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
    for rx in _EXTRA_YEAR_RES if year is None else ():
        if m := rx.search(text, 0, BODY_YEAR_WINDOW):
            year = _year(m.group(1))
            break
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
    return report_evidence(title, text, template) is not None


def report_evidence(title: str | None, text: str, template: str) -> str | None:
    """What identifies the page as an annual disclosure report, or None (a '暂无信息' module
    page is none)."""
    compact = "".join(text.split())
    if len(compact) < PLACEHOLDER_MAX_CHARS and _PLACEHOLDER_RE.search(compact):
        return None
    if template != "narrative":
        return f"a report table ({template})"
    if title and (_TITLE_RE.match(title) or _REPORT_PHRASE_RE.search(title)):
        return "its title names an annual disclosure report"
    if _REPORT_PHRASE_RE.search(text[:REPORT_PHRASE_WINDOW]):
        return "its text names an annual disclosure report"
    return None


def subject(title: str | None, text: str) -> str | None:
    """Whose report it is: the unit its title names, else the one its opening names ('现公布
    X市2021年…', '由X编制'). Not the 发布机构: an office posts its government's report."""
    return _title_subject(title) or _text_subject(text)


def _title_subject(title: str | None) -> str | None:
    if not title:
        return None
    title = _PREFIX_RE.sub("", "".join(title.split()))
    m = _TITLE_RE.match(title)
    if m and m.group("agency") and (unit := _unit(_TRAILING_RE.sub("", m.group("agency")))):
        return unit  # else the agency was page chrome ('全文检索2022年高新区…', 0153)
    head = m.group("name") if m else title
    found = _DISCLOSURE_RE.search(head)
    return _unit(head[: found.start()]) if found else None


def _text_subject(text: str) -> str | None:
    opening = text[:SUBJECT_WINDOW]
    for role, rx in _SUBJECT_RES:
        office = _OFFICE_OF.get(role)
        for m in rx.finditer(opening):
            raw = office.sub("", m.group("s")) if office else m.group("s")
            if unit := _unit(raw):
                return unit
    return None


def _unit(name: str) -> str | None:
    name = _ALIAS_NOTE_RE.sub("", _CHROME_RE.sub("", name.strip(' 《》“”"(（:：')))
    if len(name) < 2 or _NOT_UNIT_RE.search(name):
        return None
    return name
