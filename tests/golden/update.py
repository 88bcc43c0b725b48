"""Rewrite the golden expectations: `PYTHONPATH=. .venv/bin/python tests/golden/update.py [CASE ...]`.

Updating is a deliberate act: run it after a parser change you mean, then read the diff of
expected.json before committing it. With no CASE, every folder under tests/golden is rewritten.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from parsers import ParsedReport, parse_bytes, parse_html, parse_text, report_to_json

GOLDEN = Path(__file__).parent
ROOT = GOLDEN.parent.parent


def input_path(case: Path) -> Path:
    """The case's input: `input.*` in its folder, or the file meta.json names (the seeds)."""
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    if "input" in meta:
        return ROOT / meta["input"]
    return next(case.glob("input.*"))


def parse_case(case: Path) -> ParsedReport:
    """Parse a case the way its input kind asks: .txt as text, .html as HTML, else bytes."""
    path = input_path(case)
    if path.suffix == ".txt":
        return parse_text(path.read_text(encoding="utf-8"))
    if path.suffix == ".html":
        return parse_html(path.read_text(encoding="utf-8"))
    return parse_bytes(path.read_bytes())


def cases() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if (p / "meta.json").is_file())


def write_expected(case: Path) -> None:
    expected = json.dumps(report_to_json(parse_case(case)), ensure_ascii=False, indent=2)
    (case / "expected.json").write_text(expected + "\n", encoding="utf-8")


def main(names: list[str]) -> None:
    for case in cases():
        if not names or case.name in names:
            write_expected(case)
            print(f"updated {case.relative_to(ROOT)}/expected.json")


if __name__ == "__main__":
    main(sys.argv[1:])
