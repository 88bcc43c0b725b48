"""Consistency rules over a report's own figures. A failed check is a finding, never a fix."""

from __future__ import annotations

from collections.abc import Sequence

from parsers.model import Check, Figure, Number
from parsers.rules.core import APPLICATION_CHANNELS, NATIONAL2014_SUMS, PROSE_COUNTERPARTS
from parsers.rules.gov import APPLICATION_COLUMNS, gov_sums

_H = "headline."
# (total key, part keys) per template, built once: the gov forms' ~50 sums are many f-strings.
_NATIONAL_SUMS = tuple(
    (f"stats.{t}", tuple(f"stats.{p}" for p in parts)) for t, parts in NATIONAL2014_SUMS
)
_GOV_SUMS = {t: tuple(gov_sums(t)) for t in ("gov2019", "gov2021")}


def all_checks(figures: Sequence[Figure], template: str) -> list[Check]:
    """Headline rules, the template's table sums, and prose-versus-table agreement."""
    values = {f.key: f.value for f in figures}
    blank = {f.key for f in figures if f.blank}
    found = [_channels(values), _outcomes(values), _agreement(values)]
    sums = _NATIONAL_SUMS
    if template in _GOV_SUMS:
        found += [_balance(values, c) for c in APPLICATION_COLUMNS]
        sums = _GOV_SUMS[template]
    found += [_sum(total, parts, values, blank) for total, parts in sums]
    return [c for c in found if c is not None]


def _channels(values: dict[str, Number]) -> Check | None:
    """Applications by channel add up to applications received.

    Prose often names only the channels used (seed 000: 网上申请15件，当面申请2件), so with some
    channels unstated the rule is that the stated ones do not exceed the total.
    """
    received = values.get(_H + "applications_received")
    stated = {c: values[_H + f"applications_{c}"] for c in APPLICATION_CHANNELS
              if _H + f"applications_{c}" in values}  # fmt: skip
    if received is None or not stated:
        return None
    total = sum(stated.values())
    missing = [c for c in APPLICATION_CHANNELS if c not in stated]
    terms = " + ".join(f"{c} {v}" for c, v in stated.items())
    if missing:
        detail = f"{terms} = {total} <= received {received} ({', '.join(missing)} not stated)"
        return Check("applications_by_channel", total <= received, detail)
    return Check(
        "applications_by_channel", total == received, f"{terms} = {total}; received {received}"
    )


def _outcomes(values: dict[str, Number]) -> Check | None:
    """Granted + partially granted + denied cannot exceed the applications answered."""
    answered = values.get(_H + "applications_answered")
    keys = ("granted", "partially_granted", "denied")
    stated = {
        k: values[_H + f"applications_{k}"] for k in keys if _H + f"applications_{k}" in values
    }
    if answered is None or not stated:
        return None
    total = sum(stated.values())
    terms = " + ".join(f"{k} {v}" for k, v in stated.items())
    return Check(
        "outcomes_within_answered", total <= answered, f"{terms} = {total} <= answered {answered}"
    )


def _balance(values: dict[str, Number], column: str) -> Check | None:
    """新收 + 上年结转 = （七）总计 + 结转下年度, per column of table 三 (figures.md)."""
    keys = [f"applications.{r}.{column}"
            for r in ("new_received", "carried_over", "total_processed", "carried_to_next")]  # fmt: skip
    if any(k not in values for k in keys):
        return None
    new, over, done, carried = (values[k] for k in keys)
    detail = f"new {new} + carried over {over} = {new + over}; processed {done} + carried to next {carried} = {done + carried}"
    return Check(f"balance:applications.{column}", new + over == done + carried, detail)


def _sum(
    total_key: str, part_keys: Sequence[str], values: dict[str, Number], blank: set[str]
) -> Check | None:
    """A table total equals the sum of its parts (run only when all of them were read).

    Blank cells count as 0 and are marked in the detail, so a reader sees why a check failed.
    """
    if total_key not in values or any(k not in values for k in part_keys):
        return None

    def shown(key: str) -> str:
        return f"{values[key]}{' (blank)' if key in blank else ''}"

    total = sum(values[k] for k in part_keys)
    detail = f"{total_key} {shown(total_key)}; {' + '.join(map(shown, part_keys))} = {total}"
    return Check(f"sum:{total_key}", values[total_key] == total, detail)


def _agreement(values: dict[str, Number]) -> Check | None:
    """The figures the prose states (prose.*) agree with the ones the table gives."""
    both = [
        (key, value, values[other])
        for key, value in values.items()
        if key.startswith("prose.") and (other := counterpart(key)) in values
    ]
    if not both:
        return None
    differ = [f"{k}: prose {p}, table {t}" for k, p, t in both if p != t]
    detail = "; ".join(differ) if differ else f"{len(both)} figures agree"
    return Check("prose_agrees_with_table", not differ, detail)


def counterpart(prose_key: str) -> str:
    """The table figure a prose.* figure states: stats.via_website, or headline.<name>."""
    return PROSE_COUNTERPARTS.get(prose_key, _H + prose_key.removeprefix("prose."))
