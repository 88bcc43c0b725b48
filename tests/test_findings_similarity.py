"""The text measure behind copies and `copied`, and how the registry says it matched a report."""

from __future__ import annotations

from archive.registry import PublisherRegistry, RegistryEntry
from questions.similarity import SAME_TEXT, normalize, resemblance

REPORT = (
    "本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告中所列数据的统计期限自2022年1月1日起"
    "至2022年12月31日止。2022年度共主动公开政府信息343条。全年共收到政府信息公开申请5件，"
    "其中网上申请3件、当面申请2件。全年未收取任何费用，也未发生减免。"
)


def test_years_and_whitespace_do_not_count() -> None:
    next_year = REPORT.replace("2022", "2023")
    assert normalize(next_year) == normalize(REPORT)
    assert resemblance(REPORT, next_year) == 1.0
    assert resemblance(REPORT, REPORT.replace("。", "。\n  ")) == 1.0


def test_changed_figures_lower_the_score_and_other_text_scores_low() -> None:
    figures = REPORT.replace("343", "512").replace("5件", "9件").replace("3件", "6件")
    assert SAME_TEXT > resemblance(REPORT, figures) > 0.6
    assert resemblance(REPORT, "台州市财政局全年办理人大代表建议十二件，政协提案八件。") < 0.05
    assert resemblance("", "") == 1.0 and resemblance(REPORT, "") == 0.0


ENTRIES = [
    RegistryEntry(
        1, "tongxiang", "桐乡市人民政府", ("市政府",), "government", "330483ZFC00000", None, None
    ),  # fmt: skip
    RegistryEntry(
        2, "tongxiang", "桐乡市经济和信息化局", ("经信局",), "department", None, None, None
    ),  # fmt: skip
]


def test_the_registry_says_how_it_matched() -> None:
    registry = PublisherRegistry(ENTRIES)
    by_alias = registry.explain("tongxiang", "经信局", None, None)
    by_name = registry.explain("tongxiang", "桐乡市经济和信息化局", None, None)
    by_code = registry.explain("tongxiang", "办公室", None, "330483zfc00000")
    by_title = registry.explain(
        "tongxiang", None, "桐乡市人民政府2019年度政府信息公开工作报告", None
    )
    assert by_alias and by_alias.explain() == "alias '经信局' in its 发布机构"
    assert by_name and by_name.by == "name" and by_name.entry.id == 2
    assert by_code and by_code.explain() == "unit code 330483ZFC00000" and by_code.entry.id == 1
    assert by_title and by_title.explain() == "'桐乡市人民政府' found in its title"
    assert registry.explain("taizhou", "经信局", None, None) is None  # aliases are per portal
    assert registry.knows_label("tongxiang", "经 信 局") and not registry.knows_label("tongxiang", "市发改局")  # fmt: skip
