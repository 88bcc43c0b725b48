"""Extraction rules as data: labels, patterns, unit words, table rows. Each with where it was seen.

Code elsewhere interprets these tables; a new quirk should be a new row here, not new code.
In headline patterns `{N}` stands for one number (numbers.NUMBER_PATTERN) with optional spaces.
"""

from __future__ import annotations

from typing import NamedTuple

# fmt: off
# Tables of data, laid out by hand for reading; the formatter would put every item on a line.

# --- metadata block -------------------------------------------------------------------------

# (label as printed, Metadata field or None when recognised but not kept, where seen)
METADATA_LABELS: tuple[tuple[str, str | None, str], ...] = (
    ("索引号", "index_no", "Hanweb text block, seeds 003/004; 索 引 号 with inner spaces elsewhere"),
    ("信息索引号", "index_no", "椒江 table layout"),
    ("发布机构", "publisher", "seeds 003/004, 椒江 table"),
    ("公开方式", "disclosure", "seeds 003/004"),
    ("成文日期", "written_date", "seed 003, 椒江 table"),
    ("发文日期", "written_date", "seed 004"),
    ("生成日期", "written_date", "older Hanweb pages"),
    ("组配分类", "category", "seed 004"),
    ("主题分类", "category", "椒江 table"),
    ("文件编号", "doc_number", "seed 004, where it is empty and the title follows on the next line"),
    ("发文字号", "doc_number", "portals.md"),
    ("文号", "doc_number", "portals.md"),
    ("发布时间", "published_at", "seeds 002/003/004: '2018-01-17 08: 52', '2014-03-08  20:57'"),
    ("发布日期", "published_at", "portals.md"),
    ("信息来源", "source", "seed 003"),
    ("来源", "source", "seed 004"),
    # Recognised so that they end the previous label's value, but not kept (no field for them).
    ("发文机关", None, "portals.md: the issuing organ, not the 发布机构"),
    ("统一编号", None, "portals.md"),
    ("有效性", None, "portals.md"),
    ("浏览次数", None, "seeds 003/004, trailing the 发布时间 line"),
    ("访问次数", None, "other Hanweb skins"),
    ("点击数", None, "TRS skins"),
    ("字体", None, "字体：[大 中 小] after the date"),
    ("字号", None, "字号：默认 小 大 after 来源 (江苏省人民政府's Hanweb article, tests/pages/)"),
    ("填报单位", None, "statistics-table header, seeds 002/003"),
)

# <meta name=...> -> what it fills (Hanweb and TRS heads carry these).
META_TAGS: dict[str, str] = {
    "ArticleTitle": "title",
    "PubDate": "published_at",
    "ContentSource": "source",
}

# --- scripts: traditional-character copies -------------------------------------------------------

# Characters only traditional text has, common in reports (報告 公開 條例 網站 縣 鎮 …): one of them
# sends the text through OpenCC t2s. Seen: big5 gateway pages of 江苏/四川 reports (蘇州市教育局
# 2012, 樂山 2010), and converter mirrors that also gloss each character in pinyin.
TRADITIONAL_MARKERS = (
    "與個們開關於國報務際會發動機書長門問間陽員網資據數為條職業當進還這時傳設計統來對應經過實現"
    "構點結證處審議規劃辦區縣鎮鄉單項聯繫電話視頻圖檔類號頁導覽獲產權標準範圍復諮詢維護臺灣罰費"
    "總體況廣東蘇樂"
)
# Tone-marked vowels: a pinyin gloss after a character, '報(bào)告', '鎮(zhèn)' (下管鎮 2009 mirror).
PINYIN_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
PINYIN_GLOSS_SOURCE = (
    r"(?<=[\u3400-\u9fff])[(（](?=[a-zü]*[" + PINYIN_TONE_VOWELS + r"])"
    r"[a-zü" + PINYIN_TONE_VOWELS + r"]{1,7}[)）]"
)

# --- identity: title, year, report or not ---------------------------------------------------

YEAR_PATTERN = r"(?:19|20)[0-9０-９]{2}|[〇○零一二三四五六七八九]{4}"
DISCLOSURE_WORDS = r"(?:政府信息公开|政务信息公开|政务公开|信息公开)"
REPORT_WORDS = r"(?:年度报告|工作报告|年报|工作总结|报告|总结)"

# A title: agency (optional), year, 年度, and a disclosure report name. Seeds 000/001 split it
# over two lines (agency / year+name, agency+year / name); the caller tries joined lines too.
TITLE_RE_SOURCE = (
    r"^(?P<agency>[^\s，。,；;：:、>]{2,40}?)?(?P<year>" + YEAR_PATTERN + r")\s*年度?"
    r"(?P<name>[^。；;]{0,30}?" + DISCLOSURE_WORDS + r"[^。；;]{0,12}?" + REPORT_WORDS + r")$"
)

# Body phrases that mark a report when no title was found (module pages starting with the body).
REPORT_PHRASE_SOURCE = (
    DISCLOSURE_WORDS + r"[^。\n]{0,12}?(?:年度报告|年报|工作报告|工作总结)"
    r"|(?:本年度报告|本报告|本年报)[^。\n]{0,40}?政府信息公开条例"
)

# '暂无信息' module pages (Hanweb xxgkAnnualReport.jsp for a year with no report).
PLACEHOLDER_SOURCE = r"暂无(?:信息|数据|内容|记录|相关信息)"
PLACEHOLDER_MAX_CHARS = 200

# Report year from the statistics period. Seed 002 prints '从20171月1日起' (the 年 lost), so no
# word boundary after the four digits.
STAT_PERIOD_SOURCE = r"统计期限\s*(?:自|从|为|是)?\s*(" + YEAR_PATTERN + r")"
URL_YEAR_SOURCE = r"[?&]fbtime=((?:19|20)\d{2})"
# The body naming its report, for pages without a title line: '现公布…2017年政府信息公开工作年度报告',
# '由…编制的2020年度政府信息公开年度报告', '2025年度信息公开报告', '…年度报告(2020年度)'.
BODY_YEAR_SOURCE = (
    r"(" + YEAR_PATTERN + r")\s*年度?(?:政府|政务)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)"
    r"|(?:年度报告|年报)[(（](" + YEAR_PATTERN + r")\s*年度?[)）]"
    r"|(?:报告|汇报)[^。\n]{0,8}?(" + YEAR_PATTERN + r")\s*年度?(?:政府|政务)?(?:信息公开|政务公开)工作"
)
# Else a paragraph opening with the year: '2025年,郭仓镇严格遵循…', '(一)互联网。2011年,我办…'.
OPENING_YEAR_SOURCE = r"(?:^|[。\n])[ \t\u3000]*(" + YEAR_PATTERN + r")年度?[,，]"
BODY_YEAR_WINDOW = 3000  # Hanweb xxgkAnnualReport.jsp?...&fbtime=2017

# --- the text forms a figure is read from (Provenance.form) --------------------------------------

FORM_CELLS = "table-cells"  # a row's cells tab-joined: HTML, DOCX, DOC or sheet grids
FORM_PIPES = "pipe-table"  # a row's cells on one line, '|' between them (saved page texts)
FORM_CELLS_PER_LINE = "cells-per-line"  # one cell a line, lone '|' lines or trailing ' |'
FORM_TEXT_ROW = "text-row"  # a label and its numbers as plain text (PDF text, pastes)
FORM_RUN_TOGETHER = "run-together"  # cells printed with no separator, recovered by arithmetic
FORM_PROSE = "prose"  # a sentence of the report's text

# --- headline figures from prose --------------------------------------------------------------

# The headline keys in figures.md order (the order figures are reported in).
HEADLINE_KEYS: tuple[str, ...] = tuple(
    f"headline.{k}"
    for k in ("proactive_total", "applications_received", "applications_carried_over",
              "applications_in_person", "applications_online", "applications_letter",
              "applications_fax", "applications_answered", "applications_granted",
              "applications_partially_granted", "applications_denied",
              "applications_carried_to_next", "review_total", "litigation_total", "fees_yuan")
)

COUNT_UNITS = r"(?:件|条|项|个|份|宗|起|次|例)"
_GAP = r"[^，,。；;\n]"  # stays inside one clause


class HeadlineRule(NamedTuple):
    key: str
    pattern: str
    seen: str


_NOTE = r"(?:[(（][^()（）\n]{1,8}[)）])?"  # '(更新)', '(1个)' between words
_CONNECT = r"(?:共计|共|总计|合计|累计|达|为|有)?"
_NOT_REVIEW = r"(?:(?!复议|诉讼)[^，,。；;\n])"  # 受理答复…申请 is an application; 复议申请 is not
HEADLINE_RULES: tuple[HeadlineRule, ...] = (
    HeadlineRule("headline.proactive_total",
                 r"主动公开(?:政府|政务)?信息(?:数量?|总数)?" + _CONNECT + r"{N}(?:条|件)",
                 "seed 000 主动公开信息共计218条; seed 002 共主动公开信息20160条; "
                 "主动公开信息数为158条 (泉港 2013), 主动公开信息数量为46件 (下管镇 2009)"),
    HeadlineRule("headline.proactive_total",
                 r"信息公开(?:平台|网站|网|专栏)上?(?:累计)?(?:主动)?公开" + _NOTE
                 + r"(?:了)?(?:政府|政务)?信息{N}条",
                 "seeds 001/004 政府信息公开平台上公开信息343条; 政府信息公开平台累计公开(更新)政务信息1087条"),
    HeadlineRule("headline.proactive_total", r"主动公开(?:了)?{N}条(?:政府)?信息", "common variant"),
    HeadlineRule("headline.proactive_total", r"主动公开(?:了)?(?:共|共计)?{N}条",
                 "通过门户网站及政务新媒体方式主动公开907条 (2025)"),
    HeadlineRule("headline.proactive_total",
                 r"主动公开(?:各类|各项)(?:政府|政务)?信息(?:数量?|总数)?" + _CONNECT + r"{N}(?:条|件)",
                 "主动公开各类信息8032条; 全年主动公开各类信息8.2万条"),
    # With words between, 政府信息 / 政务信息 must be named: '及时公开区政府全体会议信息2条' is one
    # kind of information, not the year's total.
    HeadlineRule("headline.proactive_total",
                 r"(?:主动公开|及时公开|公开发布)[^，,。；;、\n\d]{0,10}?(?:政府|政务)信息(?:数量?|总数)?"
                 + _CONNECT + r"{N}(?:条|件)",
                 "全年主动公开政务信息382条; 主动公开各类政府信息53条; 及时公开各类政府信息109条; "
                 "在主动公开栏目共发布政府信息2892条 (2020-2025 reports)"),
    HeadlineRule("headline.applications_received",
                 r"(?:收到|受理|承办|接到|接收|新收|接受)" + _NOT_REVIEW + r"{0,30}?申请"
                 r"[^，,。；;\n\d复诉]{0,15}?{N}" + COUNT_UNITS,
                 "seed 002 共收到信息公开申请224件; seed 000 承办依申请公开政府信息事项共17件; "
                 "from 2019 本年新收政府信息公开申请N件; 受理答复政府信息公开申请28件; "
                 "共收到公众向州政府或州政府办公室提交的政府信息公开申请42件; 接受办理…申请623件"),
    HeadlineRule("headline.applications_received",
                 r"(?:收到|受理|承办|接到|接收){N}" + COUNT_UNITS + _GAP + r"{0,8}?申请",
                 "seed 003 共收到5项依申请公开事项"),
    HeadlineRule("headline.applications_received",
                 r"(?:提交|提出)[^，,。；;\n\d]{0,20}?信息公开(?:申请)?{N}件",
                 "向区政府提交政府信息公开190件 (2025)"),
    HeadlineRule("headline.applications_carried_over",
                 r"(?:上年|上一年)度?结转(?:的)?(?:政府信息公开)?(?:申请)?{N}" + COUNT_UNITS,
                 "from 2019: 上年结转N件 (replica bodies, 国办公开办函〔2019〕60号 wording); "
                 "上年度结转16件"),
    HeadlineRule("headline.applications_carried_over",
                 r"20[0-9]{2}年度?结转(?:的)?(?:政府信息公开)?(?:申请)?{N}" + COUNT_UNITS,
                 "2020年结转312件 (in a 2021 report)"),
    HeadlineRule("headline.applications_carried_to_next",
                 r"(?:结转|转结)(?:至|到)?(?:下一?年度?|[0-9]{4}年度?)(?:继续)?(?:办理)?(?:的)?(?:申请)?{N}件",
                 "结转下年度继续办理246件; 结转下年继续办理2件; 转结下年度继续办理0件"),
    HeadlineRule("headline.applications_in_person",
                 r"(?:当面|现场)(?:提出)?申请(?:的)?(?:有|共|为)?{N}" + COUNT_UNITS,
                 "seed 000 当面申请2件"),
    HeadlineRule("headline.applications_online",
                 r"(?:网上|网络|在线|互联网|电子邮件)(?:提出)?申请(?:的)?(?:有|共|为)?{N}"
                 + COUNT_UNITS, "seed 000 网上申请15件; seed 002 网络申请131件"),
    HeadlineRule("headline.applications_letter",
                 r"(?:信函|来信|邮寄)(?:提出)?申请(?:的)?(?:有|共|为)?{N}" + COUNT_UNITS,
                 "seed 002 信函申请75件"),
    HeadlineRule("headline.applications_fax", r"传真(?:提出)?申请(?:的)?(?:有|共|为)?{N}" + COUNT_UNITS,
                 "figures.md channel list"),
    # Only after 申请 in the same sentence: 留言76条，答复76条 and 咨询投诉3607件，办结3607件 are
    # messages, not applications.
    HeadlineRule("headline.applications_answered",
                 r"申请[^\n]{0,80}?(?:办结|答复|回复)(?:了)?(?:申请)?(?:共)?{N}" + COUNT_UNITS,
                 "seed 002 办结224件; 收到…申请42件…。依法办结35件"),
    # Every pattern opens with a word or a group of words, never an optional group or a
    # lookbehind: the search then jumps from word to word (anchored.py), 5-10x faster. Hence
    # (?<!不) checked after the first word, and (?:同意部分公开|部分公开) for (?:同意)?部分公开.
    HeadlineRule("headline.applications_granted",
                 r"(?:同意|予以)(?<!不同意|不予以)公开(?:答复)?(?:的)?{N}" + COUNT_UNITS,
                 "seed 002 同意公开29件"),
    HeadlineRule("headline.applications_partially_granted",
                 r"(?:同意部分公开|部分公开)(?:答复)?(?:的)?{N}" + COUNT_UNITS,
                 "seed 002 同意部分公开8件; 予以公开的7件，部分公开的5件"),
    HeadlineRule("headline.applications_denied",
                 r"(?:不同意公开|不予公开)(?:答复)?(?:的)?{N}" + COUNT_UNITS, "seed 002 不同意公开59件"),
    HeadlineRule("headline.review_total",
                 r"行政复议(?:申请|案件)?(?:受理)?(?:共|有)?{N}" + COUNT_UNITS,
                 "seed 002 提出行政复议申请受理10件"),
    HeadlineRule("headline.litigation_total",
                 r"行政诉讼(?:案件)?(?:共|有)?{N}" + COUNT_UNITS, "seed 002 引起的行政诉讼5件"),
    HeadlineRule("headline.fees_yuan",
                 r"(?:收取|收费)[^，,。；;\n\d]{0,12}?{N}元",
                 "收取检索、复制费用0.5万元: 万元 folds into the number (-> 5000)"),
)


# Prose-only figures: channel counts a report states in its text. Kept under prose.* next to the
# table's stats.* (seed 002's prose gives the website 6767 where its table gives 12760).
_CHANNEL = r"(?:账号|公众号|公众账号|号)?[”\"」]?" + _NOTE + r"(?:上)?"
# Never across a list of channels: '官方微博微信等主动公开政府信息345条' is all of them together.
_CHANNEL_GAP = r"(?:(?!分别)[^，,。；;、等\n\d]){0,6}?"
# Nor for a channel named in a list ('门户网站、微信公众号公开发布信息330条', '微信和微博分别发布信息
# 1408条、6502条'): the count is of several channels, or which is whose is not said.
_LISTED = r"(?![、和及与])"
# … nor for the last channel of such a list ('入口网站和法制办网站进行了主动公开信息27条', real
# report tests/real/texts/0069): a 和/及/与/、 at most four characters before the channel's name;
# written after the name (a rule opens with a word, for the fast scan: test_parsers_fastpaths).
_LISTED_BEFORE_SITE = "".join(f"(?<![、和及与]{'.' * n}网站)" for n in range(5))
PROSE_RULES: tuple[HeadlineRule, ...] = (
    HeadlineRule("prose.via_website",
                 r"(?:政府信息公开网站|政府网站|门户网站|网站)(?:上)?(?:发布|公开)(?:政府)?(?:信息)?{N}条",
                 "seed 002 其中政府信息公开网站发布6767条"),
    HeadlineRule("prose.via_website",
                 r"网站" + _LISTED_BEFORE_SITE + _LISTED + r"(?:(?!平台|专栏)[^，,。；;\n\d]){0,8}?(?:发布|公开|推送)(?:(?!平台|专栏)[^，,。；;\n\d]){0,10}?信息"
                 + _CONNECT + r"{N}条",
                 "通过市政府网站共公开各类政府信息13679条; 门户网站发布各类信息5110条; "
                 "区政府网站主动公开、审核发布信息9765条 (2002-2025 reports); not 门户网站政府信息公开"
                 "平台上公开信息343条 (seeds 001/004: the disclosure platform, the proactive total)"),
    HeadlineRule("prose.via_website", r"(?:政府网站|门户网站){N}条", "包括政府网站35条"),
    HeadlineRule("prose.via_weibo",
                 r"微博(?<![和及与]微博)(?<!网站、微博)(?<!微信、微博)" + _LISTED + _CHANNEL + _CHANNEL_GAP + r"(?:发布|公开|推送)(?:政府|政务)?(?:信息|文章|稿件)?"
                 + _CONNECT + r"{N}(?:条|篇)",
                 "seed 002 微博发布1767条; 微博账号累计推送信息792条; “黄平县政务微博”发布信息200条; "
                 "微博账号(1个)发布信息149条"),
    HeadlineRule("prose.via_wechat",
                 r"微信(?<![和及与]微信)(?<!网站、微信)(?<!微博、微信)" + _LISTED + _CHANNEL + _CHANNEL_GAP + r"(?:发布|公开|推送)(?:政府|政务)?(?:信息|文章|稿件)?"
                 + _CONNECT + r"{N}(?:条|篇)",
                 "seed 002 微信发布4814条; seed 000 微信公众号发布57条; 微信公众号推送信息1350篇; "
                 "微信公众号累计发布信息216条; 微信公众账号(1个)发布信息149条"),
    HeadlineRule("prose.via_wechat", r"微信(?<![和及与]微信)(?<!网站、微信)(?<!微博、微信)(?:公众号|公众账号)[”\"」]?{N}条", "“临洮县新添镇”微信公众号2443条"),
)
# A clause counting since some earlier time is not the year's, for every rule above: '历年累计主动公开
# 政府信息545条' (泉港 2013, after '年度累计…158'). Not 截至/截止 alone: '截至2010年年底，本年度
# 新增的主动公开政府信息17条' is the year's; nor 累计 alone ('2025年…累计公开(更新)政务信息1087条').
CUMULATIVE_SOURCE = r"历年|累计总数|建站以来|开通以来|至今累计|以来累计"
# After the received count, '(含上年结转1件)': from 2019 the headline count is 本年新收, without them.
INCLUDES_CARRIED_SOURCE = r"[(（]含[^()（）。\n]{0,12}?结转(?P<n>[0-9]+)件[)）]"
# prose.* key -> the table figure it states (a prose headline figure shadowed by the table's is
# kept as prose.<name> and compared with headline.<name>).
PROSE_COUNTERPARTS: dict[str, str] = {
    "prose.via_website": "stats.via_website",
    "prose.via_weibo": "stats.via_weibo",
    "prose.via_wechat": "stats.via_wechat",
}


class NoneRule(NamedTuple):
    """A 'none happened' sentence: gives 0 when no positive rule gave the key."""

    key: str
    pattern: str
    requires: str | None  # the same sentence must also match this, when given
    seen: str


_NEGATION = r"(?:没有|未发生|未出现|未有|未因|未收到|未接到|未产生|未引起|未引发)"
# A stated zero in prose: '均为零', '为0件'. A bare 0 is a table cell ('行政复议\t0\t1' of a local
# table), so a digit needs its unit, and the gap before it holds no tab or cell separator.
_ZERO = r"(?:均为|均是|为|是|共)?(?:零|0(?:件|起|个|宗))"
_ZERO_GAP = r"[^。；;\n\d\t|]"
NONE_RULES: tuple[NoneRule, ...] = (
    NoneRule("headline.applications_received",
             r"(?:未|没有)(?:收到|受理|接到|接收)" + _GAP + r"{0,30}?(?:申请|要求公开)", None,
             "全年未收到政府信息公开申请; 本年未收到政府信息公开申请 (replica bodies); "
             "未收到任何公民、法人和其他组织提出的公开政府信息的申请; 未接收到政府信息公开申请"),
    NoneRule("headline.applications_carried_over", r"(?:无上年结转|上年无结转|上年没有结转)", None,
             "也无上年结转申请"),
    NoneRule("headline.review_total", _NEGATION + r"[^。；;\n]{0,40}?复议", None,
             "seed 000 没有因政府信息公开申请行政复议; seeds 001/004 未发生…行政复议; "
             "未发生针对政府信息公开事务的复议、诉讼和申诉"),
    NoneRule("headline.review_total", r"无" + _GAP + r"{0,16}?行政复议", None,
             "无行政复议案件; 无因政府信息公开引起的行政复议"),
    NoneRule("headline.review_total", r"行政复议" + _ZERO_GAP + r"{0,20}?" + _ZERO, None,
             "被申请行政复议及提起行政诉讼情况均为零; 行政复议、行政诉讼数量为0件"),
    NoneRule("headline.litigation_total", _NEGATION + r"[^。；;\n]{0,40}?诉讼", None,
             "seed 000 没有因…提起行政诉讼; seeds 001/004 未发生…行政诉讼; 全年未引起行政诉讼"),
    NoneRule("headline.litigation_total", r"无" + _GAP + r"{0,24}?行政诉讼", None,
             "无行政诉讼案件; 无行政复议、行政诉讼案件"),
    NoneRule("headline.litigation_total", r"行政诉讼" + _ZERO_GAP + r"{0,12}?" + _ZERO, None,
             "行政诉讼情况均为零; 行政复议及行政诉讼0件"),
    # 未按收费通知 is gov2021's row about unpaid fees, no 'none charged'.
    NoneRule("headline.fees_yuan", r"(?:未|没有|无)(?!按收费通知)" + _GAP + r"{0,30}?(?:收取|收费)", r"费",
             "001/004 未向…申请人进行收费; 002 未发生…收取; 003 没有…收取; 未收取信息处理费"),
    # 不 only right before the verb: 不断规范…收费 is no 'none charged'.
    NoneRule("headline.fees_yuan", r"不(?:予|再|曾)?(?:收取|收费)", r"费",
             "seed 000 本单位不收取依申请提供政府公开信息的收费"),
    NoneRule("headline.fees_yuan", r"免(?:收|除|予收取)" + _GAP + r"{0,10}?费",
             r"申请|检索|复制|邮寄", "免收检索费; the 申请 filter keeps out 免费发放 (seed 002)"),
)

# After the received count, 'all answered' gives applications_answered = received.
ALL_ANSWERED_SOURCE = r"(?:均|全部|逐条|逐件|逐一|一一)" + _GAP + r"{0,10}?(?:答复|办结|回复|处理)"
# seeds 001 均及时给予答复, 003 均已按要求答复, 004 逐条给予答复; seed 000's '于15个工作日内答复
# 申请人' says how, not that all were answered, so it gives nothing.

# --- templates --------------------------------------------------------------------------------

GOV2021_MARKERS = r"本年制发件数|本年废止件数|现行有效件数|本年处理决定数量"  # 国办公开办函〔2021〕30号
GOV2019_MARKERS = r"本年新制作数量|本年新公开数量|对外公开总数量"  # 国办公开办函〔2019〕60号
NATIONAL2014_HEADING = r"政府信息公开情况统计表"  # seeds 002, 003
# Any other statistics table, e.g. Fujian's short one with 本年度 / 历年累计 columns. A bare
# 统计表 is not enough: narrative reports say '附件：政府信息公开情况统计表' when the table is a file.
LOCAL_TABLE_MARKERS = r"历年累计"
NATIONAL2014_MIN_SECTIONS = 3

# --- national2014 statistics table --------------------------------------------------------------


class Section(NamedTuple):
    heading: str  # regex on the normalised label of a 一、…九、 line
    key: str | None  # the figure the heading row itself carries (四、行政复议数量 10)
    rows: tuple[tuple[str, str], ...]  # (stats key suffix, regex anchored on the normalised label)


NATIONAL2014: tuple[Section, ...] = (
    Section(r"主动公开情况", None, (
        ("proactive_total", r"主动公开政府信息数"), ("proactive_normative_docs", r"主动公开规范性文件"),
        ("normative_docs_issued", r"制发规范性文件"), ("via_gazette", r"政府公报公开"),
        ("via_website", r"政府网站公开"), ("via_weibo", r"政务微博公开"),
        ("via_wechat", r"政务微信公开"), ("via_other", r"其他方式公开"))),
    Section(r"回应解读情况", None, (
        ("responses_total", r"回应公众关注"), ("press_conferences", r"参加或举办新闻发布会"),
        ("press_conferences_by_heads", r"主要负责同志参加新闻发布会"),
        ("online_interviews", r"政府网站在线访谈"),
        ("online_interviews_by_heads", r"主要负责同志参加政府网站在线访谈"),
        ("interpretations", r"政策解读稿件"), ("weibo_wechat_responses", r"微博微信回应"),
        ("other_responses", r"其他方式回应"))),
    Section(r"依申请公开情况", None, (
        ("applications_received", r"收到申请数"), ("applications_in_person", r"当面申请"),
        ("applications_fax", r"传真申请"), ("applications_online", r"网络申请"),
        ("applications_letter", r"信函申请"), ("applications_completed", r"申请办结数"),
        ("applications_on_time", r"按时办结"), ("applications_extended", r"延期办结"),
        ("applications_answered", r"申请答复数"), ("answered_already_public", r"属于已主动公开"),
        ("answered_granted", r"同意公开"), ("answered_partially_granted", r"同意部分公开"),
        ("answered_denied", r"不同意公开"), ("denied_state_secret", r"涉及国家秘密"),
        ("denied_commercial_secret", r"涉及商业秘密"), ("denied_privacy", r"涉及个人隐私"),
        ("denied_security_stability", r"危及国家安全"), ("denied_not_gov_info", r"不是《?条例》?所指"),
        ("denied_other_law", r"法律法规规定的其他"), ("answered_not_this_agency", r"不属于本行政机关"),
        ("answered_not_exist", r"申请信息不存在"), ("answered_correction_requested", r"告知作出更改"),
        ("answered_other_channel", r"告知通过其他途径"))),
    Section(r"行政复议", "review_total", (
        ("review_maintained", r"维持具体行政行为"), ("review_corrected", r"被依法纠错"),
        ("review_other", r"其他情形"))),
    Section(r"行政诉讼", "litigation_total", (
        ("litigation_maintained", r"维持具体行政行为"), ("litigation_corrected", r"被依法纠错"),
        ("litigation_other", r"其他情形"))),
    Section(r"举报投诉", "complaints_total", ()),
    Section(r"收取的费用", "fees_wan_yuan", ()),
    Section(r"机构建设和保障经费", None, (
        ("org_units", r"政府信息公开工作专门机构"), ("reading_points", r"设置政府信息公开查阅点"),
        ("staff_total", r"从事政府信息公开工作人员"), ("staff_fulltime", r"专职人员"),
        ("staff_parttime", r"兼职人员"), ("budget_wan_yuan", r"政府信息公开专项经费"))),
    Section(r"会议和培训", None, (
        ("meetings", r"召开政府信息公开工作会议"), ("trainings", r"举办各类培训班"),
        ("trainees", r"接受培训人员"))),
)

# Words a table line may carry between label and number (seed 003: 收取的费用万元0).
TABLE_UNIT_WORDS = r"万元|人次|元"
# Header lines of the table, skipped (whitespace removed first: seed 002 prints 统 计 指 标).
TABLE_HEADER_SOURCE = r"统计指标.*|单位|统计数|填报单位.*|[(（]\d{4}年度?[)）]|\d{4}年度?"

# national2014 row -> headline key; amounts in 万元 are converted to yuan.
NATIONAL2014_HEADLINE: dict[str, str] = {
    "proactive_total": "headline.proactive_total",
    "applications_received": "headline.applications_received",
    "applications_in_person": "headline.applications_in_person",
    "applications_online": "headline.applications_online",
    "applications_letter": "headline.applications_letter",
    "applications_fax": "headline.applications_fax",
    "applications_answered": "headline.applications_answered",
    "answered_granted": "headline.applications_granted",
    "answered_partially_granted": "headline.applications_partially_granted",
    "answered_denied": "headline.applications_denied",
    "review_total": "headline.review_total",
    "litigation_total": "headline.litigation_total",
    "fees_wan_yuan": "headline.fees_yuan",
}
WAN = 10_000

# national2014 totals: total key -> the parts that must add up to it (figures.md "Checks").
NATIONAL2014_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("applications_received", ("applications_in_person", "applications_fax",
                               "applications_online", "applications_letter")),
    ("applications_completed", ("applications_on_time", "applications_extended")),
    ("applications_answered", ("answered_already_public", "answered_granted",
                               "answered_partially_granted", "answered_denied",
                               "answered_not_this_agency", "answered_not_exist",
                               "answered_correction_requested", "answered_other_channel")),
    ("answered_denied", ("denied_state_secret", "denied_commercial_secret", "denied_privacy",
                         "denied_security_stability", "denied_not_gov_info", "denied_other_law")),
    ("review_total", ("review_maintained", "review_corrected", "review_other")),
    ("litigation_total", ("litigation_maintained", "litigation_corrected", "litigation_other")),
    ("staff_total", ("staff_fulltime", "staff_parttime")),
)

APPLICATION_CHANNELS = ("in_person", "online", "letter", "fax")
# fmt: on

# --- local-pre2019 tables -----------------------------------------------------------------------

# fmt: off
# Column headers -> column names of local.<label>.<column>; other headers are kept as printed.
LOCAL_COLUMNS: tuple[tuple[str, str], ...] = (
    (r"^本年度?(?:数|数量|情况)?$|^本年度?新增", "year"),  # Fujian's short table
    (r"^历年累计|^累计", "cumulative"),
)
# The same, found inside a header pasted without separators ('指标本年度历年累计').
LOCAL_LOOSE_COLUMNS: tuple[tuple[str, str], ...] = ((r"本年度", "year"), (r"历年累计", "cumulative"))
LOCAL_HEADER_SOURCE = r"历年累计"
LOCAL_MAX_ROWS = 80
# Headline figures from a local table's `year` column, by row label.
LOCAL_HEADLINE: tuple[tuple[str, str], ...] = (
    ("headline.proactive_total", r"主动公开.*(?:信息|数|条)"),
    ("headline.applications_received", r"(?:收到|受理).*申请|^依申请公开(?:信息)?(?:数|件数)?$"),
)
# fmt: on
