"""Legal deadlines of the annual reports, as the `[deadlines]` settings state them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# The 2019 revision of the regulations moved the deadline from report year 2019 on.
FIRST_YEAR_OF_2019_RULE = 2019
ALL_KINDS = "all"
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


class NoDeadlineRule(LookupError):
    """`[deadlines]` has no rule for a publisher kind (and no `all` rule)."""


@dataclass(frozen=True)
class DeadlineRules:
    """Month-day deadlines in the year after the report year, by publisher kind (`all` = any kind)."""

    before_2019: dict[str, str] = field(default_factory=lambda: {ALL_KINDS: "03-31"})
    from_2019: dict[str, str] = field(
        default_factory=lambda: {"department": "01-31", "township": "01-31", "government": "03-31"}
    )

    def __post_init__(self) -> None:
        for era in (self.before_2019, self.from_2019):
            for kind, month_day in era.items():
                _parse_month_day(month_day, kind)


def deadline_for(rules: DeadlineRules, year: int, kind: str) -> date:
    """The last on-time day for the report of `year` by a publisher of `kind`."""
    era = rules.before_2019 if year < FIRST_YEAR_OF_2019_RULE else rules.from_2019
    month_day = era.get(kind, era.get(ALL_KINDS))
    if month_day is None:
        raise NoDeadlineRule(
            f"[deadlines] has no rule for publisher kind {kind!r} in report year {year}"
        )
    month, day = _parse_month_day(month_day, kind)
    return date(year + 1, month, day)


def _parse_month_day(text: str, kind: str) -> tuple[int, int]:
    match = _MONTH_DAY.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        month, day = int(match[1]), int(match[2])
        date(2001, month, day)  # a non-leap year: "02-29" would not exist every year
    except ValueError:
        raise ValueError(f'[deadlines] {kind} = {text!r} is not a month-day like "03-31"') from None
    return month, day
