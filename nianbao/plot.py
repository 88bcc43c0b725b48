"""`nianbao figures … --plot out.png`: one line per publisher, the figure over the years.

matplotlib's Agg backend (no display needed). Publisher names are Chinese: the first CJK font
installed is used (Noto/Source Han, WenQuanYi, SimHei, ...); with none, DejaVu draws boxes for the
names and the plot is still written.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from archive.files import staged_files
from questions.figures import FigureValue

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)


def cjk_font() -> str | None:
    """The first CJK-capable font matplotlib can find, if any."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def plot_figure(values: Sequence[FigureValue], key: str, out: Path) -> Path:
    """Draw `values` (one figure, many publishers and years) as a line chart into `out`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    # matplotlib logs each fallback of a font weight; the chart is fine, the log is noise.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font = cjk_font()
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for v in values:
        if v.year is not None:
            # A float only to place a point on the chart; the data stay exact decimals.
            series[f"{v.publisher or '?'} ({v.portal})"].append((v.year, float(v.number)))
    fonts = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    # "Glyph … missing from font" for every name when no CJK font is installed: said once instead.
    if font is None:
        logging.getLogger(__name__).warning(
            "no CJK font installed (e.g. fonts-noto-cjk): publisher names are drawn as boxes"
        )
    with matplotlib.rc_context({"font.sans-serif": fonts}), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig, ax = pyplot.subplots(figsize=(12, 6), dpi=100)
        for label, points in sorted(series.items()):
            points.sort()
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        ax.set_title(key)
        ax.set_xlabel("report year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if series:
            ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        # Staged and renamed (archive.files): a kill leaves the previous PNG, not half of one.
        with staged_files(out.parent, replace=True) as files, files.open(out.name, "wb") as fh:
            fig.savefig(fh, format="png")
        pyplot.close(fig)
    return out
