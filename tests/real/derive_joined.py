"""Derive a run-together ("concatenated-cells") text from a real table text, for tests/real.

No text of the corpus has its table cells run together (saved page texts and PDF extractions
often do: `一、本年新收政府信息公开申请数量1200000012`). Issue 14 asks for the form to be derived
from real tables: this joins each table row's cells the way such texts show them — the row label
followed by its numbers with no separator — and leaves every other line as it is.

    .venv/bin/python tests/real/derive_joined.py texts/0007.txt > texts/0007-joined.txt

Cells are read from `|`-separated rows or from one-cell-per-line text (lone `|` lines and blank
lines between cells). A cell that is a number (optionally negative) is appended to the line of the
cell before it; any other cell starts a new line. Table lines are recognised from the first line
that is a table cell of the 第二十条 / 申请 tables to the end of the text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
TABLE_START = re.compile(r"^第二十条第")


def cells(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for cell in line.split("|"):
            cell = cell.strip()
            if cell:
                out.append(cell)
    return out


def join(text: str) -> str:
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if TABLE_START.match(line.strip()))
    out = lines[:start]
    for cell in cells(lines[start:]):
        if NUMBER.fullmatch(cell) and out and out[-1] and start < len(out):
            out[-1] += cell
        else:
            out.append(cell)
    return "\n".join(out)


if __name__ == "__main__":
    src = Path(sys.argv[1])
    sys.stdout.write(join(src.read_text(encoding="utf-8")))
