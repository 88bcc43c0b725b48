"""Consistency rules over a report's own figures. A failed check is a finding, never a fix."""

from __future__ import annotations

from collections.abc import Sequence

from parsers.model import Check, Figure, Number
from parsers.rules import APPLICATION_CHANNELS, NATIONAL2014_SUMS

_H = "headline."


def all_checks(
    figures: Sequence[Figure], prose: Sequence[Figure], table: Sequence[Figure]
) -> list[Check]:
    """Headline rules, national2014 sums, and prose-versus-table agreement, as applicable."""
    values = {f.key: f.value for f in figures}
    blank = {f.key for f in figures if f.blank}
    found = [_channels(values), _outcomes(values), _agreement(prose, table)]
    found += [_sum("stats." + total, ["stats." + p for p in parts], values, blank)
              for total, parts in NATIONAL2014_SUMS]  # fmt: skip
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


def _sum(
    total_key: str, part_keys: list[str], values: dict[str, Number], blank: set[str]
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


def _agreement(prose: Sequence[Figure], table: Sequence[Figure]) -> Check | None:
    """The headline figures the prose states agree with the ones the table gives."""
    table_values = {f.key: f.value for f in table}
    both = [(f.key, f.value, table_values[f.key]) for f in prose if f.key in table_values]
    if not both:
        return None
    differ = [f"{k}: prose {p}, table {t}" for k, p, t in both if p != t]
    detail = "; ".join(differ) if differ else f"{len(both)} figures agree"
    return Check("prose_agrees_with_table", not differ, detail)
