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
_GLUED_RE = re.compile(r"(?P<label>.*?[^\d.,，．０-９\s])(?P<v>" + ARABIC_PATTERN + r")")
_SPACE_RE = re.compile(r"[\s\u3000]+")
_DIGIT_RE = re.compile(r"[0-9０-９]")


@dataclass(frozen=True)
class Row:
    """A row's label cells (whitespace removed, empty ones dropped) and its trailing value cells.

    A value is the printed token, or None for a blank or dashed cell.
    """

    labels: tuple[str, ...]
    values: tuple[str | None, ...]
    cells: bool  # read from cells (blank cells are known) rather than from plain text

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""

    @property
    def joined(self) -> str:
        return "".join(self.labels)


def is_value(cell: str) -> bool:
    """A number cell: '12', '1,024', '-3', '24252.311082', '0.5万'."""
    if not _DIGIT_RE.search(cell):
        return False  # most cells and tokens: no digit at all
    return _VALUE_RE.fullmatch(ascii_digits(compact(cell))) is not None


def is_blank(cell: str) -> bool:
    c = compact(cell)
    return not c or _DASH_RE.fullmatch(c) is not None


def compact(text: str) -> str:
    return _SPACE_RE.sub("", text)


def split_row(line: str) -> Row:
    """Cells when the line has tabs, else text with its trailing numbers split off."""
    if "\t" in line:
        return _from_cells(line.split("\t"))
    return _from_text(line)


def _from_cells(cells: list[str]) -> Row:
    end = len(cells)
    while end > 0 and (is_value(cells[end - 1]) or is_blank(cells[end - 1])):
        end -= 1
    labels: list[str] = []
    for cell in cells[:end]:
        c = compact(cell)
        if c and not is_blank(c) and (not labels or labels[-1] != c):
            labels.append(c)
    values = tuple(None if is_blank(c) else compact(c) for c in cells[end:])
    return Row(tuple(labels), values, cells=True)


def _from_text(line: str) -> Row:
    tokens = line.split()
    values: list[str | None] = []
    while tokens and (is_value(tokens[-1]) or _DASH_RE.fullmatch(tokens[-1])):
        token = tokens.pop()
        values.insert(0, None if _DASH_RE.fullmatch(token) else token)
    label = compact("".join(tokens))
    if not values and label:
        glued = _GLUED_RE.fullmatch(ascii_digits(label))
        if glued:  # '主动公开政府信息数492': the number right after the label (seed 003)
            label, values = label[: len(glued.group("label"))], [glued.group("v")]
    return Row((label,) if label else (), tuple(values), cells=False)


def value_of(token: str) -> Number | None:
    """A value token -> its number (signed), or None when it does not parse."""
    t = ascii_digits(compact(token))
    sign = -1 if t[:1] in "-－" else 1
    try:
        number = parse_number(t.lstrip("-－+"))
    except BadNumber:
        return None
    return sign * number
