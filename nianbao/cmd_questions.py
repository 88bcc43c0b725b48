"""The questions the archive answers beyond missing and late: `findings`, `figures`, `export`,
`publishers`, how `late` prints its two listings (late and undated), and how `show` prints one
report (its copies, how it was matched, its diffs).

`--as-of DATE` is one time machine for missing, late, findings and export: the archive as it stood
at the end of DATE (questions.evidence.stood), deadlines judged on DATE."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from archive.clock import today
from archive.files import ExportRefused
from archive.warc import BlobsMissing, export_warc
from nianbao.clikit import (
    LATE_FIELDS,
    Context,
    date_type,
    emit,
    format_option,
    pass_ctx,
    portal_option,
    year_options,
    years_of,
    years_option,
)
from nianbao.errors import NianbaoError, UsageError
from nianbao.output import as_dicts, plain
from parsers.rules.catalog import figure_catalog
from questions.evidence import until_end_of
from questions.export import FIGURE_FIELDS, FINDING_FIELDS, export_tables
from questions.figures import figure_number, figure_values, known_keys
from questions.findings import FINDING_KINDS, FindingRow, findings
from questions.publishers import registry_rows, unmatched_labels
from questions.reports import ReportDetail, VersionRow
from questions.status import Timeliness

PUBLISHER_FIELDS = (
    "portal", "name", "kind", "aliases", "unit_code", "years", "reports", "first_year", "last_year",
)  # fmt: skip
CATALOG_FIELDS = ("key", "label", "templates")
UNMATCHED_FIELDS = ("portal", "label", "reports", "years", "matched_to", "example")
# `late --undated`: both listings in one table, told apart by `status` (late | undated).
TIMELINESS_FIELDS = (*LATE_FIELDS[:5], "status", *LATE_FIELDS[5:], "evidence")
AS_OF_HELP = (
    "The archive as it stood at the end of this date: captures fetched later do not exist, "
    "deadlines are judged on it."
)


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    return None if value is None else date_type(value)


def emit_late(told: list[Timeliness], years: str, undated: bool, fmt: str) -> None:
    """`nianbao late`: the late reports; with `undated`, in one table with them, every report
    that claims no date: `undated` (first seen after the deadline) or `on_time` (by it)."""
    overdue = [row for found in told for row in found.late]
    dateless = [row for found in told for row in found.undated]
    if not undated:
        emit(as_dicts(overdue, LATE_FIELDS), LATE_FIELDS, fmt, f"late {years}")
        if dateless:
            n = len(dateless)
            said = (
                f"{n} reports of {years} claim no date and were first seen only after the "
                "deadline: they may be late; --undated lists them"
                if n > 1
                else f"1 report of {years} claims no date and was first seen only after the "
                "deadline: it may be late; --undated lists it"
            )
            click.echo(f"note: {said}", err=True)
        return
    rows = [
        {
            **row,
            "status": "late",
            "evidence": f"its page claims {row['published_at']}, "
            f"{row['days_late']} day{'s' if row['days_late'] > 1 else ''} after the deadline",
        }
        for row in as_dicts(overdue, LATE_FIELDS)
    ]
    seen = [row for found in told for row in found.seen_in_time]
    rows += as_dicts(dateless + seen, TIMELINESS_FIELDS)
    rows.sort(key=lambda r: (r["year"], r["portal"], r["publisher"]))
    emit(as_dicts(rows, TIMELINESS_FIELDS), TIMELINESS_FIELDS, fmt, f"late or undated {years}")


@click.command("findings")
@year_options(required=False)
@portal_option
@click.option("--kind", type=click.Choice(FINDING_KINDS), help="Only findings of this kind.")
@click.option("--as-of", "as_of", metavar="DATE", callback=_date, help=AS_OF_HELP)
@format_option
@pass_ctx
def findings_command(
    obj: Context,
    year: int | None,
    years: tuple[int, int] | None,
    portal: str | None,
    kind: str | None,
    as_of: date | None,
    fmt: str,
) -> None:
    """Reports changed after publication, backdated, failing their checks, or copied from the
    previous year, each with its evidence. With --as-of, as the archive stood at the end of
    that day: only the reports, versions and crawls nianbao had by then.

    Example: nianbao findings --year 2019 --kind backdated
    Example: nianbao findings --years 2019-2021 --portal tongxiang --as-of 2022-03-01
    """
    span = years_of(year, years, "findings", required=False)
    with obj.reading() as session:
        until = until_end_of(as_of)
        if len(span) == 1:
            rows = findings(session, obj.settings.deadlines, year=span[0], until=until)
        else:
            rows = findings(session, obj.settings.deadlines, until=until)
    rows = [
        r
        for r in rows
        if (kind is None or r.kind == kind)
        and (portal is None or r.portal == portal)
        and (not span or (r.year is not None and span[0] <= r.year <= span[-1]))
    ]
    title = f"findings {span[0]}-{span[-1]}" if span else "findings"
    emit(as_dicts(rows, FINDING_FIELDS), FINDING_FIELDS, fmt, title)


@click.command("figures")
@click.argument("key", required=False)
@click.option(
    "--list",
    "listing",
    is_flag=True,
    help="Every figure key the parsers know, with its Chinese label and templates "
    "(as in docs/figures.md); needs no archive.",
)
@click.option("--publisher", help="Only this publisher (registry name, alias or 发布机构).")
@portal_option
@years_option()
@click.option("--wide", is_flag=True, help="One row per publisher, one column per year.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the figure over the years into this PNG file.",
)
@format_option
@pass_ctx
def figures_command(
    obj: Context,
    key: str | None,
    listing: bool,
    publisher: str | None,
    portal: str | None,
    years: tuple[int, int] | None,
    wide: bool,
    plot: Path | None,
    fmt: str,
) -> None:
    """One figure across publishers and years (keys as in docs/figures.md, or --list).

    Example: nianbao figures headline.applications_received --years 2019-2024 --plot out.png
    Example: nianbao figures --list --format csv
    """
    if listing:
        entries = [e._asdict() for e in figure_catalog()]
        emit(as_dicts(entries, CATALOG_FIELDS), CATALOG_FIELDS, fmt, "figure keys")
        return
    if key is None:
        raise UsageError("figures needs a KEY (`nianbao figures --list` lists them)")
    with obj.reading() as session:
        rows = figure_values(session, key, publisher=publisher, years=years, portal=portal)
        if not rows and key not in (keys := known_keys(session)):
            shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
            raise UsageError(f"no figure {key!r} in the archive (known: {shown or 'none'})")
    if wide:
        fields, table = _pivot(rows)
        emit(table, fields, fmt, key)
    else:
        values = [
            {**row, "value": figure_number(row["value"])} for row in as_dicts(rows, FIGURE_FIELDS)
        ]
        emit(values, FIGURE_FIELDS, fmt, key)
    if plot is not None:
        from nianbao.plot import plot_figure

        try:
            click.echo(f"plot written to {plot_figure(rows, key, plot)}", err=True)
        except ExportRefused as exc:
            raise UsageError(f"--plot: {exc}") from None


def _pivot(rows: list[Any]) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    years = sorted({r.year for r in rows if r.year is not None})
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        start = {"portal": r.portal, "publisher": r.publisher}
        line = table.setdefault((r.portal, r.publisher or ""), start)
        line[str(r.year)] = figure_number(r.value)
    return ("portal", "publisher", *map(str, years)), list(table.values())


@click.command("export")
@click.argument("fmt", metavar="{csv,jsonl,warc}", type=click.Choice(["csv", "jsonl", "warc"]))
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", callback=_date, help=f"csv, jsonl: {AS_OF_HELP}")
@click.option("--portal", help="warc: only this portal's captures.")
@click.option("--force", is_flag=True, help="Replace export files already in DIRECTORY.")
@pass_ctx
def export_command(
    obj: Context, fmt: str, directory: Path, as_of: date | None, portal: str | None, force: bool
) -> None:
    """Write reports, figures, statuses and findings as CSV or JSON Lines; or every raw capture
    as WARC files (one per portal) that standard web-archive tools replay. With --as-of, the
    tables are the archive as it stood at the end of that day (reports first seen by then, their
    figures, statuses judged on that day, findings from the versions and crawls of then).

    Files are written under temporary names and renamed into place once all are complete, so
    an interrupted export leaves the previous files whole (and a hidden `.….nianbao-tmp` file,
    removed by the next export into DIRECTORY). A file already there is never overwritten
    unless --force is given; then it is replaced in one step. If a capture's blob is missing
    from the store, the WARC export names the missing blobs, fails, and writes no file.

    Example: nianbao export warc out/
    Example: nianbao export csv out/ --force
    """
    if portal:
        obj.settings.portal(portal)
    try:
        with obj.reading() as session:
            if fmt == "warc":
                for f in export_warc(session, obj.store(), directory, portal, replace=force):
                    click.echo(f"{f.path}: {f.records} captures")
                return
            for written in export_tables(
                session,
                directory,
                fmt,
                obj.settings.deadlines,
                as_of or today(),
                replace=force,
                until=until_end_of(as_of),
            ):
                click.echo(f"{written.path}: {written.rows} rows")
    except (ExportRefused, BlobsMissing) as exc:
        raise NianbaoError(f"export {fmt}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror or exc}") from None


@click.command("publishers")
@click.option(
    "--unmatched", is_flag=True, help="The 发布机构 seen that match no registered publisher."
)
@click.option("--portal", help="Only this portal.")
@format_option
@pass_ctx
def publishers_command(obj: Context, unmatched: bool, portal: str | None, fmt: str) -> None:
    """The publisher registry with each one's reports; or, with --unmatched, the 发布机构 seen in
    reports that no registered name or alias spells (with the publisher the report was matched to
    by other means, if any), so the registry can be completed.

    Example: nianbao publishers --unmatched
    """
    if portal:
        obj.settings.portal(portal)
    with obj.reading() as session:
        if unmatched:
            rows = unmatched_labels(session, portal)
            emit(as_dicts(rows, UNMATCHED_FIELDS), UNMATCHED_FIELDS, fmt, "unmatched 发布机构")
        else:
            pubs = registry_rows(session, portal)
            emit(as_dicts(pubs, PUBLISHER_FIELDS), PUBLISHER_FIELDS, fmt, "publishers")


def print_report(detail: ReportDetail, found: list[FindingRow]) -> None:
    """`nianbao show`: the report, how it was matched, its copies and findings, every version
    with its figures, checks and diff from the one before, then the latest text."""
    data = plain(as_dicts([detail.report], tuple(detail.report.__dataclass_fields__))[0])
    for key, value in data.items():
        click.echo(f"{key}: {'' if value is None else value}")
    click.echo(f"matched: {detail.matched or 'no registered publisher'}")
    if detail.copy_of:
        click.echo(f"copy of report {detail.copy_of} (`nianbao show {detail.copy_of}`)")
    for f in found:
        click.echo(f"finding {f.kind}: {f.detail} ({f.evidence})")
    latest = detail.versions[-1] if detail.versions else None
    for i, version in enumerate(detail.versions):
        click.echo(f"\n--- version {version.id} seen {version.seen_at:%Y-%m-%dT%H:%M}")
        if version is latest:
            for fig in version.figures:
                source = f"{fig.provenance.get('text', '')!r}{_how_read(fig.provenance)}"
                click.echo(f"  {fig.key} = {fig.value}   ← {source}")
            for check in version.checks:
                mark = "ok  " if check.ok else "FAIL"
                click.echo(f"  check {mark} {check.rule}: {check.detail}")
        elif latest is not None:
            _print_differences(version, latest)
        if i > 0 and detail.diffs[i - 1]:
            click.echo(f"  changes from the version before:\n{_indent(detail.diffs[i - 1])}")
    if latest is not None:
        click.echo("\n" + latest.text)


def _how_read(provenance: dict[str, object]) -> str:
    """Where a figure was read from (parsers' Provenance.form); a figure whose cells ran together
    in the text was recovered by the form's arithmetic, which a reader must be told."""
    form = provenance.get("form")
    if form == "run-together":
        return " (run-together cells: recovered by the table's arithmetic)"
    return f" [{form}]" if form else ""


def _print_differences(old: VersionRow, latest: VersionRow) -> None:
    """An older version's figures and checks, where they differ from the latest's."""
    now = {f.key: f.value for f in latest.figures}
    then = {f.key: f.value for f in old.figures}
    differ = sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))
    for key in differ:
        click.echo(f"  {key} = {then.get(key, '(none)')} (latest: {now.get(key, '(none)')})")
    failed = [c.rule for c in old.checks if not c.ok]
    if not differ:
        failing = f"; checks failed: {', '.join(failed)}" if failed else ""
        click.echo(f"  figures as in the latest version{failing}")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
