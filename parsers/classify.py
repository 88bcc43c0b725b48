"""What is a report: a verdict from the title and the body, kept out with a reason when not.

Pure: the rules are data (rules/kinds.py); the report evidence is identity.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.rules.kinds import (
    BODY_MARKERS,
    BODY_WINDOW,
    DISCLOSURE_CONTEXT,
    GARBLED_SHARE,
    HEADING_LINES,
    HEADING_MAX_CHARS,
    HEADING_NOT,
    HEADING_WORDS,
    QUOTED,
    REPORT_BODY_MARKERS,
    TITLE_MARKERS,
)

REPORT = "report"
OTHER = "other"

_TITLE_MARKERS = tuple((reason, re.compile(p)) for reason, p, _ in TITLE_MARKERS)
_BODY_MARKERS = tuple((reason, re.compile(p, re.M)) for reason, p, _ in BODY_MARKERS)
_HEADING_RE = re.compile(HEADING_WORDS)
_REPORT_BODY = tuple((reason, re.compile(p)) for reason, p, _ in REPORT_BODY_MARKERS)
_DISCLOSURE_RE = re.compile(DISCLOSURE_CONTEXT)
_HEADING_NOT_RE = re.compile(HEADING_NOT)
_QUOTED_RE = re.compile(QUOTED)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Verdict:
    """`kind` is REPORT or OTHER; `reason` says which evidence decided, for people."""

    kind: str
    reason: str

    @property
    def is_report(self) -> bool:
        return self.kind == REPORT


def classify(title: str | None, text: str, report_evidence: str | None) -> Verdict:
    """The page's verdict: a non-report marker in its title (else its heading lines, else the
    opening of its body) keeps it out; else `report_evidence` (what identified it as an annual
    report, None when nothing did) decides."""
    if _garbled(text):
        return Verdict(OTHER, "unreadable text: its characters were lost to a wrong charset")
    lines = [title] if title else _heading_lines(text)
    for line in lines:
        if found := _marker(line):
            return Verdict(OTHER, f"{found}: {line!r}")
    opening = text[:BODY_WINDOW]
    for reason, rx in _BODY_MARKERS:
        if m := rx.search(opening):
            return Verdict(OTHER, f"{reason}: {m.group(0).strip()!r} in its text")
    evidence = report_evidence or _body_evidence(opening)
    if evidence is None:
        return Verdict(OTHER, "no annual report recognised in its title or text")
    return Verdict(REPORT, evidence)


def _body_evidence(opening: str) -> str | None:
    """A report's own words in its opening, for pages that start with the body."""
    for reason, rx in _REPORT_BODY:
        if (m := rx.search(opening)) and (_DISCLOSURE_RE.search(opening) or "(English)" in reason):
            return f"{reason}: {m.group(0).strip()!r}"
    return None


def _marker(line: str) -> str | None:
    line = _QUOTED_RE.sub("《》", line)
    return next((reason for reason, rx in _TITLE_MARKERS if rx.search(line)), None)


def _heading_lines(text: str) -> list[str]:
    lines = [ln.strip(" |\t\u3000") for ln in text.splitlines() if ln.strip()][:HEADING_LINES]
    return [
        ln
        for ln in lines
        if len(ln) <= HEADING_MAX_CHARS
        and _HEADING_RE.search(ln)
        and not _HEADING_NOT_RE.search(ln)
    ]


def _garbled(text: str) -> bool:
    """Mostly '?' where characters were, and no CJK left (not-reports/0001)."""
    sample = "".join(text[:BODY_WINDOW].split())
    if not sample or _CJK_RE.search(sample):
        return False
    return sample.count("?") / len(sample) > GARBLED_SHARE
