"""Reports parsed per second per core: a realistic 60 KB report page, and the real report texts.

Run: `.venv/bin/python bench/parse_bench.py [--seconds 5]`. The page is the gov2021 golden case
(three tables, rowspans and colspans, Hanweb chrome) grown to ~60 KB with the prose, navigation
and footer links a real portal page carries; it is parsed from bytes, as indexing does. Then every
text of tests/real/texts (165 corpus texts, mostly the first ~2 KB of a page, and the derived
run-together ones) is parsed in turn, as bytes too, for as long again.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from parsers import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "golden" / "gov2021-html" / "input.html"
REAL = ROOT / "tests" / "real" / "texts"
TARGET_BYTES = 60_000


def page() -> bytes:
    """The golden page with navigation, related links and prose added up to ~60 KB."""
    html = CASE.read_text(encoding="utf-8")
    nav = "".join(
        f'<li><a href="/col/col{i}/index.html">栏目{i}政务公开</a></li>' for i in range(120)
    )
    html = html.replace('<div class="nav">', f'<ul class="menu">{nav}</ul><div class="nav">', 1)
    prose = (
        "<p>　　2021年，本机关坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实党中央、"
        "国务院关于全面推进政务公开工作的决策部署，围绕中心工作，不断加大政府信息公开力度，"
        "持续深化重点领域信息公开，切实保障人民群众知情权、参与权、表达权和监督权。</p>"
    )
    while len(html.encode("utf-8")) < TARGET_BYTES:
        html = html.replace(
            "<p>五、存在的主要问题及改进情况</p>", prose + "<p>五、存在的主要问题及改进情况</p>", 1
        )
    return html.encode("utf-8")


def run(seconds: float) -> tuple[int, float, int]:
    raw = page()
    parse_bytes(raw, "text/html; charset=utf-8")  # warm up: imports, regex compilation
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        parse_bytes(raw, "text/html; charset=utf-8")
        count += 1
    return count, time.process_time() - start, len(raw)


def run_real(seconds: float) -> tuple[int, float, int]:
    """(parses, CPU seconds, texts) over the real texts, round after round."""
    texts = [p.read_bytes() for p in sorted(REAL.glob("*.txt"))]
    for raw in texts:
        parse_bytes(raw, "text/plain; charset=utf-8")  # warm up (and OpenCC's first load)
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for raw in texts:
            parse_bytes(raw, "text/plain; charset=utf-8")
        count += len(texts)
    return count, time.process_time() - start, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    count, elapsed, size = run(args.seconds)
    # CPU time of this one process: reports per second per core.
    print(
        f"{count / elapsed:.1f} reports/s/core ({count} parses of a {size / 1000:.1f} KB page in {elapsed:.2f} s CPU)"
    )
    count, elapsed, texts = run_real(args.seconds)
    print(
        f"{count / elapsed:.1f} reports/s/core on real texts ({count} parses of the {texts} texts of tests/real in {elapsed:.2f} s CPU)"
    )


if __name__ == "__main__":
    main()
