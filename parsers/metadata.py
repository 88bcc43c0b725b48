"""The metadata block (索引号, 发布机构, …): inline text lines, label/value cells, meta tags."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from parsers.model import Metadata
from parsers.numbers import ascii_digits
from parsers.rules.core import META_TAGS, METADATA_LABELS

# Labels are looked for only near the top of plain text; further down is the report's own prose.
HEADER_LINES = 40
MAX_LINE_CHARS = 200

_FIELD_BY_LABEL: dict[str, str | None] = {label: field for label, field, _ in METADATA_LABELS}


def _label_alternation() -> str:
    # Longest first so 信息来源 wins over 来源; inner spaces allowed (索 引 号).
    labels = sorted(_FIELD_BY_LABEL, key=len, reverse=True)
    return "|".join(r"\s*".join(map(re.escape, label)) for label in labels)


# A label starts a line or follows a space or separator, and is followed by a colon; so
# '数据来源：' inside prose is no label.
_LABEL_RE = re.compile(r"(?:^|(?<=[\s|｜>】\]]))(?P<label>" + _label_alternation() + r")\s*[:：]")
_DATE_RE = re.compile(
    r"((?:19|20)\d{2})\s*[-/.年－／]\s*(\d{1,2})\s*[-/.月－／]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
_DATE_FIELDS = frozenset({"written_date", "published_at"})
_LABEL_FIRST_CHARS = frozenset(label[0] for label in _FIELD_BY_LABEL)


def label_field(cell: str) -> tuple[bool, str | None]:
    """(is a known label, its Metadata field or None) for a cell like '索 引 号：'."""
    stripped = cell.lstrip()
    if not stripped or stripped[0] not in _LABEL_FIRST_CHARS:
        return False, None  # most cells: a value, not a label; no need to build the key
    key = "".join(cell.split()).rstrip(":：")
    return key in _FIELD_BY_LABEL, _FIELD_BY_LABEL.get(key)


def from_lines(lines: Iterable[str]) -> dict[str, str]:
    """Field -> raw value from 'label: value label: value' lines; a label with no value is absent."""
    found: dict[str, str] = {}
    for line in lines:
        if len(line) <= MAX_LINE_CHARS:
            for field, value in _line_pairs(line):
                if field and value:
                    found.setdefault(field, value)
    return found


def _line_pairs(line: str) -> list[tuple[str | None, str]]:
    if ":" not in line and "：" not in line:
        return []  # every label is followed by a colon; most lines have none
    matches = list(_LABEL_RE.finditer(line))
    ends = [m.start() for m in matches[1:]] + [len(line)] if matches else []
    return [
        (label_field(m.group("label"))[1], _clean(line[m.end() : end]))
        for m, end in zip(matches, ends, strict=True)
    ]


def from_cells(rows: Iterable[Sequence[str]]) -> dict[str, str]:
    """Field -> raw value from table rows of <td>label：</td><td>value</td> pairs."""
    found: dict[str, str] = {}
    for cells in rows:
        for i, cell in enumerate(cells):
            is_label, field = label_field(cell)
            if not is_label:
                continue
            nxt = cells[i + 1] if i + 1 < len(cells) else ""
            # An empty label cell ('文件编号: ') followed by an inline pair ('发布机构: 省教育厅',
            # Hanweb's xxgk table) has no value: the next cell is another label's.
            if field and nxt and not label_field(nxt)[0] and not _LABEL_RE.match(nxt.lstrip()):
                found.setdefault(field, _clean(nxt))
        # A cell may also hold 'label：value' inline.
        for field, value in from_lines(c for c in cells if not label_field(c)[0]).items():
            found.setdefault(field, value)
    return found


def from_meta_tags(meta: dict[str, str]) -> dict[str, str]:
    """Field -> raw value from <meta name=PubDate|ContentSource> (ArticleTitle is the title's)."""
    return {
        field: _clean(meta[name])
        for name, field in META_TAGS.items()
        if field != "title" and meta.get(name, "").strip()
    }


def build(*sources: dict[str, str]) -> Metadata:
    """Metadata from raw values, earlier sources first; dates to ISO, empty to None."""
    merged: dict[str, str] = {}
    for source in sources:
        for field, value in source.items():
            merged.setdefault(field, value)
    normalised = {f: _normalise(f, v) for f, v in merged.items()}
    # A date-only 发布日期 in the page body and the same day with its time in <meta PubDate>
    # (Hanweb's xxgk pages): the time is kept, a later source adding precision, never a new day.
    day = normalised.get("published_at")
    if day and "T" not in day:
        for source in sources[1:]:
            other = _normalise("published_at", source.get("published_at", ""))
            if other and other.startswith(day + "T"):
                normalised["published_at"] = other
                break
    return Metadata(**{f: v for f, v in normalised.items() if v})


def _normalise(field: str, value: str) -> str | None:
    if field not in _DATE_FIELDS:
        return value or None
    return iso_datetime(value, with_time=field == "published_at")


def iso_datetime(value: str, with_time: bool) -> str | None:
    """'2018-01-17 08: 52' -> '2018-01-17T08:52'; '2014年3月8日' -> '2014-03-08'; junk -> None."""
    m = _DATE_RE.search(ascii_digits(value))
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        day = date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None
    if not with_time or hh is None or int(hh) > 23 or int(mm) > 59:
        return day
    clock = f"{int(hh):02d}:{int(mm):02d}"
    if ss is not None and int(ss) <= 59:
        clock += f":{int(ss):02d}"
    return f"{day}T{clock}"


def _clean(value: str) -> str:
    return " ".join(value.split()).strip(" |｜\u3000\t")
