"""The national2014 statistics table (政府信息公开情况统计表) read from text, rows matched by label.

Works on both layouts the seeds show: the number on the next non-blank line (seed 002, also what
htmltext renders for one-cell-per-line tables) and on the label's own line (seed 003, and the
tab-joined rows htmltext renders for <tr>s). A row with no number before the next row is blank:
its value is 0 and the figure says `blank`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.errors import BadNumber
from parsers.model import Figure, Number, Provenance
from parsers.numbers import ARABIC_PATTERN, ascii_digits, parse_number, tidy
from parsers.rules.core import (
    FORM_CELLS,
    FORM_TEXT_ROW,
    NATIONAL2014,
    NATIONAL2014_HEADING,
    NATIONAL2014_HEADLINE,
    NATIONAL2014_MIN_SECTIONS,
    TABLE_HEADER_SOURCE,
    TABLE_UNIT_WORDS,
    WAN,
    Section,
)

MAX_ROW_CHARS = 300  # the longest real row label (seed 002's 专项经费) is under 80
_HEADING_RE = re.compile(NATIONAL2014_HEADING)
_LINE_RE = re.compile(r"[^\n]+")
_HEADER_RE = re.compile(TABLE_HEADER_SOURCE)
_UNIT_RE = re.compile(TABLE_UNIT_WORDS)
_DASH = r"(?P<dash>[—\-－]+)"
_VALUE = r"(?P<v>" + ARABIC_PATTERN + r")"
_VALUE_ONLY_RE = re.compile(_DASH + r"?" + _VALUE + r"?")
_LABEL_LINE_RE = re.compile(
    r"(?P<label>.+?)" + _DASH + r"?(?:" + TABLE_UNIT_WORDS + r")?" + _VALUE + r"?"
)
_SECTION_PREFIX_RE = re.compile(r"^[一二三四五六七八九十]+、")
_ROW_PREFIX_RE = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、]|其中[:：]?)+"
)
_SECTION_HEADINGS = tuple((s, re.compile(s.heading)) for s in NATIONAL2014)
_COMPILED = {s.heading: tuple((k, re.compile(rx)) for k, rx in s.rows) for s in NATIONAL2014}
ORDER = tuple(
    k for s in NATIONAL2014 for k in [*([s.key] if s.key else []), *(r[0] for r in s.rows)]
)


@dataclass
class _Row:
    key: str
    start: int
    end: int


@dataclass
class _Reader:
    """Feeds the table's lines one by one; keeps the row waiting for its number."""

    text: str
    section: Section | None = None
    pending: _Row | None = None
    sections_seen: set[str] = field(default_factory=set)
    found: dict[str, Figure] = field(default_factory=dict)

    def feed(self, start: int, end: int) -> None:
        line = self.text[start:end]
        if len(line) > MAX_ROW_CHARS:
            return  # prose, not a row; also keeps the lazy label match away from huge lines
        start += len(line) - len(line.lstrip())  # provenance without the indentation
        end -= len(line) - len(line.rstrip())
        compact = self._cells(line) if "\t" in line else "".join(ascii_digits(line).split())
        if not compact or _HEADER_RE.fullmatch(compact) or _UNIT_RE.fullmatch(compact):
            return
        if "。" in compact:
            self.pending = None  # a sentence: the heading before it was prose, not a table row
            return
        only = _VALUE_ONLY_RE.fullmatch(compact)
        if only:
            self._value_line(only.group("v"), end)
            return
        m = _LABEL_LINE_RE.fullmatch(compact)
        if m:  # always matches a non-empty line; the guard is for the type checker
            self._label_line(m.group("label"), m.group("dash"), m.group("v"), _Row("", start, end))

    def _cells(self, line: str) -> str:
        """A row of cells: cells left of the label set the section; the rest reads as one line.

        Spanned cells are repeated by the grid, so consecutive equal cells are one cell.
        """
        cells: list[str] = []
        for cell in line.split("\t"):
            c = "".join(ascii_digits(cell).split())
            if c and (not cells or cells[-1] != c):
                cells.append(c)
        label_at = max((i for i, c in enumerate(cells) if not _is_value_cell(c)), default=-1)
        for context in cells[: max(label_at, 0)]:
            section = _section_of(context, _ROW_PREFIX_RE.sub("", context))
            if section is not None and section is not self.section:
                self.close()
                self.section = section
                self.sections_seen.add(section.heading)
        return "".join(cells[max(label_at, 0) :])

    def _value_line(self, value: str | None, end: int) -> None:
        if self.pending and value:
            self._emit(self.pending, value, end)
        self.pending = None  # a '——' means the waiting row has no number

    def _label_line(self, label: str, dash: str | None, value: str | None, row: _Row) -> None:
        norm = _ROW_PREFIX_RE.sub("", label)
        section = _section_of(label, norm)
        if section is not None:
            self.close()
            self.section = section
            self.sections_seen.add(section.heading)
            row.key = section.key or ""
        else:
            row.key = self._row_key(norm)
        if row.key:
            self.close()
            self._take(row, dash, value)
        elif section is not None or _ROW_PREFIX_RE.match(label) or dash:
            self.close()  # a sub-heading such as (二)通过不同渠道…的情况——
        elif self.pending and value:
            self._emit(self.pending, value, row.end)  # the tail of a label split over lines

    def _row_key(self, norm: str) -> str:
        rows = _COMPILED.get(self.section.heading, ()) if self.section else ()
        return next((key for key, rx in rows if rx.match(norm)), "")

    def _take(self, row: _Row, dash: str | None, value: str | None) -> None:
        if value:
            self._emit(row, value, row.end)
        elif not dash:
            self.pending = row

    def _emit(self, row: _Row, value: str, end: int) -> None:
        self.pending = None
        try:
            number = parse_number(value)
        except BadNumber:
            return
        self._add(row.key, number, row.start, end, blank=False)

    def close(self) -> None:
        """The waiting row met the next row without a number: a blank cell."""
        if self.pending:
            self._add(self.pending.key, 0, self.pending.start, self.pending.end, blank=True)
        self.pending = None

    def _add(self, key: str, value: Number, start: int, end: int, blank: bool) -> None:
        key = f"stats.{key}"
        if key not in self.found:
            form = FORM_CELLS if "\t" in self.text[start:end] else FORM_TEXT_ROW
            prov = Provenance(self.text[start:end], start, end, form=form)
            self.found[key] = Figure(key, value, prov, blank=blank)


def _is_value_cell(cell: str) -> bool:
    return bool(_UNIT_RE.fullmatch(cell) or _VALUE_ONLY_RE.fullmatch(cell) or cell in _UNIT_CELLS)


# Unit cells of the 单位 column: not labels.
_UNIT_CELLS = frozenset({"条", "件", "次", "个", "人", "篇", "项", "人次", "万元", "元"})


def _section_of(label: str, norm: str) -> Section | None:
    if not _SECTION_PREFIX_RE.match(label):
        return None
    return next((s for s, heading in _SECTION_HEADINGS if heading.search(norm)), None)


def parse_national2014(text: str) -> tuple[list[Figure], int]:
    """(stats.* figures in table order, number of the table's sections found).

    Read from the 政府信息公开情况统计表 heading; a spreadsheet may carry the table without
    it, so without a heading the whole text is read and kept only if it shows the sections.
    """
    heading = _HEADING_RE.search(text)
    reader = _Reader(text)
    for m in _LINE_RE.finditer(text, heading.end() if heading else 0):
        reader.feed(m.start(), m.end())
    reader.pending = None  # the text stops at a row label: its figure is not stated
    if not heading and len(reader.sections_seen) < NATIONAL2014_MIN_SECTIONS:
        return [], 0
    figures = [reader.found[f"stats.{k}"] for k in ORDER if f"stats.{k}" in reader.found]
    return figures, len(reader.sections_seen)


def headline_from_table(stats: list[Figure]) -> list[Figure]:
    """Headline figures derived from the table (figures.md: from the table when there is one)."""
    derived = []
    for fig in stats:
        key = NATIONAL2014_HEADLINE.get(fig.key.removeprefix("stats."))
        if key:
            value = fig.value * WAN if key == "headline.fees_yuan" else fig.value
            derived.append(Figure(key, tidy(value), fig.provenance, blank=fig.blank))
    return derived
