"""Cells run together, recovered by arithmetic: join a table's cells, recover them; never a wrong number."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import parse_text
from parsers.govruns import identities, layout
from parsers.rules.gov import APPLICATION_COLUMNS
from parsers.runtogether import Layout, Run, recover, splits

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
APP = layout(tuple(f"x.{c}" for c in APPLICATION_COLUMNS))
SIGNED = Layout(
    (3,), summed=False, signed=frozenset({1})
)  # 上一年项目数量 | 本年增/减 | 处理决定数量
# Repeated digits make the most splits (1111|11|1…): the search must still finish.
COUNTS = st.one_of(
    st.just(0),
    st.integers(0, 9),
    st.integers(0, 3000),
    st.sampled_from([1, 11, 111, 1111, 10, 100]),
)


def app_row(cells: list[int]) -> tuple[int, ...]:
    return (*cells, sum(cells))


def joined(row: tuple[int, ...]) -> str:
    return "".join(map(str, row))


def run_of(name: str, row: tuple[int, ...], lay: Layout) -> Run:
    return Run(name, tuple(f"{name}.{i}" for i in range(len(row))), joined(row), lay)


@FAST
@given(st.lists(COUNTS, min_size=6, max_size=6))
def test_a_joined_row_is_among_its_splits(cells: list[int]) -> None:
    row = app_row(cells)
    found = splits(joined(row), APP)
    assert found is not None and row in found
    assert all(sum(s[:6]) == s[6] for s in found)


@FAST
@given(st.lists(COUNTS, min_size=6, max_size=6))
def test_recovered_cells_are_right_or_absent_with_a_finding(cells: list[int]) -> None:
    row = app_row(cells)
    run = run_of("r", row, APP)
    got, findings = recover([run], {}, ())
    assert all(got[c] == v for c, v in zip(run.cells, row, strict=True) if c in got)
    if len(got) < len(row):
        assert findings and not findings[0].ok and "left absent" in findings[0].detail
    else:
        assert not findings


@FAST
@given(st.integers(0, 5000), st.integers(-500, 500), st.integers(0, 5000))
def test_a_signed_change_opens_with_its_minus(prev: int, change: int, decisions: int) -> None:
    row = (prev, change, decisions)
    run = run_of("s", row, SIGNED)
    got, _ = recover([run], {}, ())
    assert all(got[c] == v for c, v in zip(run.cells, row, strict=True) if c in got)
    if change < 0:
        assert got["s.0"] == prev  # the '-' ends the first cell


def test_the_issue_example_has_one_split() -> None:
    # Issue 14 prints the run as '1200000012' (six zeros): no 7-cell split sums, so no cell.
    assert splits("120000012", APP) == [(12, 0, 0, 0, 0, 0, 12)]
    assert splits("1200000012", APP) == []


def test_an_ambiguous_join_leaves_cells_absent_and_says_so() -> None:
    free = Layout((3,), summed=False)
    got, findings = recover([Run("许可", ("a", "b", "c"), "1800", free)], {}, ())
    assert got == {}  # 1|80|0 or 18|0|0: which one was printed is unknown
    assert [f.rule for f in findings] == ["run_together:许可"]
    assert "1|80|0" in findings[0].detail and "18|0|0" in findings[0].detail


def test_a_run_past_the_search_bound_gives_nothing() -> None:
    start = time.process_time()
    got, findings = recover([Run("long", tuple("abcdefg"), "1" * 400, Layout((7,), False))], {}, ())
    assert got == {} and findings and "too many" in findings[0].detail
    assert time.process_time() - start < 2


ROWS = ("granted", "partially_granted", "unable_not_held", "not_processed_repeat")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, 30), min_size=6, max_size=6), min_size=6, max_size=6))
def test_a_whole_table_joined_is_recovered_right_or_left_absent(rows: list[list[int]]) -> None:
    """Table 三 joined row by row: outcome rows, 总计 and the balance hold; nothing read wrong."""
    outcomes = dict(zip(ROWS, rows[:4], strict=True))
    total = [sum(r[i] for r in outcomes.values()) for i in range(6)]
    carried_next, carried_over = rows[4], rows[5]
    new = [total[i] + carried_next[i] - carried_over[i] for i in range(6)]
    if any(v < 0 for v in new):
        return
    table = {**outcomes, "total_processed": total, "carried_to_next": carried_next,
             "carried_over": carried_over, "new_received": new}  # fmt: skip
    zero = [0] * 6
    others = ("denied_state_secret", "denied_other_law", "denied_three_safety_one_stability",
              "denied_third_party", "denied_internal_affairs", "denied_process_info",
              "denied_enforcement_file", "denied_admin_query", "unable_need_creation",
              "unable_unclear", "not_processed_petition", "not_processed_publication",
              "not_processed_massive", "not_processed_confirm", "other_handling")  # fmt: skip
    table.update({r: zero for r in others})
    truth, runs = {}, []
    for name, cells in table.items():
        row = app_row(cells)
        keys = tuple(f"applications.{name}.{c}" for c in APPLICATION_COLUMNS)
        truth.update(zip(keys, row, strict=True))
        runs.append(Run(name, keys, joined(row), APP))
    got, findings = recover(runs, {}, identities("gov2019"))
    assert all(truth[k] == v for k, v in got.items())
    missing = {k.split(".")[1] for k in truth if k not in got}
    assert missing <= {f.rule.removeprefix("run_together:") for f in findings}


def test_a_joined_text_reads_through_parse_text() -> None:
    text = (
        "三、收到和处理政府信息公开申请情况\n"
        "一、本年新收政府信息公开申请数量120000012\n二、上年结转政府信息公开申请数量0000000\n"
        "行政许可1215-351180\n"
    )
    r = parse_text(text)
    got = {f.key: f.value for f in r.figures if f.key.startswith("applications.new_received")}
    assert list(got.values()) == [12, 0, 0, 0, 0, 0, 12]
    f = r.figure("applications.new_received.total")
    assert f is not None and f.provenance.form == "run-together"


@FAST
@given(st.integers(0, 5000), st.integers(0, 5000))
def test_a_year_and_cumulative_pair_is_right_or_absent(year: int, more: int) -> None:
    """Pre-2019 local tables: 本年度 | 累计 run together, 累计 ≥ 本年度."""
    row = (year, year + more)
    run = run_of("l", row, Layout((2,), summed=False, ascending=True))
    got, findings = recover([run], {}, ())
    assert all(got[c] == v for c, v in zip(run.cells, row, strict=True) if c in got)
    assert len(got) == 2 or findings


def test_a_local_table_row_run_together_through_parse_text() -> None:
    text = "指标本年度历年累计\n主动公开政府信息110\n受理依申请公开52312\n"
    r = parse_text(text)
    assert r.values() == {
        "headline.proactive_total": 1,
        "local.主动公开政府信息.year": 1,
        "local.主动公开政府信息.cumulative": 10,
    }
    assert [c.rule for c in r.checks if not c.ok] == ["run_together:受理依申请公开"]


def test_hostile_runs_end_quickly_with_nothing() -> None:
    start = time.process_time()
    for digits in ("9" * 5000, "1" * 199, "10" * 99):
        text = f"指标本年度历年累计\n主动公开政府信息{digits}\n行政许可{digits}\n"
        r = parse_text(text)
        assert not [f for f in r.figures if f.provenance.form == "run-together"]
    assert splits("9" * 5000, APP) is None
    assert time.process_time() - start < 5
