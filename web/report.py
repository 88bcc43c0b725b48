"""One report's page: who, every date with its source, the deadline and the verdict (from
questions.status), versions, figures with provenance, checks, findings, attachments, captures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.clock import local
from archive.models import Capture, Document, Publisher
from questions.deadlines import DeadlineRules
from questions.findings import FindingRow, findings
from questions.reports import ReportDetail, VersionRow, get_report, report_verdict
from web.diff import DiffRow, side_by_side

CAPTURE_FIELDS = (
    "id", "run_id", "portal", "kind", "url", "final_url", "status", "outcome", "fetched_at",
    "content_type", "encoding", "detected_type", "sha256", "finding", "listed_title",
)  # fmt: skip
FIGURE_FIELDS = ("version_id", "key", "value", "text", "start", "end", "capture_id", "snapshot")


@dataclass(frozen=True)
class DateRow:
    label: str
    value: str | None
    source: str


@dataclass(frozen=True)
class ReportPage:
    detail: ReportDetail
    findings: list[FindingRow]
    publisher_kind: str | None
    deadline: str | None
    verdict: str
    dates: list[DateRow]
    captures: list[dict[str, Any]]
    marked: list[tuple[str, str | None]]  # the latest text, as (segment, figure key or None)
    diffs: list[list[DiffRow]]  # each version against the one before, side by side


def report_page(session: Session, report_id: int, rules: DeadlineRules) -> ReportPage | None:
    detail = get_report(session, report_id)
    if detail is None:
        return None
    doc = session.get_one(Document, report_id)
    kind = session.scalar(select(Publisher.kind).where(Publisher.id == doc.publisher_id))
    deadline, verdict = report_verdict(session, detail, kind, rules)
    captures = [
        {f: getattr(c, f) for f in CAPTURE_FIELDS}
        for c in session.scalars(
            select(Capture).where(Capture.document_id == report_id).order_by(Capture.fetched_at)
        )
    ]
    latest = detail.versions[-1] if detail.versions else None
    return ReportPage(
        detail,
        findings(session, rules, report_id=report_id),
        kind,
        deadline.isoformat() if deadline else None,
        verdict,
        _dates(detail, kind, deadline.isoformat() if deadline else None),
        captures,
        marked_text(latest) if latest else [],
        [side_by_side(a.text, b.text) for a, b in pairwise(detail.versions)],
    )


def report_json(p: ReportPage) -> dict[str, Any]:
    """`nianbao show --json`'s shape, plus the deadline and verdict this page shows."""
    data = dataclasses.asdict(p.detail)
    data["findings"] = [dataclasses.asdict(f) for f in p.findings]
    return {**data, "deadline": p.deadline, "verdict": p.verdict}


def figure_records(p: ReportPage) -> list[dict[str, Any]]:
    return [
        {"version_id": v.id, "key": f.key, "value": f.value, **f.provenance}
        for v in p.detail.versions
        for f in v.figures
    ]


def _dates(detail: ReportDetail, kind: str | None, deadline: str | None) -> list[DateRow]:
    r = detail.report
    first = detail.versions[0] if detail.versions else None
    rows = [
        DateRow("发布时间 (published)", r.published_at, "stated on the page (its metadata)"),
        DateRow("成文日期 (written)", r.written_date, "stated on the page (its metadata)"),
        DateRow(
            "first seen",
            f"{r.first_seen_at:%Y-%m-%d %H:%M}",
            f"nianbao's first fetch (capture {first.capture_id})" if first else "nianbao",
        ),
    ]
    rows += [
        DateRow(f"version {v.id} seen", f"{v.seen_at:%Y-%m-%d %H:%M}", f"capture {v.capture_id}")
        for v in detail.versions
    ]
    source = f"the deadline rule for a {kind} report of {r.year}" if kind else "no publisher kind"
    rows.append(DateRow("deadline", deadline, source))
    return rows


def marked_text(version: VersionRow) -> list[tuple[str, str | None]]:
    """The text snapshot cut where each figure's provenance lies in it (when it does)."""
    spans = sorted(
        (int(f.provenance["start"]), int(f.provenance["end"]), f.key)
        for f in version.figures
        if _in_text(version, f.provenance)
    )
    out: list[tuple[str, str | None]] = []
    at = 0
    for start, end, key in spans:
        if start < at:
            continue  # overlapping spans: the first one is marked
        out += [(version.text[at:start], None), (version.text[start:end], key)]
        at = end
    out.append((version.text[at:], None))
    return out


def _in_text(version: VersionRow, prov: dict[str, Any]) -> bool:
    start, end = prov.get("start"), prov.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
        return False
    same_snapshot = prov.get("capture_id") in (None, version.capture_id)
    return same_snapshot and version.text[start:end] == prov.get("text")


def capture_row(session: Session, capture_id: int) -> dict[str, Any] | None:
    capture = session.get(Capture, capture_id)
    if capture is None:
        return None
    row = {f: getattr(capture, f) for f in CAPTURE_FIELDS}
    row["fetched_at"] = local(capture.fetched_at)
    row["headers"] = capture.headers
    row["document_id"] = capture.document_id
    return row
