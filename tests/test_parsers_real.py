"""Real report texts (tests/real/), labelled by hand, against floors per text form that only rise.

tests/real/labels/NNNN.json says what the text tests/real/texts/NNNN.txt states, read from the
document by a person: report year, template, every figure it states (figures.md keys), and the
readings judged ambiguous (not scored either way). Per text form (the corpus's `text_form`):

- figures exact: labelled figures the parser reads with the labelled value / labelled figures;
- non-zero exact: the same over labelled figures whose value is not 0;
- invented: figures the parser emits under a key the labels do not have (every key not labelled
  was judged "not stated"; ambiguous keys excepted): a count, whose ceiling only falls;
- year right, template right: share of texts.

Truth-free, over the whole corpus (tests/real/corpus.jsonl, 165 texts): per text form, how many
texts give a complete table (every key of the template's tables, figures.md) passing every check.

Floors live in tests/real/floors.json. Scores may never fall below them; after an improvement raise
them with `PYTHONPATH=. .venv/bin/python tests/test_parsers_real.py --raise` (it writes
max(floor, score) and min(ceiling, invented): floors never go down). The test also compares the
floors with git's committed copy, so lowering one fails until it is committed, visibly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from parsers import ParsedReport, parse_text

REAL = Path(__file__).parent / "real"
FLOORS = REAL / "floors.json"
FORMS = ("pipe-table", "html-table-as-cells-per-line", "prose-only", "other", "concatenated-cells")
# Forms of the shared corpus (the truth-free measure); concatenated-cells texts are derived.
CORPUS_FORMS = FORMS[:4]
SHARES = ("figures_exact", "nonzero_exact", "year_right", "template_right")

# --- the figure keys of figures.md (a public interface) ---------------------------------------

APPLICATION_COLUMNS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
)
REVIEW_COLUMNS = ("maintained", "corrected", "other_result", "pending", "total")
HEADLINE = (
    "proactive_total",
    "applications_received",
    "applications_carried_over",
    "applications_in_person",
    "applications_online",
    "applications_letter",
    "applications_fax",
    "applications_answered",
    "applications_granted",
    "applications_partially_granted",
    "applications_denied",
    "applications_carried_to_next",
    "review_total",
    "litigation_total",
    "fees_yuan",
)
_APP_ROWS_BOTH = (
    "new_received",
    "carried_over",
    "granted",
    "partially_granted",
    "denied_state_secret",
    "denied_other_law",
    "denied_three_safety_one_stability",
    "denied_third_party",
    "denied_internal_affairs",
    "denied_process_info",
    "denied_enforcement_file",
    "denied_admin_query",
    "unable_not_held",
    "unable_need_creation",
    "unable_unclear",
    "not_processed_petition",
    "not_processed_repeat",
    "not_processed_publication",
    "not_processed_massive",
    "not_processed_confirm",
    "total_processed",
    "carried_to_next",
)
APP_ROWS = {
    "gov2019": (*_APP_ROWS_BOTH, "other_handling"),
    "gov2021": (*_APP_ROWS_BOTH, "other_no_correction", "other_fee_unpaid", "other_other"),
}
_TRIPLE19 = ("prev_year_items", "change", "decisions")
PROACTIVE = {
    "gov2019": {
        "art20_1.rules": ("new_made", "new_published", "total_public"),
        "art20_1.normative_docs": ("new_made", "new_published", "total_public"),
        "art20_5.licensing": _TRIPLE19,
        "art20_5.other_services": _TRIPLE19,
        "art20_6.penalty": _TRIPLE19,
        "art20_6.enforcement": _TRIPLE19,
        "art20_8.fees": ("prev_year_items", "change"),
        "art20_9.procurement": ("items", "amount_yuan"),
    },
    "gov2021": {
        "art20_1.rules": ("issued", "repealed", "in_force"),
        "art20_1.normative_docs": ("issued", "repealed", "in_force"),
        "art20_5.licensing": ("decisions",),
        "art20_6.penalty": ("decisions",),
        "art20_6.enforcement": ("decisions",),
        "art20_8.fees": ("amount_wan_yuan",),
    },
}
STATS = [
    "proactive_total",
    "proactive_normative_docs",
    "normative_docs_issued",
    "via_gazette",
    "via_website",
    "via_weibo",
    "via_wechat",
    "via_other",
    "responses_total",
    "press_conferences",
    "press_conferences_by_heads",
    "online_interviews",
    "online_interviews_by_heads",
    "interpretations",
    "weibo_wechat_responses",
    "other_responses",
    "applications_received",
    "applications_in_person",
    "applications_fax",
    "applications_online",
    "applications_letter",
    "applications_completed",
    "applications_on_time",
    "applications_extended",
    "applications_answered",
    "answered_already_public",
    "answered_granted",
    "answered_partially_granted",
    "answered_denied",
    "denied_state_secret",
    "denied_commercial_secret",
    "denied_privacy",
    "denied_security_stability",
    "denied_not_gov_info",
    "denied_other_law",
    "answered_not_this_agency",
    "answered_not_exist",
    "answered_correction_requested",
    "answered_other_channel",
    "review_total",
    "review_maintained",
    "review_corrected",
    "review_other",
    "litigation_total",
    "litigation_maintained",
    "litigation_corrected",
    "litigation_other",
    "complaints_total",
    "fees_wan_yuan",
    "org_units",
    "reading_points",
    "staff_total",
    "staff_fulltime",
    "staff_parttime",
    "budget_wan_yuan",
    "meetings",
    "trainings",
    "trainees",
]


def table_keys(template: str) -> frozenset[str]:
    """Every key of the template's statistics tables: what a complete table gives."""
    if template == "national2014":
        return frozenset(f"stats.{k}" for k in STATS)
    if template not in PROACTIVE:
        return frozenset()
    keys = {f"proactive.{item}.{col}" for item, cols in PROACTIVE[template].items() for col in cols}
    keys |= {f"applications.{r}.{c}" for r in APP_ROWS[template] for c in APPLICATION_COLUMNS}
    keys |= {
        f"{g}.{c}"
        for g in ("review", "litigation_direct", "litigation_after_review")
        for c in REVIEW_COLUMNS
    }
    return frozenset(keys)


# prose.*: a prose statement of a headline figure the table also gives (kept beside it), and
# the channel counts of the golden cases (website, weibo, wechat).
KNOWN_KEYS = (
    table_keys("gov2019")
    | table_keys("gov2021")
    | table_keys("national2014")
    | {f"headline.{k}" for k in HEADLINE}
    | {f"prose.{k}" for k in (*HEADLINE, "via_website", "via_weibo", "via_wechat")}
)


def known_key(key: str) -> bool:
    return key in KNOWN_KEYS or re.fullmatch(r"local\.[^.\s]+\.[^.\s]+", key) is not None


# --- the labelled texts ---------------------------------------------------------------------


def number(value: Any) -> Decimal:
    return Decimal(str(value))


def expand(figures: dict[str, Any]) -> dict[str, Decimal]:
    """Label shorthand -> {key: value}: a list is an applications row in column order (None: a
    cell the text does not state), a dict maps columns of one row; else the key is whole."""
    out: dict[str, Decimal] = {}
    for key, value in figures.items():
        if isinstance(value, list):
            assert len(value) == len(APPLICATION_COLUMNS), key
            cells = dict(zip(APPLICATION_COLUMNS, value, strict=True))
        elif isinstance(value, dict):
            cells = value
        else:
            out[key] = number(value)
            continue
        out.update({f"{key}.{col}": number(v) for col, v in cells.items() if v is not None})
    return out


@dataclass(frozen=True)
class Labelled:
    name: str
    form: str
    derived_from: str | None
    url: str | None
    province: str | None
    year: int
    template: str
    truth: dict[str, Decimal]
    ambiguous: frozenset[str]


@cache
def labelled() -> tuple[Labelled, ...]:
    out = []
    for path in sorted((REAL / "labels").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            Labelled(
                name=path.stem,
                form=data["text_form"],
                derived_from=data.get("derived_from"),
                url=data["url"],
                province=data["province"],
                year=data["year"],
                template=data["template"],
                truth=expand(data["figures"]),
                ambiguous=frozenset(data.get("ambiguous", {})),
            )
        )
    return tuple(out)


@cache
def corpus() -> tuple[dict[str, Any], ...]:
    lines = (REAL / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


@cache
def parsed(name: str, url: str | None) -> ParsedReport:
    text = (REAL / "texts" / f"{name}.txt").read_text(encoding="utf-8")
    return parse_text(text, url=url)


def values(report: ParsedReport) -> dict[str, Decimal]:
    return {f.key: number(f.value) for f in report.figures}


# --- scores ---------------------------------------------------------------------------------


def measure() -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Per form (and 'all'): the scores; and per text the keys it invented or read wrong."""
    n: dict[str, Counter[str]] = defaultdict(Counter)
    findings: dict[str, list[str]] = {}
    for case in labelled():
        report = parsed(case.name, case.url)
        got = values(report)
        notes = []
        for group in (case.form, "all"):
            c = n[group]
            c["texts"] += 1
            c["year_right"] += report.report_year == case.year
            c["template_right"] += report.template == case.template
            for key, want in case.truth.items():
                right = got.get(key) == want
                c["stated"] += 1
                c["exact"] += right
                if want != 0:
                    c["nonzero_stated"] += 1
                    c["nonzero_exact"] += right
            for key in got:
                if key not in case.ambiguous:
                    c["emitted"] += 1
                    c["invented"] += key not in case.truth
        notes += [
            f"invented {k}={got[k]}" for k in got if k not in case.truth and k not in case.ambiguous
        ]
        notes += [
            f"wrong {k}: {got[k]} (text: {v})"
            for k, v in case.truth.items()
            if k in got and got[k] != v
        ]
        notes += [f"missed {k}={v}" for k, v in case.truth.items() if k not in got]
        if report.report_year != case.year:
            notes.append(f"year {report.report_year} (text: {case.year})")
        if notes:
            findings[case.name] = notes
    scores = {}
    for group, c in n.items():
        scores[group] = {
            "texts": c["texts"],
            "stated": c["stated"],
            "figures_exact": _share(c["exact"], c["stated"]),
            "nonzero_exact": _share(c["nonzero_exact"], c["nonzero_stated"]),
            "nonzero_stated": c["nonzero_stated"],
            "invented": c["invented"],
            "emitted": c["emitted"],
            "year_right": _share(c["year_right"], c["texts"]),
            "template_right": _share(c["template_right"], c["texts"]),
        }
    return scores, findings


def _share(right: int, total: int) -> float:
    return round(right / total, 4) if total else 1.0


def measure_truth_free() -> dict[str, dict[str, int]]:
    """Per form: texts, texts with any table figure, complete tables, complete and every check ok."""
    n: dict[str, Counter[str]] = defaultdict(Counter)
    for row in corpus():
        report = parsed(Path(row["file"]).stem, row["url"])
        got = values(report)
        want = table_keys(report.template)
        table = [k for k in got if not k.startswith(("headline.", "prose."))]
        if report.template == "local-pre2019":
            complete = bool(table)  # no fixed rows: any local table read counts as complete
        else:
            complete = bool(want) and want <= got.keys()
        passing = complete and bool(report.checks) and all(ch.ok for ch in report.checks)
        for group in (row["text_form"], "all"):
            c = n[group]
            c["texts"] += 1
            c["with_table_figures"] += bool(table)
            c["complete"] += complete
            c["complete_passing"] += passing
    return {g: dict(c) for g, c in n.items()}


@cache
def scores() -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], dict[str, dict[str, int]]]:
    labelled_scores, findings = measure()
    return labelled_scores, findings, measure_truth_free()


def report_text() -> str:
    labelled_scores, findings, truth_free = scores()
    lines = ["labelled real texts (figures exact / non-zero exact / invented / year / template):"]
    for g in (*FORMS, "all"):
        s = labelled_scores.get(g)
        if s:
            lines.append(
                f"  {g:30s} texts {s['texts']:3d}  exact {s['figures_exact']:.4f} of {s['stated']:4d}"
                f"  non-zero {s['nonzero_exact']:.4f} of {s['nonzero_stated']:3d}"
                f"  invented {s['invented']:3d} of {s['emitted']:4d} emitted"
                f"  year {s['year_right']:.4f}  template {s['template_right']:.4f}"
            )
    lines.append(
        "truth-free, whole corpus (texts / with table figures / complete / complete+checks):"
    )
    for g in (*CORPUS_FORMS, "all"):
        t = truth_free.get(g)
        if t:
            lines.append(
                f"  {g:30s} {t['texts']:3d} / {t['with_table_figures']:3d} / {t['complete']:3d}"
                f" / {t['complete_passing']:3d}"
            )
    lines.append("per text (invented, wrong, missed):")
    for name, notes in sorted(findings.items()):
        lines.append(f"  {name}: " + "; ".join(notes))
    return "\n".join(lines)


# --- tests ----------------------------------------------------------------------------------


def test_the_labelled_set_is_real_wide_and_well_formed() -> None:
    cases = labelled()
    assert len(cases) >= 60
    assert len({c.province for c in cases if c.province}) >= 15
    assert {c.form for c in cases} >= set(FORMS)
    corpus_names = {Path(r["file"]).stem for r in corpus()}
    for case in cases:
        if case.derived_from:
            assert case.form == "concatenated-cells", case.name
            assert Path(case.derived_from).stem in corpus_names, case.name
        else:
            assert case.name in corpus_names, case.name
        text = (REAL / "texts" / f"{case.name}.txt").read_text(encoding="utf-8")
        assert "平潭" not in text and "pingtan" not in (case.url or "").lower(), case.name
        assert case.template in ("gov2021", "gov2019", "national2014", "local-pre2019", "narrative")
        for key in (*case.truth, *case.ambiguous):
            assert known_key(key), (case.name, key)
        assert not set(case.truth) & case.ambiguous, case.name


def test_the_corpus_excludes_pingtan() -> None:
    for row in corpus():
        text = (REAL / row["file"]).read_text(encoding="utf-8")
        assert "平潭" not in text and "pingtan" not in (row["url"] or "").lower(), row["file"]


def test_scores_are_at_or_above_the_floors() -> None:
    labelled_scores, _, truth_free = scores()
    print("\n" + report_text())
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    for group, floor in floors["labelled"].items():
        now = labelled_scores[group]
        for name in SHARES:
            assert now[name] >= floor[name], (group, name, now[name], floor[name])
        assert now["invented"] <= floor["invented_max"], (group, now["invented"], floor)
    for group, floor in floors["truth_free"].items():
        now_tf = truth_free[group]
        assert now_tf["complete_passing"] >= floor["complete_passing"], (group, now_tf, floor)


def test_floors_cover_every_form() -> None:
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    labelled_scores, _, truth_free = scores()
    assert set(floors["labelled"]) == set(labelled_scores)
    assert set(floors["truth_free"]) == set(truth_free)


def _committed_floors() -> dict[str, Any] | None:
    try:
        out = subprocess.run(
            ["git", "show", "HEAD:tests/real/floors.json"],
            cwd=REAL,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    data: dict[str, Any] = json.loads(out)
    return data


def test_floors_are_not_lowered_against_the_committed_copy() -> None:
    old = _committed_floors()
    if old is None:
        pytest.skip("no committed floors (or no git)")
    new = json.loads(FLOORS.read_text(encoding="utf-8"))
    for group, floor in old["labelled"].items():
        for name in SHARES:
            assert new["labelled"][group][name] >= floor[name], (group, name)
        assert new["labelled"][group]["invented_max"] <= floor["invented_max"], group
    for group, floor in old["truth_free"].items():
        assert new["truth_free"][group]["complete_passing"] >= floor["complete_passing"], group


def raise_floors(initial: bool = False) -> None:
    """Write max(floor, score) and min(ceiling, invented). `initial`: floors at today's scores
    rounded down to 2 decimals (the first write only)."""
    labelled_scores, _, truth_free = scores()
    old = (
        json.loads(FLOORS.read_text(encoding="utf-8"))
        if FLOORS.exists()
        else {"labelled": {}, "truth_free": {}}
    )
    new: dict[str, dict[str, dict[str, Any]]] = {"labelled": {}, "truth_free": {}}
    for group, s in labelled_scores.items():
        prev = old["labelled"].get(group)
        floor: dict[str, Any] = {}
        for name in SHARES:
            value = int(s[name] * 100) / 100 if initial else s[name]
            floor[name] = max(prev[name], value) if prev else value
        floor["invented_max"] = min(prev["invented_max"], s["invented"]) if prev else s["invented"]
        new["labelled"][group] = floor
    for group, t in truth_free.items():
        prev_tf = old["truth_free"].get(group, {"complete_passing": 0})
        new["truth_free"][group] = {
            "complete_passing": max(prev_tf["complete_passing"], t["complete_passing"])
        }
    FLOORS.write_text(json.dumps(new, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(report_text())


if __name__ == "__main__":
    if "--raise" in sys.argv:
        raise_floors(initial="--initial" in sys.argv)
    else:
        print(report_text())
