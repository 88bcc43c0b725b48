"""One table row as printed -> its label and its value cells, for the table readers.

A row comes either as cells (a tab-joined line rendered from an HTML, DOCX, DOC or sheet grid)
or as plain text from a PDF or a paste ('1.属于国家秘密 0 0 0 0 0 0 0', '主动公开政府信息数492').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.errors import BadNumber
from parsers.model import Number
from parsers.numbers import ARABIC_PATTERN, ascii_digits, parse_number

_DASH = r"[—\-－/／─]+|无"
VALUE_SOURCE = r"[-－+]?(?:" + ARABIC_PATTERN + r")"
_VALUE_RE = re.compile(VALUE_SOURCE)
_DASH_RE = re.compile(_DASH)
# A '-' inside the number: cells run together, the 本年增/减 cell negative ('行政许可1215-351180').
_GLUED_RE = re.compile(
    r"(?P<label>.*?[^\d.,，．０-９\s\-－])(?P<v>[-－]?" + ARABIC_PATTERN + r"(?:-[0-9]+)*)"
)
# The characters a value (VALUE_SOURCE) can start and end with: a cheap test that spares prose
# lines the whitespace removal, digit conversion and lazy glued-number scan.
_VALUE_STARTS = frozenset("-－+0123456789０１２３４５６７８９")
_NUMBER_ENDS = frozenset("0123456789０１２３４５６７８９万亿")


@dataclass(frozen=True)
class Row:
    """A row's label cells (whitespace removed, empty ones dropped) and its trailing value cells.

    A value is the printed token, or None for a blank or dashed cell.
    """

    labels: tuple[str, ...]
    values: tuple[str | None, ...]
    cells: bool  # read from cells (blank cells are known) rather than from plain text
    # Cells flattened with '|' (pipe-table, cells-per-line): a label cell alone on its line waits
    # for its values on the following lines, as plain text does.
    piped: bool = False

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""

    @property
    def joined(self) -> str:
        return "".join(self.labels)


def is_value(cell: str) -> bool:
    """A number cell: '12', '1,024', '-3', '24252.311082', '0.5万'."""
    c = cell.strip()
    if not c or c[0] not in _VALUE_STARTS or c[-1] not in _NUMBER_ENDS:
        return False  # most cells and tokens: words, or prose with a number inside
    return _compact_value(compact(c))


def _compact_value(c: str) -> bool:
    """is_value of a cell already compacted."""
    if not c or c[0] not in _VALUE_STARTS or c[-1] not in _NUMBER_ENDS:
        return False
    return _VALUE_RE.fullmatch(ascii_digits(c)) is not None


def is_blank(cell: str) -> bool:
    return _blank(compact(cell))


def _blank(compacted: str) -> bool:
    return not compacted or _DASH_RE.fullmatch(compacted) is not None


def compact(text: str) -> str:
    r"""Whitespace removed: str.split() splits on exactly what regex \s matches (U+3000 too)."""
    return "".join(text.split())


def split_row(line: str) -> Row:
    """Cells when the line has tabs or '|' separators, else text with its trailing numbers split off."""
    if "\t" in line:
        return _from_cells(line.split("\t"))
    if "|" in line:
        return _from_pipes(line)
    return _from_text(line)


def _from_pipes(line: str) -> Row:
    """'规章 | 0 | 0 | 6 |', '47 |', '|||': a '|' closes each cell; a lone '|' ends a row."""
    cells = line.split("|")
    if cells and not cells[-1].strip():
        cells.pop()  # the closing '|' of the last cell
    if len(cells) <= 1 and not compact("".join(cells)):
        return Row((), (), cells=True, piped=True)  # a lone '|': a row or cell boundary, no cell
    row = _from_cells(cells)
    return Row(row.labels, row.values, cells=True, piped=True)


def _from_cells(cells: list[str]) -> Row:
    compacted = [compact(cell) for cell in cells]
    end = len(compacted)
    while end > 0 and (_compact_value(compacted[end - 1]) or _blank(compacted[end - 1])):
        end -= 1
    labels: list[str] = []
    for c in compacted[:end]:
        if c and not _blank(c) and (not labels or labels[-1] != c):
            labels.append(c)
    values = tuple(None if _blank(c) else c for c in compacted[end:])
    return Row(tuple(labels), values, cells=True)


def _from_text(line: str) -> Row:
    tokens = line.split()
    values: list[str | None] = []
    while tokens and (is_value(tokens[-1]) or _DASH_RE.fullmatch(tokens[-1])):
        token = tokens.pop()
        values.insert(0, None if _DASH_RE.fullmatch(token) else token)
    label = "".join(tokens)  # split() tokens hold no whitespace
    if not values and label and label[-1] in _NUMBER_ENDS:
        glued = _GLUED_RE.fullmatch(ascii_digits(label))
        if glued:  # '主动公开政府信息数492': the number right after the label (seed 003)
            label, values = label[: len(glued.group("label"))], [glued.group("v")]
    return Row((label,) if label else (), tuple(values), cells=False)


def value_of(token: str) -> Number | None:
    """A value token -> its number (signed), or None when it does not parse."""
    plain = token.isascii() and token.isdigit()  # most cells: nothing to compact or convert
    t = token if plain else ascii_digits(compact(token))
    sign = -1 if t[:1] in "-－" else 1
    try:
        number = parse_number(t.lstrip("-－+"))
    except BadNumber:
        return None
    return sign * number
