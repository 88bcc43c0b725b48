"""The figure page: one figure across publishers and years (questions.figures), as a table and an
inline SVG chart drawn here (presentation attributes only: the page's CSP allows no inline style)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from questions.figures import FigureValue

WIDTH, HEIGHT, PAD = 720, 300, 48
MAX_LINES = 12  # more publishers than this and the chart shows the sum per year instead
COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939",
)  # fmt: skip


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: str  # SVG polyline points
    dots: tuple[tuple[float, float, str], ...]  # (x, y, value) for the markers and their titles


@dataclass(frozen=True)
class Chart:
    years: list[int]
    table: list[tuple[str, dict[int, str]]]  # (portal · publisher, year -> value)
    lines: list[Line]
    summed: bool
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, int]]
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def chart(rows: list[FigureValue]) -> Chart:
    years = sorted({r.year for r in rows if r.year is not None})
    table: dict[str, dict[int, str]] = {}
    for r in rows:
        if r.year is not None:
            table.setdefault(f"{r.portal} · {r.publisher or '?'}", {})[r.year] = r.value
    series = {n: {yr: Decimal(v) for yr, v in values.items()} for n, values in table.items()}
    summed = len(series) > MAX_LINES
    if summed:
        total: dict[int, Decimal] = {}
        for values in series.values():
            for year, v in values.items():
                total[year] = total.get(year, Decimal(0)) + v
        series = {"sum over publishers": total}
    top = max((v for s in series.values() for v in s.values()), default=Decimal(1)) or Decimal(1)
    x = _scale(years)

    def y(v: Decimal) -> float:
        return HEIGHT - PAD - float(v / top) * (HEIGHT - 2 * PAD)

    lines = [
        Line(
            name,
            COLOURS[i % len(COLOURS)],
            " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in sorted(values.items())),
            tuple((x(yr), y(v), f"{name} {yr}: {v}") for yr, v in sorted(values.items())),
        )
        for i, (name, values) in enumerate(sorted(series.items()))
    ]
    ticks = [(y(top * k / 4), f"{top * k / 4:.0f}") for k in range(5)]
    return Chart(years, sorted(table.items()), lines, summed, ticks, [(x(yr), yr) for yr in years])


def _scale(years: list[int]) -> Callable[[int], float]:
    first, last = (years[0], years[-1]) if years else (0, 1)
    span = max(last - first, 1)
    return lambda year: PAD + (year - first) / span * (WIDTH - 2 * PAD)
