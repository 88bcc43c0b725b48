"""Two text snapshots side by side: rows of (kind, old line, new line), rendered escaped."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 1  # unchanged lines kept around each change


@dataclass(frozen=True)
class DiffRow:
    kind: str  # equal | replace | delete | insert | gap (unchanged lines left out)
    old: str
    new: str


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """The changed lines of two texts, paired, with CONTEXT unchanged lines around them."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT):
        if rows:
            rows.append(DiffRow("gap", "…", "…"))
        for tag, i1, i2, j1, j2 in group:
            left, right = a[i1:i2], b[j1:j2]
            for k in range(max(len(left), len(right))):
                rows.append(
                    DiffRow(
                        tag,
                        left[k] if k < len(left) else "",
                        right[k] if k < len(right) else "",
                    )
                )
    return rows
