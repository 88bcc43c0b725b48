"""The replica's ground truth agrees with the deadline rule and with the brief's fixed facts."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources

import pytest

from replica import settings_for
from replica.truth import Report, Truth, load_truth


@pytest.fixture(scope="module")
def truth() -> Truth:
    return load_truth()


def rule_deadline(year: int, kind: str) -> dt.date:
    """interface.md's rule, restated here on purpose rather than imported."""
    if year <= 2018 or kind == "government":
        return dt.date(year + 1, 3, 31)
    return dt.date(year + 1, 1, 31)


def kind_of(truth: Truth, r: Report) -> str:
    return next(p.kind for p in truth.publishers if p.key == r.key)


def the(truth: Truth, portal: str, publisher: str, year: int) -> Report:
    report = truth.report(portal, publisher, year)
    assert report is not None, (portal, publisher, year)
    return report


def test_deadlines_and_days_late_follow_the_rule(truth: Truth) -> None:
    for r in truth.reports:
        deadline = rule_deadline(r.year, kind_of(truth, r))
        published = dt.date.fromisoformat(r.published_date)
        assert r.deadline == deadline.isoformat(), r
        assert r.days_late == max(0, (published - deadline).days), r


def test_the_edge_cases_are_there(truth: Truth) -> None:
    edge = {(r.year, kind_of(truth, r), r.published_date, r.days_late) for r in truth.reports}
    assert (2018, "department", "2019-03-31", 0) in edge  # on time under the old rule
    assert (2019, "department", "2020-02-01", 1) in edge
    assert (2019, "department", "2020-01-31", 0) in edge
    assert (2019, "government", "2020-03-31", 0) in edge
    on_deadline_day = [r for r in truth.reports if r.published_date == r.deadline]
    assert len(on_deadline_day) >= 4


def test_missing_and_late_are_spread_and_rare(truth: Truth) -> None:
    years = range(truth.first_year, truth.last_year + 1)
    missing_years = [y for y in years if truth.expected_missing(y)]
    late = {k: v for y in years for k, v in truth.expected_late(y).items()}
    late_count = sum(len(truth.expected_late(y)) for y in years)
    assert len(missing_years) >= 5
    assert len(set(late.values())) >= 5 and 1 in late.values()
    assert late_count < len(truth.reports) / 5  # most reports are on time


def test_missing_means_existing_without_report(truth: Truth) -> None:
    merged = next(p for p in truth.publishers if p.name == "桐乡市物价局")
    assert merged.years == (2013, 2018)
    assert merged.key not in truth.expected_missing(2019)
    assert ("tongxiang", "桐乡市政务服务办") not in truth.expected_missing(2018)
    for year in range(truth.first_year, truth.last_year + 1):
        for key in truth.expected_missing(year):
            assert truth.report(*key, year) is None


def test_registry(truth: Truth) -> None:
    pubs = {p.name: p for p in truth.publishers}
    assert len(pubs) >= 12 and len(truth.publishers_of("tongxiang")) >= 7
    assert {p.kind for p in truth.publishers} == {"department", "government", "township"}
    assert pubs["桐乡市人民政府"].unit_code == "330483ZFC00000"
    assert pubs["桐乡市政务服务办"].unit_code == "001008004005044"
    assert pubs["桐乡市政务服务办"].years == (2019, 2024)
    assert {"市经信局", "经信局"} <= set(pubs["桐乡市经济和信息化局"].aliases)
    assert {"市商务局", "商务局", "桐乡市商务局（粮食局）"} <= set(pubs["桐乡市商务局"].aliases)
    assert pubs["台州市人民政府"].unit_code == "002668661"
    assert "市经信委" in pubs["台州市经济和信息化委员会"].aliases
    assert {"梧桐街道", "濮院镇"} <= {p.name for p in truth.publishers if p.kind == "township"}


def test_printed_labels_match_the_registry(truth: Truth) -> None:
    names = {p.key: {p.name, *p.aliases} for p in truth.publishers}
    for r in truth.reports:
        if r.publisher_label is not None:
            assert r.publisher_label in names[r.key], r
    assert the(truth, "taizhou", "台州市人民政府", 2018).publisher_label == "市政府办公室"


def test_seeds_are_placed(truth: Truth) -> None:
    seeds = {r.seed: r for r in truth.reports if r.seed}
    assert sorted(seeds) == ["000", "001", "002", "003", "004"]
    place = {s: (r.portal, r.publisher, r.year, r.layout) for s, r in seeds.items()}
    assert place["000"] == ("tongxiang", "桐乡市经济和信息化局", 2017, "table")
    assert place["001"] == ("tongxiang", "桐乡市商务局", 2017, "table")
    assert place["002"] == ("tongxiang", "桐乡市人民政府", 2017, "module")
    assert place["003"] == ("taizhou", "台州市经济和信息化委员会", 2017, "inline")
    assert place["004"] == ("tongxiang", "桐乡市商务局", 2013, "table")
    assert seeds["001"].title == "桐乡市商务局（粮食局）2017年度政府信息公开工作报告"
    assert seeds["002"].url.endswith("?area=330483ZFC00000&fbtime=2017")
    assert seeds["002"].published_date == "2018-03-08"
    packaged = [f.name for f in resources.files("replica").joinpath("data", "seeds").iterdir()]
    assert sorted(name[:3] for name in packaged if name.endswith(".txt")) == sorted(seeds)


def test_seed_003_and_004_metadata(truth: Truth) -> None:
    s3 = next(r for r in truth.reports if r.seed == "003")
    assert (s3.index_no, s3.publisher_label, s3.written_date, s3.source, s3.published_at) == (
        "002668274/2018-66814", "市经信委", "2018-01-17", "市经信委", "2018-01-17T08:52",
    )  # fmt: skip
    s4 = next(r for r in truth.reports if r.seed == "004")
    assert (s4.index_no, s4.publisher_label, s4.written_date, s4.source, s4.published_at) == (
        "11330483002558219A/2014-84743", "市商务局", "2014-03-08", "市商务局", "2014-03-08T20:57",
    )  # fmt: skip


def test_written_shortly_before_published(truth: Truth) -> None:
    for r in truth.reports:
        if r.written_date:
            gap = dt.date.fromisoformat(r.published_date) - dt.date.fromisoformat(r.written_date)
            assert dt.timedelta(0) <= gap <= dt.timedelta(days=7), r


def test_encodings_follow_the_portals(truth: Truth) -> None:
    for r in truth.reports:
        old = r.year <= 2015 if r.portal == "tongxiang" else r.published_date < "2019-01-01"
        assert r.encoding == ("gbk" if old else "utf-8"), r
    probes = [r for r in truth.reports if r.gbk_probe]
    assert probes and all(r.encoding == "gbk" for r in probes)
    for r in probes:
        assert r.gbk_probe is not None
        r.gbk_probe.encode("gbk")
        with pytest.raises(UnicodeEncodeError):
            r.gbk_probe.encode("gb2312")


def test_an_attachment_on_a_recent_taizhou_report(truth: Truth) -> None:
    with_pdf = [r for r in truth.reports if r.attachment]
    assert any(r.portal == "taizhou" and r.year >= 2019 for r in with_pdf)


def test_settings_for(truth: Truth) -> None:
    urls = {"tongxiang": "http://127.0.0.1:1", "taizhou": "http://127.0.0.1:2"}
    cfg = tomllib.loads(settings_for(urls))
    assert cfg["crawler"]["download_delay"] == 0 and cfg["crawler"]["obey_robots_txt"] is True
    assert cfg["deadlines"] == {
        "before_2019": {"all": "03-31"},
        "from_2019": {"department": "01-31", "township": "01-31", "government": "03-31"},
    }
    portals = {p["id"]: p for p in cfg["portals"]}
    assert {pid: p["base_url"] for pid, p in portals.items()} == urls
    tx = portals["tongxiang"]
    assert tx["family"] == "hanweb" and tx["entry_points"] == [
        truth.portal("tongxiang").column_path
    ]
    assert tx["annual_report"]["areas"] == ["330483ZFC00000", "001008004005044"]
    assert tx["annual_report"]["path"] == "/module/xxgk/xxgkAnnualReport.jsp"
    rows = {(p["portal"], p["name"]): p for p in cfg["publishers"]}
    assert set(rows) == {p.key for p in truth.publishers if p.registered}
    assert rows[("tongxiang", "桐乡市物价局")]["years"] == "2013-2018"
    assert set(cfg) == {"archive", "crawler", "scheduler", "deadlines", "portals", "publishers"}
