"""Accuracy over every golden case with labelled truth (meta.json "truth"), against floors.

Per key family (headline, prose, stats, applications, proactive, review, litigation_direct,
litigation_after_review, local) and overall: precision = right / extracted-and-labelled-or-extra,
recall = right / labelled. Floors live in tests/golden/accuracy_floors.json and only rise: raise
them with `PYTHONPATH=. .venv/bin/python tests/test_parsers_accuracy.py --raise` after a change
that improves them; a floor can never be lowered there (the test compares with git's copy too).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"
FLOORS = GOLDEN / "accuracy_floors.json"
sys.path.insert(0, str(GOLDEN))

import update  # noqa: E402  (tests/golden/update.py: one parse routine for golden and accuracy)

from parsers import report_to_json  # noqa: E402


def _norm(value: Any) -> str:
    return str(Decimal(str(value)).normalize()) if value is not None else "None"


def family(key: str) -> str:
    return key.split(".", 1)[0]


def measure() -> dict[str, dict[str, float]]:
    """{family: {precision, recall, n}} over all labelled cases, plus 'all'."""
    right, got, truth_n = Counter[str](), Counter[str](), Counter[str]()
    for case in update.cases():
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
        if "truth" not in meta:
            continue
        truth = {k: _norm(v) for k, v in meta["truth"].items()}
        figures = {
            k: _norm(v) for k, v in report_to_json(update.parse_case(case))["figures"].items()
        }
        for fam in ("all", *{family(k) for k in (*truth, *figures)}):
            keys_t = {k for k in truth if fam in ("all", family(k))}
            keys_g = {k for k in figures if fam in ("all", family(k))}
            truth_n[fam] += len(keys_t)
            got[fam] += len(keys_g)
            right[fam] += sum(1 for k in keys_t & keys_g if truth[k] == figures[k])
    return {
        fam: {
            "precision": round(right[fam] / got[fam], 4) if got[fam] else 1.0,
            "recall": round(right[fam] / truth_n[fam], 4) if truth_n[fam] else 1.0,
            "n": truth_n[fam],
        }
        for fam in sorted(truth_n)
    }


_measured: dict[str, dict[str, float]] = {}


def measured() -> dict[str, dict[str, float]]:
    if not _measured:
        _measured.update(measure())
    return _measured


def test_labelled_cases_cover_every_template_and_form() -> None:
    metas = [json.loads((c / "meta.json").read_text(encoding="utf-8")) for c in update.cases()]
    labelled = [m for m in metas if "truth" in m]
    assert len(update.cases()) >= 30
    pairs = {(m["template"], m["form"]) for m in labelled if "form" in m}
    for template in ("national2014", "gov2019", "gov2021"):
        for form in ("html", "word-html", "pdf", "docx", "doc", "text-same-line", "text-next-line"):
            assert (template, form) in pairs, (template, form)
    assert {m["template"] for m in labelled} >= {"local-pre2019", "narrative"}


def test_accuracy_is_at_or_above_the_floors() -> None:
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    now = measured()
    report = "\n".join(
        f"{f:26s} P {m['precision']:.4f} R {m['recall']:.4f} n {m['n']}" for f, m in now.items()
    )
    print("\n" + report)
    for fam, floor in floors.items():
        assert fam in now, f"no labelled figures of family {fam} any more"
        assert now[fam]["precision"] >= floor["precision"], (fam, now[fam], floor)
        assert now[fam]["recall"] >= floor["recall"], (fam, now[fam], floor)


def test_floors_cover_every_family() -> None:
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    assert set(floors) == set(measured())


def raise_floors() -> None:
    """Write max(floor, measured) for every family: floors never go down."""
    old = json.loads(FLOORS.read_text(encoding="utf-8")) if FLOORS.exists() else {}
    new = {}
    for fam, m in measure().items():
        prev = old.get(fam, {"precision": 0.0, "recall": 0.0})
        new[fam] = {k: max(prev[k], m[k]) for k in ("precision", "recall")}
    FLOORS.write_text(json.dumps(new, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(new, indent=2, sort_keys=True))


if __name__ == "__main__" and "--raise" in sys.argv:
    raise_floors()
