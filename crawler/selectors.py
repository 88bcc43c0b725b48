"""Selectors that say how many matches they expect and fail by name (spatula's idea).

A layout change on a portal must surface as `LayoutChanged` naming the portal, the selector and
the URL, never as `None` flowing quietly into the archive.
"""

from __future__ import annotations

import re


class LayoutChanged(Exception):
    """A selector found a different number of matches than the page layout promises."""

    def __init__(self, portal: str, selector: str, url: str, count: int, expected: str) -> None:
        super().__init__(
            f"{portal}: layout may have changed at {url}: {selector!r} matched {count}, expected {expected}"
        )
        self.portal, self.selector, self.url, self.count = portal, selector, url, count


def select_many(
    pattern: re.Pattern[str], text: str, *, portal: str, url: str, min: int = 1
) -> list[str]:
    """All first-group matches of `pattern`; at least `min` of them or `LayoutChanged`."""
    found = [m.group(1) for m in pattern.finditer(text)]
    if len(found) < min:
        raise LayoutChanged(portal, pattern.pattern, url, len(found), f">= {min}")
    return found


def select_one(pattern: re.Pattern[str], text: str, *, portal: str, url: str) -> str:
    """The first group of the single expected match, or `LayoutChanged`."""
    found = select_many(pattern, text, portal=portal, url=url, min=1)
    return found[0]


def select_optional(pattern: re.Pattern[str], text: str) -> str | None:
    """The first group of the first match, where the page may legitimately lack it."""
    match = pattern.search(text)
    return match.group(1) if match else None
