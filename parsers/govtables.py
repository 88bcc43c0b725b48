"""The gov2019 / gov2021 tables (二 主动公开, 三 申请, 四 复议诉讼) read by label from text lines.

Lines come from any form: tab-joined cells (HTML, DOCX, DOC, sheets; blank cells known) or plain
text (PDF, pastes) with the numbers at the end of the label's line or on the following lines.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from parsers import govruns
from parsers.model import Check, Figure, Provenance
from parsers.rowtext import Row, split_row, value_of
from parsers.rules.core import FORM_CELLS, FORM_CELLS_PER_LINE, FORM_PIPES, FORM_TEXT_ROW
from parsers.rules.gov import (
    APPLICATION_COLUMNS,
    APPLICATION_GROUP_SOURCE,
    APPLICATION_ORDER,
    APPLICATION_ROWS,
    GOV_MAX_LABEL,
    PROACTIVE_ROWS,
    PROSE_STOPS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    REVIEW_HEADING_SOURCE,
    GovRow,
)

_LINE_RE = re.compile(r"[^\n]+")
_GROUP_RE = re.compile(APPLICATION_GROUP_SOURCE)
_REVIEW_HEADING_RE = re.compile(REVIEW_HEADING_SOURCE)
MAX_LINE = 600
MAX_TEXT_ROW = GOV_MAX_LABEL + 110  # the label, then up to 15 numbers


@dataclass
class _Pending:
    spec: GovRow
    start: int
    end: int
    values: list[str | None] = field(default_factory=list)
    form: str = FORM_TEXT_ROW


@dataclass
class _Reader:
    text: str
    template: str
    group: str = ""
    review_armed: bool = False
    pending: _Pending | None = None
    found: dict[str, Figure] = field(default_factory=dict)
    runs: list[govruns.PrintedRun] = field(default_factory=list)

    def feed(self, start: int, end: int) -> None:
        line = self.text[start:end]
        if len(line) > MAX_LINE or ("\t" not in line and len(line) > MAX_TEXT_ROW):
            self.close()  # prose: a text row is a short label and its numbers
            return
        start, end = start + len(line) - len(line.lstrip()), end - len(line) + len(line.rstrip())
        row = split_row(line)
        if row.piped and not row.labels and not row.values:
            return  # a lone '|' between cells printed one per line
        if _REVIEW_HEADING_RE.search(row.joined):
            self.review_armed = True
        if not row.labels and row.values:
            self._values_only(row, start, end)
            return
        self.close()
        self._labelled(row, start, end)

    def _values_only(self, row: Row, start: int, end: int) -> None:
        if self.pending is None and self.review_armed:
            self.pending = _Pending(_REVIEW_SPEC, start, end, form=_form(row, alone=True))
        if self.pending is None:
            return
        self.pending.values.extend(row.values)
        self.pending.end = end
        if len(self.pending.values) >= len(self.pending.spec.columns):
            self._emit(self.pending)
            self.pending = None

    def _labelled(self, row: Row, start: int, end: int) -> None:
        if len(row.joined) > GOV_MAX_LABEL * 3 or len(row.label) > GOV_MAX_LABEL:
            return
        if not row.cells and any(c in row.label for c in PROSE_STOPS):
            return
        for label in row.labels:
            if _GROUP_RE.search(label):
                self.group = label
        spec = self._match(row)
        if spec is None:
            return
        if self._run(spec, row, start, end):
            return
        pending = _Pending(spec, start, end, list(row.values[: len(spec.columns)]))
        pending.form = _form(row, alone=not row.values)
        if row.values and (row.cells or len(row.values) >= len(spec.columns)):
            # The first cells: a value spanning columns is repeated by the grid after itself.
            # Plain text with too few numbers lost its blank cells: which ones is unknown.
            # '|'-separated cells print every cell, blank ones too: fewer means the text stopped.
            self._emit(pending, pad=not row.piped)
        elif not row.cells or row.piped:
            self.pending = pending  # the numbers follow on the next lines (or the row is blank)

    def _run(self, spec: GovRow, row: Row, start: int, end: int) -> bool:
        """A text row whose one number is long enough to be all its cells run together."""
        if row.cells or len(row.values) != 1 or len(spec.columns) < 2:
            return False
        token = row.values[0]
        if token is None or not govruns.could_be_run(token, len(spec.columns)):
            return False
        key = spec.key if spec is not _REVIEW_SPEC else ""
        self.runs.append(govruns.PrintedRun(key, spec.columns, token, start, end))
        if spec is _REVIEW_SPEC:
            self.review_armed = False
        return True

    def _match(self, row: Row) -> GovRow | None:
        context = row.joined if row.cells else self.group + row.label
        return _match_spec(self.template, row.label, context)

    def close(self) -> None:
        """A row still waiting for numbers met a new label: it was blank (text has no cells)."""
        p = self.pending
        if p is not None and not p.values and p.spec is not _REVIEW_SPEC:
            p.values = [None] * len(p.spec.columns)
            self._emit(p)
        elif p is not None and len(p.values) == 1:
            self._run(p.spec, Row((), tuple(p.values), cells=False), p.start, p.end)
        self.pending = None

    def finish(self) -> None:
        """The text ends: a row still waiting states only the values it has (none: no figure)."""
        p = self.pending
        if p is None or not p.values:
            return
        token = p.values[0] if len(p.values) == 1 else None
        if token is None or not govruns.could_be_run(token, len(p.spec.columns)):
            self._emit(p, pad=False)  # else its first cell or all its cells run together: unknown
        self.pending = None

    def _emit(self, p: _Pending, pad: bool = True) -> None:
        values = p.values + [None] * (len(p.spec.columns) - len(p.values)) if pad else p.values
        prov = Provenance(self.text[p.start : p.end], p.start, p.end, form=p.form)
        for column, token in zip(p.spec.columns, values, strict=False):
            key = f"{p.spec.key}.{column}" if p.spec is not _REVIEW_SPEC else column
            number = 0 if token is None else value_of(token)
            if number is not None and key not in self.found:
                self.found[key] = Figure(key, number, prov, blank=token is None)
        if p.spec is _REVIEW_SPEC:
            self.review_armed = False


# The review row has no label: its 15 columns are named in full (review.maintained, ...).
_REVIEW_SPEC = GovRow(
    "", "", None, ("gov2019", "gov2021"),
    tuple(f"{g}.{c}" for g in REVIEW_GROUPS for c in REVIEW_COLUMNS),
)  # fmt: skip


def _specs(template: str) -> tuple[tuple[GovRow, re.Pattern[str], re.Pattern[str] | None], ...]:
    rows = (*PROACTIVE_ROWS, *APPLICATION_ROWS)
    return tuple(
        (r, re.compile(r.pattern), re.compile(r.group) if r.group else None)
        for r in rows
        if template in r.templates
    )


_SPECS = {t: _specs(t) for t in ("gov2019", "gov2021")}


@functools.lru_cache(maxsize=4096)
def _match_spec(template: str, label: str, context: str) -> GovRow | None:
    """The first row spec whose pattern the label matches (and its group the context).

    Cached: every report of a form prints the same labels, and ~30 patterns are tried per row.
    """
    for spec, pattern, group in _SPECS[template]:
        if pattern.search(label) and (group is None or group.search(context)):
            return spec
    return None


def _form(row: Row, alone: bool) -> str:
    """The text form of a row: a label alone on its '|' line has its cells on the next lines."""
    if row.piped:
        return FORM_CELLS_PER_LINE if alone else FORM_PIPES
    return FORM_CELLS if row.cells else FORM_TEXT_ROW


def parse_gov(text: str, template: str) -> tuple[list[Figure], list[Check]]:
    """Every figure of the template's tables found in the text, in figures.md order; and the
    findings about cells run together that the arithmetic could not settle."""
    if template not in _SPECS:
        return [], []
    reader = _Reader(text, template)
    for m in _LINE_RE.finditer(text):
        reader.feed(m.start(), m.end())
    reader.finish()
    findings: list[Check] = []
    if reader.runs:
        recovered, findings = govruns.recover(text, template, reader.runs, reader.found)
        for f in recovered:
            reader.found.setdefault(f.key, f)
    return sorted(reader.found.values(), key=lambda f: _ORDER.get(f.key, len(_ORDER))), findings


_ORDER = {
    key: i
    for i, key in enumerate(
        [f"{r.key}.{c}" for r in PROACTIVE_ROWS for c in r.columns]
        + [f"applications.{r}.{c}" for r in APPLICATION_ORDER for c in APPLICATION_COLUMNS]
        + list(_REVIEW_SPEC.columns)
    )
}
