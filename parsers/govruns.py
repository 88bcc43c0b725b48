"""Rows of the gov tables printed with their cells run together: layouts, identities, figures.

The arithmetic is runtogether's; this module says what it is for the 2019 and 2021 forms: each
row's cells (totals last, 本年增/减 signed), and the identities between rows (figures.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from parsers import runtogether
from parsers.model import Check, Figure, Provenance
from parsers.rules.core import FORM_RUN_TOGETHER
from parsers.rules.gov import GOV_BALANCE, RUN_SIGNED_COLUMNS, gov_sums
from parsers.runtogether import Identity, Layout, Run

_RUN_RE = re.compile(r"-?[0-9]+(?:-[0-9]+)*")


@dataclass(frozen=True)
class PrintedRun:
    """A run as the table reader met it: row key ('' for the review row), columns, where."""

    key: str
    columns: tuple[str, ...]
    printed: str
    start: int
    end: int

    @property
    def cells(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.{c}" if self.key else c for c in self.columns)


def could_be_run(token: str, columns: int) -> bool:
    """Plain digits (a '-' opening a signed cell), at least one character per cell."""
    return len(token) >= columns and _RUN_RE.fullmatch(token) is not None


@functools.lru_cache(maxsize=64)
def layout(columns: tuple[str, ...]) -> Layout:
    """Groups end at their 'total' column (summed); without totals, free cells."""
    groups, size = [], 0
    for c in columns:
        size += 1
        if c.rpartition(".")[2] == "total":
            groups.append(size)
            size = 0
    if size:
        groups.append(size)
    summed = len(groups) > 1 or columns[-1].rpartition(".")[2] == "total"
    signed = frozenset(
        i for i, c in enumerate(columns) if c.rpartition(".")[2] in RUN_SIGNED_COLUMNS
    )
    return Layout(tuple(groups), summed, signed)


@functools.lru_cache(maxsize=4)
def identities(template: str) -> tuple[Identity, ...]:
    """Every table total equals its parts; 新收 + 上年结转 = 总计 + 结转下年度, per column."""
    found = [Identity((total,), parts) for total, parts in gov_sums(template)]
    (left, right), columns = GOV_BALANCE
    for c in columns:
        lhs = tuple(f"applications.{r}.{c}" for r in left)
        found.append(Identity(lhs, tuple(f"applications.{r}.{c}" for r in right)))
    return tuple(found)


def recover(
    text: str, template: str, printed: Sequence[PrintedRun], found: Mapping[str, Figure]
) -> tuple[list[Figure], list[Check]]:
    """The cells the runs determine, as figures read `run-together`; findings for the rest."""
    runs = [Run(p.key or "review", p.cells, p.printed, layout(p.columns)) for p in printed]
    fixed = {k: f.value for k, f in found.items() if isinstance(f.value, int)}
    cells, findings = runtogether.recover(runs, fixed, identities(template))
    figures = []
    for p in printed:
        prov = Provenance(text[p.start : p.end], p.start, p.end, form=FORM_RUN_TOGETHER)
        figures += [Figure(c, cells[c], prov) for c in p.cells if c in cells]
    return figures, findings
