"""The archive's answers as files: reports, figures, statuses and findings as CSV or JSON Lines.

Field names are those of the listing commands (interface.md). Dates are ISO 8601 in Asia/Shanghai;
figure values stay exact decimals as text; lists (a report's other copies, a status's evidence) are
JSON in a CSV cell. The raw captures are exported by archive.warc.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.files import csv_cell, staged_files
from archive.models import Document, Publisher
from questions.copies import claimed_date
from questions.deadlines import DeadlineRules, deadline_for
from questions.evidence import stood
from questions.figures import figure_values
from questions.findings import FindingRow, findings
from questions.reports import list_reports
from questions.status import missing, timeliness

TABLE_FORMATS = ("csv", "jsonl")
REPORT_FIELDS = (
    "id", "portal", "publisher", "year", "title", "url", "index_no", "written_date",
    "published_at", "first_seen_at", "template", "versions", "captures", "copies",
)  # fmt: skip
FIGURE_FIELDS = ("report_id", "portal", "publisher", "year", "key", "value")
STATUS_FIELDS = (
    "year", "portal", "publisher", "kind", "status", "deadline", "published_at",
    "first_seen_at", "days_late", "url", "evidence",
)  # fmt: skip
FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(FindingRow))


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


def export_tables(
    session: Session,
    out_dir: Path,
    fmt: str,
    rules: DeadlineRules,
    as_of: date,
    replace: bool = False,
    until: datetime | None = None,
) -> list[Written]:
    """reports, figures, statuses and findings, one file each in `fmt` (csv or jsonl); statuses
    judged at `as_of`; with `until`, the archive as it stood then (questions.evidence.stood).

    The four files appear together, whole, once all are written (archive.files); an existing
    one is replaced only when `replace` is set, else `ExportRefused` and nothing is written."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    reports = list_reports(session, until=until)
    figures = figure_values(session, None)
    if until is not None:
        # A figure as of `until` is its report's, while the report existed then (the values are
        # those of its latest version: questions.figures reads no older one).
        present = {r.id for r in reports}
        figures = [f for f in figures if f.report_id in present]
    tables: dict[str, tuple[Sequence[str], Sequence[Any]]] = {
        "reports": (REPORT_FIELDS, reports),
        "figures": (FIGURE_FIELDS, figures),
        "statuses": (STATUS_FIELDS, statuses(session, rules, as_of, until)),
        "findings": (FINDING_FIELDS, findings(session, rules, until=until)),
    }
    written = []
    with staged_files(out_dir, replace) as files:
        for name, (fields, rows) in tables.items():
            with files.open(f"{name}.{fmt}") as fh:
                count = write_table(fh, fields, rows, fmt)
            written.append(Written(out_dir / f"{name}.{fmt}", count))
    return written


def statuses(
    session: Session, rules: DeadlineRules, as_of: date, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every expected report's status, for each year the archive spans: missing (not_yet_due,
    unreachable, gone), late, undated, and on time (dated by the deadline, or dateless and seen
    by then), as the board shows them."""
    rows: list[dict[str, Any]] = []
    for year in _years(session):
        rows += [dataclasses.asdict(r) for r in missing(session, year, as_of, rules, until)]
        told = timeliness(session, year, rules, until)
        rows += [{**_row_dict(r), "status": "late"} for r in told.late]
        rows += [dataclasses.asdict(r) for r in [*told.undated, *told.seen_in_time]]
        listed = {(r.portal, r.publisher) for r in told.late}
        listed |= {(r.portal, r.publisher) for r in [*told.undated, *told.seen_in_time]}
        rows += _dated_on_time(session, year, rules, until, listed)
    return rows


def _dated_on_time(
    session: Session,
    year: int,
    rules: DeadlineRules,
    until: datetime | None,
    listed: set[tuple[str, str]],
) -> list[dict[str, Any]]:
    """The matched reports of `year` that claim a date and that `timeliness` did not list (it
    lists the late and the dateless ones): on time, judged by their earliest claimed date."""
    claimed = claimed_date(Document)
    stmt = (
        select(Publisher.portal, Publisher.name, Publisher.kind, claimed, Document.first_seen_at)
        .add_columns(Document.url)
        .join(Publisher, Document.publisher_id == Publisher.id)
        .where(Document.report_year == year, claimed.is_not(None))
        .where(or_(Publisher.first_year.is_(None), Publisher.first_year <= year))
        .where(or_(Publisher.last_year.is_(None), Publisher.last_year >= year))
        .order_by(claimed, Document.id)
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for portal, name, kind, day, seen, url in session.execute(
        stood(stmt, Document.first_seen_at, until)
    ):
        if (portal, name) in listed or (portal, name) in found:
            continue
        found[(portal, name)] = {
            "year": year, "portal": portal, "publisher": name, "kind": kind, "status": "on_time",
            "deadline": deadline_for(rules, year, kind), "published_at": day,
            "first_seen_at": seen, "days_late": 0, "url": url,
            "evidence": f"claims {day}, due {deadline_for(rules, year, kind)}: on time",
        }  # fmt: skip
    return list(found.values())


def write_table(fh: IO[str], fields: Sequence[str], rows: Iterable[Any], fmt: str) -> int:
    """Rows (dataclasses or dicts) reduced to `fields`, as CSV or JSON Lines; returns the count."""
    count = 0
    writer = csv.DictWriter(fh, fieldnames=list(fields)) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        data = {f: plain(_row_dict(row).get(f)) for f in fields}
        if writer is not None:
            writer.writerow({k: csv_cell(v) for k, v in data.items()})
        else:
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
        count += 1
    return count


def plain(value: Any) -> Any:
    """A JSON-ready value: ISO dates in their own zone, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _row_dict(row: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    return dict(row)


def _years(session: Session) -> range:
    """From the first to the last report year seen or a publisher existed in."""
    lo, hi = session.execute(
        select(func.min(Document.report_year), func.max(Document.report_year))
    ).one()
    plo, phi = session.execute(
        select(func.min(Publisher.first_year), func.max(Publisher.last_year))
    ).one()
    years = [y for y in (lo, hi, plo, phi) if y is not None]
    return range(min(years), max(years) + 1) if years else range(0)
