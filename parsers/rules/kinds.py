"""What is a report: the markers of pages that look like annual reports but are not.

A marker is looked for in the page's title, else in its heading lines (short lines near the top
that name disclosure or a report). Each row: (kind of page, pattern, where it was seen). The
first row that matches decides; a page with none is judged by the report evidence (identity.py).
"""

from __future__ import annotations

# fmt: off
# (reason, pattern, where seen) — the reason is stored with the page when it is kept out.
TITLE_MARKERS: tuple[tuple[str, str, str], ...] = (
    # Not a notice publishing the report it carries: reports/0014 贺州市人民政府办公室关于公布贺州市
    # 2009年度…年度报告的通知, the report following its cover letter.
    ("notice (通知)", r"关于(?!公布|发布|印发[^。]{0,30}年度报告的)[^。]{0,60}的通知|通知$",
     "corpus not-reports/0013: 关于印发《…年度报告格式》的通知 (国办公开办函〔2021〕30号)"),
    ("rule (制度)", r"(?:年度报告|年报)(?:工作)?制度",
     "not-reports/0006 两家满族乡…年度报告制度(试行); 0011 山西省…年度报告制度(试行)"),
    ("graphic companion (图解)", r"^(?!.*文字版).*(?:图解|一图读懂|一图看懂|图说|图读|图文解读)",
     "issue 13: 图解 / 一图读懂 companions; '(文字版)…年度报告' is the report (reports/0055, 0056)"),
    ("policy interpretation (解读)", r"^(?!.*文字版).*解读", "issue 13: 政策解读 posts in the 年报 column"),
    ("evaluation (评估)", r"评估|测评|第三方", "not-reports/0012 2014年政府信息公开第三方评估报告"),
    ("news item", r"召开|部署会|培训会|推进会|座谈会|会议|[^公]发布\s*(?:19|20)\d{2}\s*年|工作推进",
     "not-reports/0007 固镇县召开…年报编制和发布部署会; 0010 贵州省发布2016年…年度报告"),
    ("guide (指南)", r"指南|(?i:guide\s+to)", "not-reports/0002, 0004; 0005 (English translation)"),
    ("statistics form (报表)", r"报表$", "not-reports/0003 …统计报表; 0008 政府网站年度报表"),
)

# A heading line names disclosure or a report (so a menu line like '政策解读' is not a heading).
HEADING_WORDS = r"信息公开|政务公开|年度报告|年报|报表|(?i:government\s+information)"
HEADING_LINES = 15
HEADING_MAX_CHARS = 70
# A heading is no sentence: a line with these is body text (reports/0021 '…加强政策解读，…。').
HEADING_NOT = r"[。，,；;]"
# Names of other documents quoted in a line are not what the line is: '依据《关于印发…格式的通知》'.
QUOTED = r"《[^《》]*》"

# Body evidence, looked for in the opening of the text when no title or heading decides.
BODY_MARKERS: tuple[tuple[str, str, str], ...] = (
    # An outlet's reporter, not '媒体记者等42余人' (reports/0032) nor '新华社…等媒体上发布' (0009).
    ("news item", r"(?:人民网|新华网|新华社|本报|央视|中新网)记者|本报讯",
     "not-reports/0009: commentary on the year's reports, '向人民网记者提供了…'"),
)

# Report evidence in the body when neither title nor report phrase names one (pages starting
# with the body: module pages, copies cut above the title).
REPORT_BODY_MARKERS: tuple[tuple[str, str, str], ...] = (
    ("its text opens the report's sections", r"(?:^|\n)\s*[一1][、.．]\s*(?:总体情况|概述|概况)",
     "reports/0043 一、概述; 0096 一、总体情况; 0111"),
    ("its text says it is the report", r"编制本报告|本报告由|情况报告如下|报告全文包括|全文包括(?:概述|总体情况)",
     "reports/0084, 0152 由…编制。(报告)全文包括…; 0165 编制本报告; 0106 …工作情况报告如下"),
    ("its text names a disclosure report", r"信息公开报告|信息公开年度报告",
     "reports/0059 现发布无锡市锡山区数据局2025年度信息公开报告"),
    ("its text says it is the report (English)",
     r"(?i:this report is compiled|annual report on (?:the )?(?:government information|openness))",
     "reports/0163, an English translation"),
)
# The section opening counts only on a page about disclosure.
DISCLOSURE_CONTEXT = r"信息公开|政务公开"
BODY_WINDOW = 1500

# A text destroyed by a wrong charset: every CJK character became '?' (not-reports/0001).
GARBLED_SHARE = 0.3
# fmt: on

# --- whose report: the subject named by the title or the opening ------------------------------
# What the unit a pattern finds is: the report's own (NAMED), its compiler (COMPILER: an office
# of a government compiles the government's report), or its contact (CONTACT: an office of it).
NAMED, COMPILER, CONTACT = "named", "compiler", "contact"
# fmt: off
# In the opening of the text, the report named with its unit (each with where it was seen); the
# group `s` is the subject. YEAR stands for core.YEAR_PATTERN.
SUBJECT_TEXT_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (NAMED, r"(?:公布|发布|编制了|编制|形成了|公开)[了]?[《“\"]?(?<!公开)(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)YEAR\s*年度?",
     "现公布贵港市2021年…(0087); 现发布《临洮县新添镇2022年…》(0009); 编制了吉林市…2020年…(0146)"),
    (NAMED, r"公开《(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)YEAR\s*年度?",
     "现向社会公开《沙依巴克区人民政府2022年度…》(0151)"),
    (NAMED, r"(?:公布|发布)YEAR\s*年度?(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)(?:政府|政务)?信息公开",
     "特向社会公布2019年度长沙市水利局政府信息公开…(0126)"),
    (COMPILER, r"由(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)(?:根据[^。\n]{0,80}?)?(?:综合[^。\n]{0,40}?)?编[制写]",
     "本报告由银川市网络信息化局根据《条例》…编制 (0028); 由洛阳市政府办公室编制 (0053)"),
    (NAMED, r"现将(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)YEAR\s*年度?",
     "现将南平市教育局2013年度政府信息公开工作报告如下 (0072)"),
    (NAMED, r"(?:标\s*题|中文名)\s*[|:：]?\s*(?P<s>[^\s，。,；;《》“”、:：|]{2,40}?)YEAR\s*年度?",
     "a metadata table's title cell: '标 题 | 西藏自治区2014年政府信息公开工作年度报告' (0025)"),
    (NAMED, r"^[ \t\u3000]*[《]?(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)YEAR\s*年度?(?:政府|政务)?信息公开",
     "a first paragraph opening with the report's name: 大竹县2009年政府信息公开工作年度报告(以下简称年报)… (0016)"),
    (NAMED, r"^[ \t\u3000]*(?P<s>[^\s，。,；;《》“”、:：|]{2,40}?)(?:政府|政务)?信息公开(?:工作)?(?:年度)?报告[(（]YEAR",
     "a title with the year last, glued to its date line: '洪山区人民政府珞南街道办事处政府信息公开工作年度报告(2020年度)日期:…' (0047)"),
    (NAMED, r"^[ \t\u3000]*(?P<s>[^\s，。,；;《》“”、:：|]{2,40})[ \t\u3000]*\n\s*YEAR\s*年度?(?:政府|政务)?信息公开",
     "a title split over lines, the unit alone above 'YEAR年度政府信息公开…' (0159 迁安市滦河文化产业区管委会)"),
    (NAMED, r"(?:^|[。\n][\s?？]*)YEAR\s*年度?[,，]\s*(?P<s>[^\s，。,；;《》“”、:：]{2,30}?)"
     r"(?:认真|坚持|紧紧|紧扣|深入|全面|严格|进一步|始终|持续|按照|以习近平|高度重视|围绕)",
     "the first sentence: '2020年,武湖街认真贯彻…' (0046); '2022年,石家庄市人民政府办公室认真贯彻…' (0002)"),
    (COMPILER, r"(?:本报告|本年报|本年度报告|年报)(?:是)?由(?P<s>[^\s，。,；;《》“”、:：]{2,40}?)(?:根据|依据|按照)",
     "本报告由南平市人民政府信息公开工作领导小组办公室根据…(0042); 由重庆解放碑中央商务区管理委员会根据 (0103)"),
    (CONTACT, r"(?:请与|请联系[:：]?)(?P<s>[^\s，。,；;《》“”、:：(（]{2,40}?)(?:联系|[,，(（])",
     "the contact: '如对本报告有任何疑问,请与东阳市财政局政府信息公开领导小组办公室联系' (0080)"),
)
# Patterns whose unit is the compiler ('由…编制'): an office of a government compiles its report.
COMPILER_PATTERN_START = "由"
# A government's report compiled by its office ('由洛阳市政府办公室编制', 0053; '由伊宁县人民政府
# 办公室编制', 0152; '由两城镇人民政府党政办公室编制', 0006) is the government's: the office
# suffix is dropped from a compiler found by '由…编制'.
COMPILER_OFFICE = (
    r"(?<=政府)(?:党政|综合)?办公(?:室|厅)$|(?:政务公开|信息公开)[^\s，。]{0,12}办公室$"
)
# A contact office of a unit: '东阳市财政局政府信息公开领导小组办公室' (0080) is 东阳市财政局's.
CONTACT_OFFICE = (
    r"(?:政府信息公开|政务公开|信息公开)[^\s，。]{0,12}办公室$"
    r"|(?:(?<=政府)|(?<=[局委会])(?!会))[^\s，。]{0,8}办公室$"
    r"|(?<=政府)信息中心$"  # 请与永定县政府信息中心联系 (0017)
)

# --- the report year, where core's rules find none -------------------------------------------
# (pattern with one group: the year; where seen). YEAR stands for core.YEAR_PATTERN.
EXTRA_YEAR_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"统计期限\s*(?:是|为)?\s*(?:自|从)\s*(YEAR)", "统计期限是自2020年1月1日起 (reports/0086)"),
    (r"(?:^|[。\n])[ \t\u3000]*[^，,。\n\d]{0,12}?(YEAR)\s*年度?[^，,。\n\d]{0,20}?"
     r"(?:政府信息公开|政务信息公开|政务公开|信息公开)工作",
     "a paragraph opening '2021年城中区政务公开工作在…' (0034), '儋州市2016年政府信息公开工作,…' (0111)"),
    (r"(YEAR)\s*年(?:年报|年度报告)", "2009年年报根据《条例》编制 (reports/0109)"),
    (r"(?:^|\n)\s*In ((?:19|20)[0-9]{2}), the", "an English translation: 'In 2020, the district will…' (0163)"),
)
SUBJECT_WINDOW = 1500
# Not a unit: words that precede a year in a sentence about another document or the writer itself.
SUBJECT_NOT_UNIT = (
    r"关于|做好|认真|^我|^本|^该|年度?$|^的|通知|条例|格式|要求|期限|方案|列为|检索"
    r"|^工作|工作$|^公开|公开(?:工作)?$|指南"
    r"|[0-9]件|^[（(]"
)
# Page chrome glued before a title's unit by the page-to-text step, removed from its front:
# '无障碍浏览兴华乡…' (0066), '全文检索2022年…' (0153), '政府信息公开福州市晋安区…' (0044), a date
# '二〇一〇年一月十九日贺州市…' (0014), a document number '赤政﹝2011﹞6号赤锡乡…' (0070), a mirror's
# host 'puroview.com沙头镇…' (0132), a menu '网站工作年度报表' (0124).
SUBJECT_CHROME = (
    r"^(?:无障碍浏览|无障碍|全文检索|政府信息公开(?=\S{2,}?[省市县区乡镇])|[a-zA-Z0-9.:/_-]+"
    r"|[〇○零一二三四五六七八九十0-9]{2,4}年[〇○零一二三四五六七八九十0-9]{1,2}月[〇○零一二三四五六七八九十0-9]{1,3}日"
    r"|\S{1,8}[〔﹝\[(（][0-9]{4}[〕﹞\])）][0-9]+号|\S{0,12}?报表)"
)
# '南宁经济技术开发区管理委员会(以下简称经开区管委会)' (0083).
SUBJECT_ALIAS_NOTE = r"[(（]以下简称[^)）]*[)）]$"
# A title's agency may carry the disclosure words before its year ('伊宁县政府信息公开工作2023年度报告').
SUBJECT_TRAILING_WORDS = r"(?:政府|政务)?(?:信息公开|政务公开)(?:工作)?(?:年度)?$"
# Title prefixes that are not the unit: '(文字版)' (reports/0055, 0056).
SUBJECT_PREFIX = r"^[(（][^()（）]{1,8}[)）]"
# fmt: on
