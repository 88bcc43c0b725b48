"""Figure rows: the one path that writes them, for a report's page and its attachments alike
(the crawl's indexing, `reparse` and every other pass go through archive.indexing to here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from archive.models import Capture, Figure
from parsers import Figure as ParsedFigure


@dataclass(frozen=True)
class FigureRow:
    """One figure of a version as stored: the exact decimal as text, and where it was read."""

    key: str
    value: str
    provenance: dict[str, object]


def row_of(figure: ParsedFigure, capture: Capture) -> FigureRow:
    """The row of a figure the parsers read in `capture`'s bytes."""
    return FigureRow(figure.key, decimal_text(figure.value), provenance(figure, capture))


def write_figures(session: Session, version_id: int, rows: Iterable[FigureRow]) -> None:
    """Add `rows` to the version; of two rows with one key the first wins (a figure's first
    statement in a report: the key is the row's identity). The caller leaves out the keys the
    version holds already."""
    values: dict[str, dict[str, object]] = {}
    for row in rows:
        values.setdefault(
            row.key,
            {"version_id": version_id, "key": row.key, "value": row.value,
             "provenance": row.provenance},
        )  # fmt: skip
    if values:
        # Core, not ORM objects: a report has dozens of figures, and the session would carry
        # (and flush, and check) every one of them for the rest of the pass.
        session.execute(insert(Figure), list(values.values()))


def decimal_text(value: int | Decimal) -> str:
    """The exact decimal as text, never in exponent form ("1E+3")."""
    return format(value, "f") if isinstance(value, Decimal) else str(int(value))


def provenance(figure: ParsedFigure, capture: Capture) -> dict[str, object]:
    """Where the figure was read: the text span, and the snapshot (capture and blob) it is in."""
    p = figure.provenance
    out: dict[str, object] = {"text": p.text, "start": p.start, "end": p.end}
    if figure.blank:
        out["blank"] = True  # a table cell left empty, read as 0
    out.update({"form": p.form} if p.form else {})  # the text form; 'run-together': by arithmetic
    out.update(snapshot=capture.sha256, capture_id=capture.id, url=capture.url)
    return out
