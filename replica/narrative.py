"""Short narrative bodies for the generated reports, and the headline figures they state.

Numbers and wording are drawn from a `random.Random` seeded with the report's identity, so
every run serves the same bytes. Each phrasing is one a real report uses; the figures recorded
in the truth are exactly those the chosen sentences state (see figures.md for the keys).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (low, high) of items disclosed proactively, and of applications received, by publisher kind.
_SCALE = {
    "government": ((3000, 21000), (40, 260)),
    "department": ((40, 650), (0, 30)),
    "township": ((30, 420), (0, 12)),
}


@dataclass(frozen=True)
class Numbers:
    """The figures one report states."""

    year: int
    proactive: int
    received: int
    online: int
    in_person: int
    letter: int
    carried_over: int  # stated from 2019 on only
    granted: int
    review: int
    litigation: int
    # The identity whose wording the text uses: another year's, for a report copied from it.
    text_identity: str | None = None

    @property
    def answered(self) -> int:
        return self.received + self.carried_over


def numbers_for(identity: str, kind: str, year: int) -> Numbers:
    """The figures of one generated report; `identity` seeds them (portal|publisher|year)."""
    rng = random.Random(f"{identity}|numbers")
    (p_lo, p_hi), (a_lo, a_hi) = _SCALE[kind]
    # Some small bodies receive no application at all in a year; a government always does.
    quiet = kind != "government" and rng.random() < 0.15
    received = 0 if quiet else rng.randint(a_lo, a_hi)
    online = rng.randint(0, received)
    in_person = rng.randint(0, received - online)
    carried = rng.randint(0, 3) if year >= 2019 and kind != "township" else 0
    disputes = kind == "government" or rng.random() < 0.1
    return Numbers(
        year=year,
        proactive=rng.randint(p_lo, p_hi),
        received=received,
        online=online,
        in_person=in_person,
        letter=received - online - in_person,
        carried_over=carried,
        granted=rng.randint(0, received + carried),
        review=rng.randint(0, 4) if disputes else 0,
        litigation=rng.randint(0, 2) if disputes else 0,
    )


def figures_of(n: Numbers) -> dict[str, int]:
    """The figure keys the body of `paragraphs(n, ...)` states, with their values."""
    figs = {
        "headline.proactive_total": n.proactive,
        "headline.applications_received": n.received,
        "headline.review_total": n.review,
        "headline.litigation_total": n.litigation,
        "headline.fees_yuan": 0,
    }
    if n.year >= 2019:
        figs["headline.applications_carried_over"] = n.carried_over
    elif n.received:
        figs["headline.applications_online"] = n.online
        figs["headline.applications_in_person"] = n.in_person
        figs["headline.applications_letter"] = n.letter
    if n.answered:
        figs["headline.applications_answered"] = n.answered
        figs["headline.applications_granted"] = n.granted
    return figs


def self_reference(name: str, kind: str) -> str:
    """How a report refers to its own body (我局, 我委, 我镇, 全市 …)."""
    if kind == "government":
        return "全市"
    for suffix, word in (
        ("街道", "我街道"),
        ("镇", "我镇"),
        ("委员会", "我委"),
        ("委", "我委"),
        ("办", "我办"),
    ):
        if name.endswith(suffix):
            return word
    return "我局"


def paragraphs(n: Numbers, author: str, we: str, probe: str | None, identity: str) -> list[str]:
    """The body of one generated report, as paragraphs of plain text."""
    rng = random.Random(f"{n.text_identity or identity}|text")
    y = n.year
    body = [_intro(rng, author, y), "一、总体情况", _overview(rng, we, y)]
    body += ["二、主动公开政府信息情况", _proactive(rng, we, n)]
    body += ["三、依申请公开政府信息情况", _applications(rng, n)]
    body += ["四、政府信息公开收费及减免情况", _fees(rng, y)]
    body += ["五、因政府信息公开申请行政复议、提起行政诉讼情况", _disputes(n)]
    body += ["六、存在的主要问题及改进情况", _problems(rng, we)]
    if probe:
        body.append(
            f"（本报告联系人：办公室 沈{probe}，联系电话：0573-8802{rng.randint(1000, 9999)}）"
        )
    body.append(author)
    return body


def _intro(rng: random.Random, author: str, y: int) -> str:
    period = f"本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。"
    if y >= 2019:
        return (
            "本报告根据新修订的《中华人民共和国政府信息公开条例》（以下简称《条例》）和"
            f"国务院办公厅政府信息与政务公开办公室有关要求，由{author}编制。" + period
        )
    return rng.choice(
        [
            f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求，由{author}编制。"
            "全文包括概述、主动公开政府信息情况、依申请公开政府信息情况、收费及减免情况、"
            "行政复议和行政诉讼情况、存在的主要问题和改进措施。" + period,
            "根据《中华人民共和国政府信息公开条例》和上级关于做好政府信息公开工作年度报告的通知要求，"
            f"现将{author}{y}年度政府信息公开工作情况报告如下。" + period,
        ]
    )


def _overview(rng: random.Random, we: str, y: int) -> str:
    basis = rng.choice(
        ["《条例》和市委、市政府关于政务公开工作的部署", "上级政务公开工作要点", "《条例》各项规定"]
    )
    aim = rng.choice(
        ["进一步健全信息公开工作机制", "扎实做好重点领域信息公开", "不断提升政务公开质量和实效"]
    )
    return f"{y}年，{we}认真贯彻落实{basis}，坚持以公开为常态、不公开为例外，{aim}。"


def _proactive(rng: random.Random, we: str, n: Numbers) -> str:
    return rng.choice(
        [
            f"全年{we}主动公开政府信息{n.proactive}条，内容涵盖机构职能、政策文件、规划计划、工作动态等。",
            f"{n.year}年度共主动公开政府信息{n.proactive}条。",
            f"通过政府信息公开平台主动公开信息共计{n.proactive}条，重点公开了财政资金、人事信息和办事服务等内容。",
        ]
    )


def _applications(rng: random.Random, n: Numbers) -> str:
    if n.year >= 2019:
        if not n.answered:
            return "本年未收到政府信息公开申请，也无上年结转申请。"
        return (
            f"本年新收政府信息公开申请{n.received}件，上年结转{n.carried_over}件；"
            f"办结{n.answered}件，其中同意公开{n.granted}件，其余均依法作出答复。"
        )
    if not n.received:
        return "全年未收到政府信息公开申请。"
    lead = rng.choice(["全年共收到政府信息公开申请", f"{n.year}年度共受理政府信息公开申请"])
    return (
        f"{lead}{n.received}件，其中网上申请{n.online}件、当面申请{n.in_person}件、"
        f"信函申请{n.letter}件。已办结{n.answered}件，其中同意公开{n.granted}件。"
    )


def _fees(rng: random.Random, y: int) -> str:
    if y >= 2019:
        return "本年度未收取信息处理费。"
    return rng.choice(
        [f"{y}年度未收取任何政府信息公开费用。", "全年未收取任何费用，也未发生减免。"]
    )


def _disputes(n: Numbers) -> str:
    if not (n.review or n.litigation):
        return "本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。"
    return (
        f"本年度因政府信息公开被申请行政复议{n.review}件、被提起行政诉讼{n.litigation}件，"
        "结果均为维持。"
    )


def _problems(rng: random.Random, we: str) -> str:
    issue = rng.choice(
        ["部分信息更新不够及时", "政策解读形式较为单一", "依申请公开答复规范化程度有待提高"]
    )
    fix = rng.choice(
        ["加强信息公开业务培训", "完善信息发布审核机制", "丰富政策解读方式，提升公开实效"]
    )
    return f"{we}政府信息公开工作仍存在{issue}等问题。下一步将{fix}，推动政务公开工作再上新台阶。"
