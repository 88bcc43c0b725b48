"""Table cells run together with no separator, recovered by the form's arithmetic alone.

Saved page texts and PDF extractions print a row's cells with nothing between them:
'一、本年新收政府信息公开申请数量120000012' is 12 | 0 | 0 | 0 | 0 | 0 | 12. A run is split into
its row's cells with no leading zeros ('0' alone is a cell), a '-' opening only a signed cell
(本年增/减), and each group's total equal to the sum of its columns. Rows are then held to the
identities between rows (第一项加第二项之和等于第三项加第四项之和; the 总计 row sums the outcome
rows; pre-2019 local tables' 累计 is at least its 本年度). Cells are given when one split
satisfies every identity;
otherwise the row's cells stay absent (but for a cell its row's printed '-' closes) and a
finding says why. Nothing is guessed.

The search is bounded (MAX_NODES, MAX_COMBINATIONS); past a bound the cells stay absent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from parsers.model import Check

MAX_NODES = 50_000  # search steps for one run's splits
MAX_SPLITS = 2_000  # splits kept for one run (more: the row is left absent)
MAX_COMBINATIONS = 20_000  # row splits tried together against one identity
MAX_RUN_CHARS = 200  # a longer run is no table row (and int() of thousands of digits raises)
MAX_CELL_DIGITS = 12  # no figure of a report has more
FINDING_RULE = "run_together"


@dataclass(frozen=True)
class Layout:
    """A row's cells: `groups` are cell counts, each group's last cell the sum of the others
    when `summed`; a '-' may open only the cells at `signed` (indexes into the row); with
    `ascending`, no cell is less than the one before."""

    groups: tuple[int, ...]
    summed: bool
    signed: frozenset[int] = frozenset()
    ascending: bool = False  # each cell at least the one before (本年度 | 累计: 累计 ≥ 本年度)

    @property
    def cells(self) -> int:
        return sum(self.groups)


@dataclass(frozen=True)
class Run:
    """One printed run: the row's name, the keys of its cells in order, the run as printed."""

    name: str
    cells: tuple[str, ...]
    printed: str
    layout: Layout


Split = tuple[int, ...]


def splits(printed: str, layout: Layout) -> list[Split] | None:
    """Every split of `printed` into the layout's cells; None when the search passed its bound."""
    if len(printed) > MAX_RUN_CHARS:
        return None
    search = _Search(printed, layout)
    search.walk(0, 0, ())
    return None if search.exhausted else search.found


class _Search:
    def __init__(self, printed: str, layout: Layout) -> None:
        self.s, self.layout = printed, layout
        # cell index -> (index of its group's first cell, is the group's total)
        self.role: list[tuple[int, bool]] = []
        for size in layout.groups:
            first = len(self.role)
            self.role += [(first, layout.summed and i == size - 1) for i in range(size)]
        self.found: list[Split] = []
        self.nodes, self.exhausted = 0, False
        # The last group's total ends the run: it is read from the end, its parts fitted to it.
        self.last_first = layout.cells - layout.groups[-1] if layout.summed else -1

    def walk(self, pos: int, cell: int, done: Split) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(self.found) > MAX_SPLITS:
            self.exhausted = True
            return
        if cell == self.layout.cells:
            if pos == len(self.s):
                self.found.append(done)
            return
        if cell == self.last_first:
            self._last_group(pos, done)
            return
        left = self.layout.cells - cell - 1  # cells after this one: each needs a character
        first, total = self.role[cell]
        if total:  # forced: the sum of the group's columns, printed
            text = str(sum(done[first:]))
            if self.s.startswith(text, pos) and len(self.s) - pos - len(text) >= left:
                self.walk(pos + len(text), cell + 1, (*done, int(text)))
            return
        for text in self._cells_at(pos, cell, left):
            if self.layout.ascending and done and int(text) < done[-1]:
                continue
            self.walk(pos + len(text), cell + 1, (*done, int(text)))
            if self.exhausted:
                return

    def _last_group(self, pos: int, done: Split) -> None:
        """Each printed total that ends the run, then the parts between that add up to it."""
        parts = self.layout.groups[-1] - 1
        for size in range(1, min(len(self.s) - pos - parts, MAX_CELL_DIGITS) + 1):
            total = self.s[len(self.s) - size :]
            if not _plain(total):
                continue
            memo: dict[tuple[int, int, int], list[Split]] = {}
            for tail in self._tails(pos, len(self.s) - size, parts, int(total), size, memo):
                self.found.append((*done, *tail, int(total)))
            if self.exhausted or len(self.found) > MAX_SPLITS:
                self.exhausted = True
                return

    def _tails(
        self,
        pos: int,
        end: int,
        parts: int,
        rest: int,
        width: int,
        memo: dict[tuple[int, int, int], list[Split]],
    ) -> list[Split]:
        """The splits of s[pos:end] into `parts` cells, none wider than the total, adding up to
        `rest`. Memoised: an all-ones run has many paths to few states."""
        key = (pos, parts, rest)
        if key in memo:
            return memo[key]
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.exhausted = True
            return []
        out: list[Split] = []
        if parts == 1:
            text = self.s[pos:end]
            if _plain(text) and len(text) <= width and int(text) == rest:
                out.append((rest,))
        elif parts <= end - pos <= parts * width:
            stop = pos + 1 if self.s[pos] == "0" else min(end - parts + 1, pos + width)
            for cut in range(pos + 1, stop + 1):
                value = int(self.s[pos:cut])
                if value > rest or self.exhausted or len(out) > MAX_SPLITS:
                    break
                sub = self._tails(cut, end, parts - 1, rest - value, width, memo)
                out += [(value, *tail) for tail in sub]
        memo[key] = out
        return out

    def _cells_at(self, pos: int, cell: int, left: int) -> Iterable[str]:
        """The cell texts that may start at `pos`: '0', or digits not starting with 0."""
        s, start = self.s, pos
        if cell in self.layout.signed and s.startswith("-", pos):
            pos += 1
        elif pos < len(s) and s[pos] == "-":
            return ()
        if pos >= len(s) or not s[pos].isdigit():
            return ()
        if s[pos] == "0":
            return (s[start : pos + 1],)
        end = pos
        while end < len(s) and s[end].isdigit():
            end += 1
        last = min(end, len(s) - left, pos + MAX_CELL_DIGITS)
        if cell == self.layout.cells - 1:
            return (s[start:],) if end == len(s) and end - pos <= MAX_CELL_DIGITS else ()
        return (s[start:stop] for stop in range(pos + 1, last + 1))


@dataclass(frozen=True)
class Identity:
    """sum(lhs cells) == sum(rhs cells); cells are figure keys."""

    lhs: tuple[str, ...]
    rhs: tuple[str, ...]


def recover(
    runs: Sequence[Run], fixed: Mapping[str, int], identities: Sequence[Identity]
) -> tuple[dict[str, int], list[Check]]:
    """(cells determined by the runs, findings). `fixed` are cells read otherwise."""
    candidates: dict[str, list[Split]] = {}
    findings: list[Check] = []
    for run in runs:
        found = splits(run.printed, run.layout)
        if found is None:
            findings.append(_finding(run, "too many ways to split; cells left absent"))
        elif not found:
            findings.append(_finding(run, "no split fits the row's arithmetic; cells left absent"))
        else:
            candidates[run.name] = found
    cell_of = {c: (run.name, i) for run in runs for i, c in enumerate(run.cells)}
    _narrow(candidates, cell_of, fixed, identities, findings)
    return _determined(runs, candidates, findings)


def _narrow(
    candidates: dict[str, list[Split]],
    cell_of: Mapping[str, tuple[str, int]],
    fixed: Mapping[str, int],
    identities: Sequence[Identity],
    findings: list[Check],
) -> None:
    """Keep the splits that take part in some solution of each identity, until nothing changes."""
    changed = True
    while changed:
        changed = False
        for identity in identities:
            cells = (*identity.lhs, *identity.rhs)
            if any(c not in fixed and cell_of.get(c, ("", 0))[0] not in candidates for c in cells):
                continue  # a cell the text does not give: the identity cannot be applied
            rows = sorted({cell_of[c][0] for c in cells if c not in fixed})
            if all(len(candidates[r]) == 1 for r in rows):
                continue
            kept = _solutions(identity, rows, candidates, cell_of, fixed)
            if kept is None or not any(kept.values()):
                continue  # past the bound, or the report's own arithmetic is off: no narrowing
            for r in rows:
                if len(kept[r]) < len(candidates[r]):
                    candidates[r] = [s for s in candidates[r] if s in kept[r]]
                    changed = True


def _solutions(
    identity: Identity,
    rows: Sequence[str],
    candidates: Mapping[str, list[Split]],
    cell_of: Mapping[str, tuple[str, int]],
    fixed: Mapping[str, int],
) -> dict[str, set[Split]] | None:
    """Per row, the splits that appear in a combination satisfying the identity."""
    size = 1
    for r in rows:
        size *= len(candidates[r])
    if size > MAX_COMBINATIONS:
        return None
    kept: dict[str, set[Split]] = {r: set() for r in rows}
    for combo in itertools.product(*(candidates[r] for r in rows)):
        chosen = dict(zip(rows, combo, strict=True))
        if _side(identity.lhs, chosen, cell_of, fixed) == _side(
            identity.rhs, chosen, cell_of, fixed
        ):
            for r, s in chosen.items():
                kept[r].add(s)
    return kept


def _side(
    cells: Sequence[str],
    chosen: Mapping[str, Split],
    cell_of: Mapping[str, tuple[str, int]],
    fixed: Mapping[str, int],
) -> int:
    total = 0
    for cell in cells:
        if cell in fixed:
            total += fixed[cell]
        else:
            row, index = cell_of[cell]
            total += chosen[row][index]
    return total


def _determined(
    runs: Sequence[Run], candidates: Mapping[str, list[Split]], findings: list[Check]
) -> tuple[dict[str, int], list[Check]]:
    cells: dict[str, int] = {}
    for run in runs:
        found = candidates.get(run.name)
        if not found:
            continue
        open_cells = []
        for i, cell in enumerate(run.cells):
            values = {s[i] for s in found}
            if len(values) == 1 and (len(found) == 1 or _closed_by_minus(found, i)):
                cells[cell] = values.pop()
            else:
                open_cells.append(cell.rpartition(".")[2])
        if open_cells:
            ways = " or ".join("|".join(map(str, s)) for s in found[:4])
            more = f" ({len(found)} splits)" if len(found) > 4 else ""
            detail = f"splits as {ways}{more}; {', '.join(open_cells)} left absent"
            findings.append(_finding(run, detail))
    return cells, findings


def _closed_by_minus(found: Sequence[Split], i: int) -> bool:
    """A cell the print itself ends: the next cell opens with its '-' in every split.

    Otherwise a row with more than one split keeps no cell, even one all splits agree on: which
    split the report printed is unknown, and the agreement may be the splits' accident.
    """
    return i + 1 < len(found[0]) and all(s[i + 1] < 0 for s in found)


def _plain(text: str) -> bool:
    """Digits with no leading zero ('0' alone is a cell)."""
    return text.isdigit() and (len(text) == 1 or text[0] != "0")


def _finding(run: Run, detail: str) -> Check:
    return Check(f"{FINDING_RULE}:{run.name}", False, f"'{run.printed}': {detail}")
