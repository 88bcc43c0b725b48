"""Every figure key the parsers can produce, with its Chinese label and the templates that carry
it, derived from the rule tables (core, gov) so the list cannot drift from what is parsed.

`docs/figures.md` and `nianbao figures --list` are generated from `figure_catalog()`;
`local.<label>.<column>` keys (local-pre2019 tables) are named by the page itself and listed as
one pattern.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from parsers.rules.core import HEADLINE_KEYS, NATIONAL2014
from parsers.rules.gov import (
    APPLICATION_COLUMNS,
    APPLICATION_ORDER,
    APPLICATION_ROWS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    GovRow,
)


class FigureEntry(NamedTuple):
    key: str
    label: str  # the words printed beside the figure in a report (中文)
    templates: tuple[str, ...]


ANY = ("national2014", "local-pre2019", "gov2019", "gov2021", "narrative")
# Headline figures: read from prose in any template, or derived from a table.
HEADLINE_LABELS = {
    "proactive_total": "主动公开政府信息数",
    "applications_received": "收到政府信息公开申请数",
    "applications_carried_over": "上年结转申请数",
    "applications_in_person": "当面申请数",
    "applications_online": "网络申请数",
    "applications_letter": "信函申请数",
    "applications_fax": "传真申请数",
    "applications_answered": "申请答复（办结）数",
    "applications_granted": "同意公开（予以公开）数",
    "applications_partially_granted": "同意部分公开数",
    "applications_denied": "不同意公开（不予公开）数",
    "applications_carried_to_next": "结转下年度继续办理数",
    "review_total": "行政复议数",
    "litigation_total": "行政诉讼数",
    "fees_yuan": "收取的费用（元）",
}
# Column headers of the 2019/2021 tables (国办公开办函〔2019〕60号, 〔2021〕30号).
COLUMN_LABELS = {
    "natural_person": "自然人",
    "commercial_enterprise": "商业企业",
    "research_institution": "科研机构",
    "social_welfare_org": "社会公益组织",
    "legal_service_org": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
    "maintained": "结果维持",
    "corrected": "结果纠正",
    "other_result": "其他结果",
    "pending": "尚未审结",
    "new_made": "本年新制作数量",
    "new_published": "本年新公开数量",
    "total_public": "对外公开总数量",
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
    "prev_year_items": "上一年项目数量",
    "change": "本年增/减",
    "decisions": "处理决定数量",
    "items": "采购项目数量",
    "amount_yuan": "采购总金额（元）",
    "amount_wan_yuan": "收费金额（万元）",
}
REVIEW_LABELS = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼（未经复议直接起诉）",
    "litigation_after_review": "行政诉讼（复议后起诉）",
}
# Rows whose label regex does not read as words.
ROW_LABELS = {
    "granted": "予以公开",
    "other_other": "其他处理：其他",
    "total_processed": "总计",
    "proactive.art20_1.normative_docs": "规范性文件",
    "proactive.art20_1.rules": "规章",
}


def figure_catalog() -> list[FigureEntry]:
    """Every key, in the order the parsers report figures."""
    return [*_headline(), *_gov(), *_review(), *_national2014(), _local()]


def _headline() -> list[FigureEntry]:
    return [
        FigureEntry(k, HEADLINE_LABELS[k.removeprefix("headline.")], ANY) for k in HEADLINE_KEYS
    ]


def _gov() -> list[FigureEntry]:
    entries: dict[str, FigureEntry] = {}
    for row in PROACTIVE_ROWS:
        for column in row.columns:
            _add(entries, f"{row.key}.{column}", _row_label(row.key, row.pattern), column, row)
    order = {f"applications.{name}": i for i, name in enumerate(APPLICATION_ORDER)}
    for row in sorted(APPLICATION_ROWS, key=lambda r: order.get(r.key, len(order))):
        name = row.key.removeprefix("applications.")
        for column in APPLICATION_COLUMNS:
            _add(entries, f"{row.key}.{column}", _row_label(name, row.pattern), column, row)
    return list(entries.values())


def _add(entries: dict[str, FigureEntry], key: str, label: str, column: str, row: GovRow) -> None:
    templates: tuple[str, ...] = row.templates
    known = entries.get(key)
    if known is not None:
        templates = tuple(dict.fromkeys((*known.templates, *templates)))
    entries[key] = FigureEntry(key, f"{label} · {COLUMN_LABELS[column]}", templates)


def _review() -> list[FigureEntry]:
    return [
        FigureEntry(f"{g}.{c}", f"{REVIEW_LABELS[g]} · {COLUMN_LABELS[c]}", ("gov2019", "gov2021"))
        for g in REVIEW_GROUPS
        for c in REVIEW_COLUMNS
    ]


def _national2014() -> list[FigureEntry]:
    out = []
    for section in NATIONAL2014:
        heading = _words(section.heading)
        if section.key:
            out.append(FigureEntry(f"stats.{section.key}", heading, ("national2014",)))
        for key, pattern in section.rows:
            out.append(
                FigureEntry(f"stats.{key}", f"{heading}：{_words(pattern)}", ("national2014",))
            )
    return out


def _local() -> FigureEntry:
    return FigureEntry(
        "local.<label>.<column>", "本年度 / 历年累计（表格原样）", ("local-pre2019",)
    )


def _row_label(name: str, pattern: str) -> str:
    return ROW_LABELS.get(name) or _words(pattern)


def _words(pattern: str) -> str:
    """The words a label regex matches, for people: lookarounds, anchors and optional marks
    dropped, the first alternative kept."""
    text = re.sub(r"\(\?<?[!=][^)]*\)", "", pattern)
    text = re.sub(r"\(\?:[^)]*\)\??", "", text)
    text = text.split("|")[0]
    return re.sub(r"[\^$?\\()\[\]*+.]|《|》", "", text)
