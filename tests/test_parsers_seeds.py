"""The five seed reports, parsed as plain text: identity, metadata and every headline figure.

Expected values were read off the seed texts by hand, not copied from the parser's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers import Metadata, ParsedReport, parse_text
from parsers.headline import headline_figures
from parsers.table14 import ORDER

SEEDS = Path(__file__).parent / "seeds"
SEED_FILES = {
    "000": "000_22db7eb5cb3b127f.txt",
    "001": "001_f52d40a693f3cdd6.txt",
    "002": "002_1a63cabe0a2d3b9a.txt",
    "003": "003_75ba8c7c95ed2a3b.txt",
    "004": "004_5d58c76454bc344e.txt",
}


def seed_text(seed: str) -> str:
    return (SEEDS / SEED_FILES[seed]).read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=sorted(SEED_FILES))
def seed(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_cache: dict[str, ParsedReport] = {}


def parsed(seed: str) -> ParsedReport:
    if seed not in _cache:
        _cache[seed] = parse_text(seed_text(seed))
    return _cache[seed]


IDENTITY = {
    # seed: (title, report_year, publisher, template)
    "000": ("桐乡市经济和信息化局2017年度政府信息公开工作报告", 2017, "桐乡市经济和信息化局", "narrative"),
    "001": ("桐乡市商务局（粮食局）2017年度政府信息公开工作报告", 2017, "桐乡市商务局（粮食局）", "narrative"),
    "002": ("桐乡市人民政府2017年度政府信息公开工作报告", 2017, "桐乡市人民政府", "national2014"),
    "003": ("台州市经信委2017年度政务信息公开工作总结", 2017, "市经信委", "national2014"),
    "004": ("桐乡市商务局2013年度政府信息公开工作报告", 2013, "市商务局", "narrative"),
}  # fmt: skip

METADATA = {
    "000": Metadata(),
    "001": Metadata(),
    "002": Metadata(published_at="2018-03-08"),
    "003": Metadata(
        index_no="002668274/2018-66814",
        publisher="市经信委",
        disclosure="主动公开",
        written_date="2018-01-17",
        category=None,
        doc_number=None,
        published_at="2018-01-17T08:52",
        source="市经信委",
    ),
    "004": Metadata(
        index_no="11330483002558219A/2014-84743",
        publisher="市商务局",
        disclosure="主动公开",
        written_date="2014-03-08",
        category="政府信息公开工作报告",
        doc_number=None,  # '文件编号:' is empty; the title on the next line is not its value
        published_at="2014-03-08T20:57",
        source="市商务局",
    ),
}

# What the prose of each seed states: key -> (value, a snippet the provenance sentence contains).
PROSE = {
    "000": {
        "headline.proactive_total": (218, "主动公开信息共计218条"),
        "headline.applications_received": (17, "共17件"),
        "headline.applications_in_person": (2, "当面申请2件"),
        "headline.applications_online": (15, "网上申请15件"),
        "headline.review_total": (0, "没有因政府信息公开申请行政复议"),
        "headline.litigation_total": (0, "提起行政诉讼"),
        "headline.fees_yuan": (0, "不收取依申请提供政府公开信息的收费"),
        "prose.via_wechat": (57, "微信公众号发布57条"),
    },
    "001": {
        "headline.proactive_total": (488, "政府信息公开平台上公开信息488条"),
        "headline.applications_received": (5, "收到依政府申请公开信息5件"),
        "headline.applications_answered": (5, "均及时给予答复"),
        "headline.review_total": (0, "未发生针对本部门有关政府信息公开方面的行政复议"),
        "headline.litigation_total": (0, "行政诉讼"),
        "headline.fees_yuan": (0, "未向政府信息公开申请人进行收费"),
    },
    "002": {
        "headline.proactive_total": (20160, "全市共主动公开信息20160条"),
        "headline.applications_received": (224, "共收到信息公开申请224件"),
        "headline.applications_in_person": (18, "当面申请18件"),
        "headline.applications_online": (131, "网络申请131件"),
        "headline.applications_letter": (75, "信函申请75件"),
        "headline.applications_answered": (224, "办结224件"),
        "headline.applications_granted": (29, "同意公开29件"),
        "headline.applications_partially_granted": (8, "同意部分公开8件"),
        "headline.applications_denied": (59, "不同意公开59件"),
        "headline.review_total": (10, "行政复议申请受理10件"),
        "headline.litigation_total": (5, "行政诉讼5件"),
        "headline.fees_yuan": (0, "未发生向政府信息公开申请人收取检索、复制、邮寄等费用"),
        # The prose's channel counts; its website count contradicts the table's 12760.
        "prose.via_website": (6767, "政府信息公开网站发布6767条"),
        "prose.via_weibo": (1767, "微博发布1767条"),
        "prose.via_wechat": (4814, "微信发布4814条"),
    },
    "003": {
        "headline.applications_received": (5, "共收到5项依申请公开事项"),
        "headline.applications_answered": (5, "均已按要求答复"),
        "headline.fees_yuan": (0, "没有对政府信息公开申请收取任何费用"),
    },
    "004": {
        "headline.proactive_total": (343, "政府信息公开平台上公开信息343条"),
        "headline.applications_received": (5, "收到依政府申请公开信息要求5条"),
        "headline.applications_answered": (5, "逐条给予答复"),
        "headline.review_total": (0, "未发生针对本部门有关政府信息公开方面的行政复议"),
        "headline.litigation_total": (0, "行政诉讼"),
        "headline.fees_yuan": (0, "未向政府信息公开申请人进行收费"),
    },
}

# Seeds 002 and 003 carry a national2014 table: the report's headline figures come from it
# (figures.md), with the prose's figures compared against them in a check.
TABLE_HEADLINE = {
    "002": {
        "headline.proactive_total": 20160, "headline.applications_received": 224,
        "headline.applications_in_person": 18, "headline.applications_online": 131,
        "headline.applications_letter": 75, "headline.applications_fax": 0,
        "headline.applications_answered": 224, "headline.applications_granted": 29,
        "headline.applications_partially_granted": 8, "headline.applications_denied": 59,
        "headline.review_total": 10, "headline.litigation_total": 5, "headline.fees_yuan": 0,
    },
    "003": {
        "headline.proactive_total": 492, "headline.applications_received": 5,
        "headline.applications_in_person": 0, "headline.applications_online": 5,
        "headline.applications_letter": 0, "headline.applications_fax": 0,
        "headline.applications_answered": 5, "headline.applications_granted": 0,
        "headline.applications_partially_granted": 2, "headline.applications_denied": 0,
        "headline.review_total": 2, "headline.litigation_total": 0, "headline.fees_yuan": 0,
    },
}  # fmt: skip

# Seed 002's table is complete: every stats key, in table order (figures.md).
SEED_002_STATS = [
    20160, 49, 49, 98, 12760, 1767, 4814, 923,  # 一 主动公开
    16, 2, 2, 0, 0, 18, 136, 18,  # 二 回应解读
    224, 18, 0, 131, 75, 224, 220, 4, 224, 23, 29, 8, 59, 2, 1, 0, 0, 33, 23, 23, 74, 1, 7,  # 三
    10, 5, 1, 4,  # 四 行政复议
    5, 5, 0, 0,  # 五 行政诉讼
    0,  # 六 举报投诉
    0,  # 七 费用 (万元)
    49, 9, 101, 1, 100, 5,  # 八 机构建设和保障经费
    12, 1, 101,  # 九 会议和培训
]  # fmt: skip


def test_identity(seed: str) -> None:
    r = parsed(seed)
    assert (r.title, r.report_year, r.publisher, r.template) == IDENTITY[seed]
    assert r.is_report
    assert r.encoding is None
    assert r.attachments == ()


def test_metadata(seed: str) -> None:
    assert parsed(seed).metadata == METADATA[seed]


def test_prose_headline_figures(seed: str) -> None:
    text = parsed(seed).text
    figures = {f.key: f for f in headline_figures(text)}
    assert {k: f.value for k, f in figures.items()} == {k: v for k, (v, _) in PROSE[seed].items()}
    for key, (value, snippet) in PROSE[seed].items():
        prov = figures[key].provenance
        assert snippet in prov.text, key
        assert value == 0 or str(value) in prov.text, key


def test_report_headline_figures(seed: str) -> None:
    r = parsed(seed)
    headline = {k: v for k, v in r.values().items() if k.startswith("headline.")}
    prose_headline = {k: v for k, (v, _) in PROSE[seed].items() if k.startswith("headline.")}
    assert headline == (TABLE_HEADLINE.get(seed) or prose_headline)
    for f in r.figures:
        if not f.blank and f.value != 0:
            assert str(f.value) in f.provenance.text, f.key


def test_provenance_points_into_the_text(seed: str) -> None:
    r = parsed(seed)
    for f in r.figures:
        p = f.provenance
        assert r.text[p.start : p.end] == p.text and p.text.strip() == p.text, f.key


def test_values_are_int_or_decimal(seed: str) -> None:
    for f in parsed(seed).figures:
        assert type(f.value) is int or type(f.value).__name__ == "Decimal", f.key


def test_seed_002_complete_national2014_table() -> None:
    r = parsed("002")
    stats = [(f.key, f.value) for f in r.figures if f.key.startswith("stats.")]
    assert stats == [(f"stats.{k}", v) for k, v in zip(ORDER, SEED_002_STATS, strict=True)]
    assert not any(f.blank for f in r.figures)
    failed = {c.rule: c.detail for c in r.checks if not c.ok}
    assert failed == {"prose_agrees_with_table": "prose.via_website: prose 6767, table 12760"}


def test_seed_002_prose_and_table_both_kept() -> None:
    values = parsed("002").values()
    assert values["stats.via_website"] == 12760 and values["prose.via_website"] == 6767
    # Every headline figure the table shadows stays visible as the prose stated it.
    for key, (value, _) in PROSE["002"].items():
        assert values[key.replace("headline.", "prose.")] == value, key


def test_seed_003_blank_cells_are_zero_and_marked() -> None:
    r = parsed("003")
    in_person = r.figure("stats.applications_in_person")
    assert in_person is not None and in_person.value == 0 and in_person.blank
    assert r.values()["stats.via_website"] == 426
    assert r.values()["stats.budget_wan_yuan"] == 2
    failed = {c.rule: c.detail for c in r.checks if not c.ok}
    # The report leaves 从事政府信息公开工作人员数 blank but lists 1 part-time person: a finding.
    assert failed == {"sum:stats.staff_total": "stats.staff_total 0 (blank); 0 (blank) + 1 = 1"}


def test_checks(seed: str) -> None:
    rules = {c.rule: c.ok for c in parsed(seed).checks}
    if seed == "000":
        assert rules == {"applications_by_channel": True}  # 15 + 2 = 17
    if seed in ("002", "003"):
        assert rules["prose_agrees_with_table"] is (seed == "003")  # 002: the website count
        assert rules["outcomes_within_answered"] is True


def test_crlf_input_gives_the_same_figures() -> None:
    plain = parse_text(seed_text("004"))
    crlf = parse_text(seed_text("004").replace("\n", "\r\n"))
    assert crlf.values() == plain.values() and crlf.metadata == plain.metadata
