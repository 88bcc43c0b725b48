"""Selectors that say how many matches they expect and fail by name (spatula's idea).

A layout change on a portal must surface as `LayoutChanged` naming the portal, the selector and
the URL, never as `None` flowing quietly into the archive. `match_one` / `match_many` state the
count of anything already found (links, records); `select_one` / `select_many` run a regex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class LayoutChanged(Exception):
    """A selector found a different number of matches than the page layout promises."""

    def __init__(self, portal: str, selector: str, url: str, count: int, expected: str) -> None:
        super().__init__(
            f"{portal}: layout may have changed at {url}: {selector!r} matched {count}, expected {expected}"
        )
        self.portal, self.selector, self.url, self.count = portal, selector, url, count


def match_one(found: Sequence[T], *, selector: str, portal: str, url: str) -> T:
    """The single item `selector` found (spatula's match_one): none, or two or more, is a
    layout that changed, since the first of two would be a guess."""
    if len(found) != 1:
        raise LayoutChanged(portal, selector, url, len(found), "exactly 1")
    return found[0]


def match_many(
    found: Sequence[T], *, selector: str, portal: str, url: str, min: int = 1
) -> Sequence[T]:
    """What `selector` found, when it found at least `min`."""
    if len(found) < min:
        raise LayoutChanged(portal, selector, url, len(found), f">= {min}")
    return found


def _first_group(match: re.Match[str]) -> str:
    # A pattern with alternative groups ("…" | '…') has one of them set.
    return next((g for g in match.groups() if g is not None), match.group(0))


def select_many(
    pattern: re.Pattern[str], text: str, *, portal: str, url: str, min: int = 1
) -> list[str]:
    """All first-group matches of `pattern`; at least `min` of them or `LayoutChanged`."""
    found = [_first_group(m) for m in pattern.finditer(text)]
    return list(match_many(found, selector=pattern.pattern, portal=portal, url=url, min=min))


def select_one(pattern: re.Pattern[str], text: str, *, portal: str, url: str) -> str:
    """The first set group of the one match of `pattern` in `text`; zero or two or more matches
    raise `LayoutChanged` with the pattern, the count and the URL."""
    found = [_first_group(m) for m in pattern.finditer(text)]
    return match_one(found, selector=pattern.pattern, portal=portal, url=url)


def select_optional(pattern: re.Pattern[str], text: str) -> str | None:
    """The first group of the first match, where the page may legitimately lack it."""
    match = pattern.search(text)
    return match.group(1) if match else None
