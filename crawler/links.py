"""Links of an HTML fragment, found in time linear in its length, whatever a hostile page holds.

A regex such as `<a\\b([^>]*)>(.*?)</a>` run over a page restarts at every `<a` that has no `</a>`
after it and scans to the end each time: 720 KB of unclosed `<a href>` cost minutes inside the
crawl's event loop. Here every closing tag is located once, and each opening tag is matched to
the first closing tag after it by bisection; the results are those of that regex.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left

OPEN = re.compile(r"<a\b([^>]*)>", re.I)
CLOSE = re.compile(r"</a>", re.I)
HREF = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.I)
TITLE = re.compile(r"""\btitle\s*=\s*["']([^"']*)["']""", re.I)
TAG = re.compile(r"<[^>]+>")

Link = tuple[str, str]  # (href as written, title)


def anchors(text: str) -> list[Link]:
    """Every `<a href>` of an HTML fragment with its title (the attribute, else the link text)."""
    found = []
    for attrs, inner in _elements(text):
        href = HREF.search(attrs)
        if href:
            title = TITLE.search(attrs)
            label = title.group(1) if title else strip_tags(inner)
            found.append((href.group(1), html.unescape(label).strip()))
    return found


def _elements(text: str) -> list[tuple[str, str]]:
    """(attributes, inner text) of each `<a …>…</a>`, as `<a\\b([^>]*)>(.*?)</a>` finds them."""
    closes = [m.start() for m in CLOSE.finditer(text)]
    # No opening tag can end past the last `>`: searching up to it, a `<a` never scans on to
    # the end of the text only to fail.
    end = text.rfind(">") + 1
    elements, pos = [], 0
    while (tag := OPEN.search(text, pos, end)) is not None:
        index = bisect_left(closes, tag.end())
        if index == len(closes):
            break  # no `</a>` after this tag, hence none after any later one
        elements.append((tag.group(1), text[tag.end() : closes[index]]))
        pos = closes[index] + len("</a>")
    return elements


def strip_tags(fragment: str) -> str:
    """`fragment` without its tags; a `<` with no `>` after it is text (linear, as in _elements)."""
    end = fragment.rfind(">") + 1
    return TAG.sub("", fragment[:end]) + fragment[end:]


def between(text: str, start: re.Pattern[str], end: re.Pattern[str]) -> list[str]:
    """What lies between each `start` and the first `end` after it, as `start(.*?)end` (re.S)
    finds it, in linear time: neither pattern may scan unboundedly from a failing start."""
    ends = list(end.finditer(text))
    starts = [m.start() for m in ends]
    found, pos = [], 0
    while (opening := start.search(text, pos)) is not None:
        index = bisect_left(starts, opening.end())
        if index == len(ends):
            break
        found.append(text[opening.end() : starts[index]])
        pos = ends[index].end()
    return found


def first_tag(text: str, name: str, containing: str) -> str | None:
    """The first `<name …>` tag whose text contains `containing` (case-insensitive)."""
    tag = re.compile(rf"<{name}\b[^>]*>", re.I)
    wanted = containing.lower()
    for match in tag.finditer(text, 0, text.rfind(">") + 1):
        if wanted in match.group(0).lower():
            return match.group(0)
    return None


QUOTED_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""", re.I)
# What makes a link an attachment (portals.md: downfile.jsp → 302 → /attach/…; TRS keeps the
# 全真版 PDF next to the article, as ./P0…pdf): a download servlet, or a document's extension at
# the end of the path, a query string allowed after it.
ATTACHMENT_VALUE = re.compile(r"downfile\.jsp|\.(?:pdf|docx?|xlsx?|wps|et)(?:\?|\Z)", re.I)


def attachment_hrefs(text: str) -> list[str]:
    """The quoted hrefs of a page that name attachments, in order, as the single regex
    `href=["']([^"']*(?:downfile\\.jsp[^"']*|\\.(?:pdf|…)(?:\\?[^"']*)?))["']` finds them; that
    regex backtracked through every `.pdf?` of an unclosed value (31 s at 87 KB)."""
    found, pos = [], 0
    while (match := QUOTED_HREF.search(text, pos)) is not None:
        if ATTACHMENT_VALUE.search(match.group(1)):
            found.append(match.group(1))
            pos = match.end()
        else:  # the regex would retry from the next character: an `href=` may start inside
            pos = match.start() + 1
    return found
