"""The unified tables of 国办公开办函〔2019〕60号 (gov2019) and 〔2021〕30号 (gov2021), as data.

Rows are matched by label (regex on the row's label with whitespace removed); columns follow the
forms' fixed order, the value cells being the row's last cells (or its trailing numbers in text).
"""

from __future__ import annotations

from typing import NamedTuple

# fmt: off
APPLICATION_COLUMNS = ("natural_person", "commercial_enterprise", "research_institution",
                       "social_welfare_org", "legal_service_org", "other_org", "total")
REVIEW_COLUMNS = ("maintained", "corrected", "other_result", "pending", "total")
REVIEW_GROUPS = ("review", "litigation_direct", "litigation_after_review")


class GovRow(NamedTuple):
    key: str  # figure key prefix; the columns are appended
    pattern: str  # regex searched in the row's label (whitespace removed)
    group: str | None  # regex the enclosing group label (（六）其他处理) must match, when given
    templates: tuple[str, ...]
    columns: tuple[str, ...]


_BOTH = ("gov2019", "gov2021")
_A = APPLICATION_COLUMNS


def _app(key: str, pattern: str, group: str | None = None, templates: tuple[str, ...] = _BOTH) -> GovRow:
    return GovRow(f"applications.{key}", pattern, group, templates, _A)


# Table 三 (收到和处理政府信息公开申请情况). Order matters: the first row whose label matches wins,
# so specific rows come before the group rows that contain them (其他处理 after its three parts).
APPLICATION_ROWS: tuple[GovRow, ...] = (
    _app("new_received", r"本年新收"), _app("carried_over", r"上年结转"),
    _app("carried_to_next", r"结转下年度"),
    _app("denied_state_secret", r"属于国家秘密"), _app("denied_other_law", r"其他法律行政法规禁止公开"),
    _app("denied_three_safety_one_stability", r"三安全一稳定"),
    _app("denied_third_party", r"保护第三方合法权益"), _app("denied_internal_affairs", r"三类内部事务"),
    _app("denied_process_info", r"四类过程性信息"), _app("denied_enforcement_file", r"行政执法案卷"),
    _app("denied_admin_query", r"行政查询事项"),
    _app("unable_not_held", r"本机关不掌握"), _app("unable_need_creation", r"没有现成信息"),
    _app("unable_unclear", r"补正后申请内容仍不明确"),
    _app("not_processed_petition", r"信访举报投诉"), _app("not_processed_repeat", r"重复申请"),
    _app("not_processed_publication", r"公开出版物"), _app("not_processed_massive", r"大量反复申请"),
    _app("not_processed_confirm", r"确认或重新出具"),
    _app("other_no_correction", r"逾期不补正", templates=("gov2021",)),
    _app("other_fee_unpaid", r"未按收费通知", templates=("gov2021",)),
    _app("other_other", r"^(?:[0-9]+[.．、])?其他(?:情形)?$", r"其他处理", ("gov2021",)),
    _app("other_handling", r"其他处理$", templates=("gov2019",)),
    _app("partially_granted", r"部分公开"), _app("granted", r"(?<!不)予以公开"),
    _app("total_processed", r"[(（]七[)）]总计|^七[、.．]?总计"),
)

# figures.md order of the table-三 rows (the order figures are reported in).
APPLICATION_ORDER = ("new_received", "carried_over", "granted", "partially_granted",
                     "denied_state_secret", "denied_other_law", "denied_three_safety_one_stability",
                     "denied_third_party", "denied_internal_affairs", "denied_process_info",
                     "denied_enforcement_file", "denied_admin_query", "unable_not_held",
                     "unable_need_creation", "unable_unclear", "not_processed_petition",
                     "not_processed_repeat", "not_processed_publication", "not_processed_massive",
                     "not_processed_confirm", "other_handling", "other_no_correction",
                     "other_fee_unpaid", "other_other", "total_processed", "carried_to_next")

# Group rows: they carry no figure of their own in gov2021, but name the group of the rows under
# them in text where the group label is printed only once (PDF text, Word-pasted text).
APPLICATION_GROUP_SOURCE = r"[(（][三四五六][)）](?:不予公开|无法提供|不予处理|其他处理)"

# Table 二 (主动公开政府信息情况), by item; columns differ between the two forms. The first rows may
# carry the form's own note: '规章(设区的市、自治州人民政府应提供相关数据)' (湖北, 山东 2020).
_NOTE = r"(?:[(（][^()（）]*[)）])?"
_RULES = r"^规章" + _NOTE + r"$"
_NORMATIVE = r"^(?:行政)?规范性文件" + _NOTE + r"$"
PROACTIVE_ROWS: tuple[GovRow, ...] = (
    GovRow("proactive.art20_1.rules", _RULES, None, ("gov2019",), ("new_made", "new_published", "total_public")),
    GovRow("proactive.art20_1.rules", _RULES, None, ("gov2021",), ("issued", "repealed", "in_force")),
    GovRow("proactive.art20_1.normative_docs", _NORMATIVE, None, ("gov2019",),
           ("new_made", "new_published", "total_public")),
    GovRow("proactive.art20_1.normative_docs", _NORMATIVE, None, ("gov2021",),
           ("issued", "repealed", "in_force")),
    GovRow("proactive.art20_5.licensing", r"^行政许可$", None, ("gov2019",), ("prev_year_items", "change", "decisions")),
    GovRow("proactive.art20_5.licensing", r"^行政许可$", None, ("gov2021",), ("decisions",)),
    GovRow("proactive.art20_5.other_services", r"^其他对外管理服务事项$", None, ("gov2019",),
           ("prev_year_items", "change", "decisions")),
    GovRow("proactive.art20_6.penalty", r"^行政处罚$", None, ("gov2019",), ("prev_year_items", "change", "decisions")),
    GovRow("proactive.art20_6.penalty", r"^行政处罚$", None, ("gov2021",), ("decisions",)),
    GovRow("proactive.art20_6.enforcement", r"^行政强制$", None, ("gov2019",), ("prev_year_items", "change", "decisions")),
    GovRow("proactive.art20_6.enforcement", r"^行政强制$", None, ("gov2021",), ("decisions",)),
    GovRow("proactive.art20_8.fees", r"^行政事业性收费$", None, ("gov2019",), ("prev_year_items", "change")),
    GovRow("proactive.art20_8.fees", r"^行政事业性收费$", None, ("gov2021",), ("amount_wan_yuan",)),
    GovRow("proactive.art20_9.procurement", r"^政府集中采购$", None, ("gov2019",), ("items", "amount_yuan")),
)

# 第一项加第二项之和，等于第三项加第四项之和 (table 三's note), per column of table 三.
GOV_BALANCE = ((("new_received", "carried_over"), ("total_processed", "carried_to_next")),
               APPLICATION_COLUMNS)
# Cells printed run together: only these columns may be negative, so only they open with '-'.
RUN_SIGNED_COLUMNS = frozenset({"change"})  # 本年增/减

# Table 四 (行政复议、行政诉讼): one row of 15 numbers after a heading naming both.
REVIEW_HEADING_SOURCE = r"行政复议.{0,6}行政诉讼"

# Labels longer than this are prose, not table rows; so is plain text with sentence stops.
GOV_MAX_LABEL = 90
PROSE_STOPS = "。；;！？"

# Detection when the column headers are missing (a PDF splitting 本年新\n制作数量): the table-三
# rows alone. 逾期不补正 exists only in the 2021 form.
GOV_ROWS_MARKER = r"三安全一稳定|本年新收政府信息公开申请数量"
GOV2021_ROWS_MARKER = r"逾期不补正|未按收费通知"

# Headline figures from the tables: key -> the table figures summed (all must be present).
GOV_HEADLINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("headline.applications_received", ("applications.new_received.total",)),
    ("headline.applications_carried_over", ("applications.carried_over.total",)),
    ("headline.applications_answered", ("applications.total_processed.total",)),
    ("headline.applications_granted", ("applications.granted.total",)),
    ("headline.applications_partially_granted", ("applications.partially_granted.total",)),
    ("headline.applications_denied", tuple(f"applications.{r}.total" for r in (
        "denied_state_secret", "denied_other_law", "denied_three_safety_one_stability",
        "denied_third_party", "denied_internal_affairs", "denied_process_info",
        "denied_enforcement_file", "denied_admin_query"))),
    ("headline.applications_carried_to_next", ("applications.carried_to_next.total",)),
    ("headline.review_total", ("review.total",)),
    ("headline.litigation_total", ("litigation_direct.total", "litigation_after_review.total")),
)

_OUTCOMES = ("granted", "partially_granted", "denied_state_secret", "denied_other_law",
             "denied_three_safety_one_stability", "denied_third_party", "denied_internal_affairs",
             "denied_process_info", "denied_enforcement_file", "denied_admin_query",
             "unable_not_held", "unable_need_creation", "unable_unclear", "not_processed_petition",
             "not_processed_repeat", "not_processed_publication", "not_processed_massive",
             "not_processed_confirm")
GOV_OTHER_ROWS = {"gov2019": ("other_handling",),
                  "gov2021": ("other_no_correction", "other_fee_unpaid", "other_other")}
# fmt: on


def gov_sums(template: str) -> list[tuple[str, tuple[str, ...]]]:
    """(total key, part keys) for the template's tables (figures.md "Checks")."""
    rows = [
        r.key.removeprefix("applications.") for r in APPLICATION_ROWS if template in r.templates
    ]
    sums = [
        (f"applications.{r}.total", tuple(f"applications.{r}.{c}" for c in _A[:-1])) for r in rows
    ]
    outcomes = (*_OUTCOMES, *GOV_OTHER_ROWS.get(template, ()))
    sums += [(f"applications.total_processed.{c}", tuple(f"applications.{o}.{c}" for o in outcomes))
             for c in _A]  # fmt: skip
    sums += [(f"{g}.total", tuple(f"{g}.{c}" for c in REVIEW_COLUMNS[:-1])) for g in REVIEW_GROUPS]
    return sums
