"""Golden files: one folder per case under tests/golden, one test per field of the --json output.

A failure here means the parser's output changed. If the change is intended, rewrite the
expectations with `PYTHONPATH=. .venv/bin/python tests/golden/update.py CASE` and review the diff.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from parsers import report_to_json

GOLDEN = Path(__file__).parent / "golden"
FIELDS = (
    "title",
    "report_year",
    "template",
    "metadata",
    "figures",
    "provenance",
    "checks",
    "needs_ocr",
)


def _load_update() -> ModuleType:
    # tests/ is no package: load the helper by path, so test and update share one parse routine.
    spec = importlib.util.spec_from_file_location("golden_update", GOLDEN / "update.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update = _load_update()
CASES = [p.name for p in update.cases()]
_actual: dict[str, dict[str, Any]] = {}


def actual(case: str) -> dict[str, Any]:
    if case not in _actual:
        _actual[case] = report_to_json(update.parse_case(GOLDEN / case))
    return _actual[case]


def expected(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / case / "expected.json").read_text(encoding="utf-8"))
    return data


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", CASES)
def test_golden_field(case: str, field: str) -> None:
    assert actual(case)[field] == expected(case)[field]


@pytest.mark.parametrize("case", CASES)
def test_golden_output_is_plain_json(case: str) -> None:
    # report_to_json must survive json.dumps without a custom encoder (Decimals as strings).
    assert json.loads(json.dumps(actual(case), ensure_ascii=False)) == actual(case)
