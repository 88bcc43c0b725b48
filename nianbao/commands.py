"""The subcommands of `nianbao`. Each one is thin: it parses options and calls a package."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

import parsers
from archive import queries, status
from archive.evidence import until_end_of
from archive.findings import findings
from archive.health import portal_health, scheduler_health
from archive.locks import SKIPPED_EXIT_CODE
from archive.runs import list_runs
from crawler.config import PortalConfig
from crawler.job import RUN_KINDS, CrawlJob, PortalResult
from crawler.process import run_batch
from nianbao.clikit import (
    MISSING_FIELDS,
    REPORT_FIELDS,
    RUN_FIELDS,
    Context,
    date_type,
    emit,
    emit_json,
    format_option,
    pass_ctx,
    today,
    year_type,
)
from nianbao.cmd_questions import AS_OF_HELP, emit_late, print_report
from nianbao.demo import demo
from nianbao.errors import NianbaoError, UsageError
from nianbao.output import as_dicts, plain
from nianbao.progress import progress
from nianbao.settings import Settings
from scheduler.config import health_rules

# Larger than any attachment the crawler keeps (max_file_mb is 50 by default): a file past
# this is not a report, and reading it whole could exhaust memory.
PARSE_LIMIT_MB = 256
MAX_ID = 2**63 - 1  # the largest row id SQLite and PostgreSQL (bigint) can hold
HEALTH_FIELDS = (
    "subject",
    "healthy",
    "last_success",
    "last_run",
    "last_status",
    "failed_in_a_row",
    "problems",
)


def _year(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else year_type(value)


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    return None if value is None else date_type(value)


year_option = click.option("--year", callback=_year, help="Report year, e.g. 2019.")


@click.command()
@click.argument("portals", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every portal of settings (the default).")
@click.option(
    "--kind",
    type=click.Choice(RUN_KINDS),
    default="manual",
    show_default=True,
    help="How the run is recorded; the scheduler passes nightly.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the crawler's log here instead of showing it on failure.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Page through every listing, not only until the reports already archived.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 1024),
    help="Crawl processes, each crawling [crawler] portals_per_process portals at once. "
    "Default: the number of cores.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print each portal's run summary as a JSON line."
)
@pass_ctx
def crawl(
    obj: Context,
    portals: tuple[str, ...],
    every: bool,
    kind: str,
    log_path: Path | None,
    full: bool,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Crawl the named portals (all when none is named), several at once in a few processes.

    Each portal gets its own run (see `nianbao runs`); a portal another crawl holds is skipped.
    With --json, a line per portal as it ends: run_id, portal, kind, status, pages, new_reports,
    new_versions, errors, finding, blocked, gone, not_modified (run_id null when skipped or when
    the archive refused the run).

    Example: nianbao crawl tongxiang
    Example: nianbao crawl --all --jobs 2 --json
    """
    settings = obj.settings
    if every and portals:
        raise UsageError("name portals or give --all, not both")
    chosen = [settings.portal(p) for p in portals] if portals else list(settings.portals)
    # SIGTERM (a scheduler stopping) unwinds like Ctrl-C: the workers close their runs and leases.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    batch = [_job(settings, portal, kind, full) for portal in chosen]
    results: list[PortalResult] = []
    with progress("crawl", len(chosen)) as bar:

        def got(result: PortalResult) -> None:
            results.append(result)
            if as_json:
                click.echo(json.dumps(result.as_row(), ensure_ascii=False))
            else:
                click.echo(_line(result))
            bar.update(len(results), f"{result.portal}: {_outcome(result)}")

        run_batch(batch, jobs or os.cpu_count() or 1, log_path, got)
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise NianbaoError("; ".join(errors))
    failed = [r.portal for r in results if _outcome(r) == "failed"]
    if failed:
        raise NianbaoError(f"crawl failed for {', '.join(failed)} (see `nianbao runs`)")
    if any(r.skipped is not None for r in results):
        raise SystemExit(SKIPPED_EXIT_CODE)


def _job(settings: Settings, portal: PortalConfig, kind: str, full: bool) -> CrawlJob:
    return CrawlJob(
        portal=portal,
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
        kind=kind,
        full=full,
    )


def _outcome(result: PortalResult) -> str:
    if result.skipped is not None:
        return "skipped"
    if result.summary is None or result.summary.status != "ok":
        return "failed"
    return "ok"


def _line(result: PortalResult) -> str:
    """A portal's result for people: its run, or why it has none."""
    summary = result.summary
    if result.skipped is not None:
        return f"{result.portal}: skipped: {result.skipped}"
    if summary is None:
        return f"{result.portal}: failed: {result.error}"
    return (
        f"{summary.portal}: run {summary.run_id} {summary.status}: {summary.pages} pages, "
        f"{summary.new_reports} new reports, {summary.new_versions} new versions, "
        f"{summary.errors} errors" + (f"; {summary.finding}" if summary.finding else "")
    )


@click.command()
@click.option("--portal", help="Only this portal.")
@click.option("--publisher", help="Only this publisher (registry name or 发布机构).")
@year_option
@format_option
@pass_ctx
def reports(
    obj: Context, portal: str | None, publisher: str | None, year: int | None, fmt: str
) -> None:
    """List archived reports.

    Example: nianbao reports --year 2017 --format csv
    """
    if portal:
        obj.settings.portal(portal)
    with obj.reading() as session:
        rows = queries.list_reports(session, portal=portal, publisher=publisher, year=year)
        emit(as_dicts(rows, REPORT_FIELDS), REPORT_FIELDS, fmt, "reports")


@click.command()
@click.argument("report", type=click.IntRange(1, MAX_ID))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def show(obj: Context, report: int, as_json: bool) -> None:
    """One report: metadata, how it was matched, its copies and findings, every version with its
    figures (with provenance), checks and the diff from the version before, and its text.

    Example: nianbao show 12
    """
    with obj.reading() as session:
        detail = queries.get_report(session, report)
        if detail is None:
            raise UsageError(f"no report with id {report}")
        found = findings(session, obj.settings.deadlines, report_id=report)
    if as_json:
        emit_json(plain({**_asdict(detail), "findings": [_asdict(f) for f in found]}))
        return
    print_report(detail, found)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON as in docs/interface.md.")
def parse(file: Path, as_json: bool) -> None:
    """Parse one saved page or attachment; touches no archive.

    Example: nianbao parse report.html --json
    """
    raw = _read_at_most(file, PARSE_LIMIT_MB * 2**20)
    try:
        parsed = parsers.parse_bytes(raw, None, None)
    except parsers.ParseError as exc:
        raise NianbaoError(f"{file}: {exc}") from None
    # interface.md's shape, plus the publisher the report names (发布机构, else its title).
    result = {"publisher": parsed.publisher, **parsers.report_to_json(parsed)}
    # Issue 13, added fields: whose report (the publisher above is who posted it), and the verdict.
    result.update(subject=parsed.subject, kind=parsed.kind, reason=parsed.reason)
    if as_json:
        emit_json(result)
        return
    for key in ("title", "report_year", "publisher", "subject", "kind", "reason", "template"):
        click.echo(f"{key}: {result.get(key)}")
    for key, value in result["metadata"].items():
        click.echo(f"metadata.{key}: {value if value is not None else ''}")
    for key, value in result["figures"].items():
        click.echo(f"{key} = {value}")
    for check in result["checks"]:
        click.echo(f"check {'ok' if check['ok'] else 'FAIL'} {check['rule']}: {check['detail']}")


@click.command()
@year_option
@click.option("--as-of", "as_of", callback=_date, help=f"{AS_OF_HELP} Default: today.")
@format_option
@pass_ctx
def missing(obj: Context, year: int | None, as_of: date | None, fmt: str) -> None:
    """Expected publishers with no report for a year, with the evidence: missing, not_yet_due,
    unreachable (its report page, or the portal, was blocked or failing), or gone. A report
    that exists is never missing, even when it claims no date (see `late --undated`).

    Example: nianbao missing --year 2019 --as-of 2020-02-15
    """
    if year is None:
        raise UsageError("missing needs --year, e.g. --year 2019")
    with obj.reading() as session:
        rules, until = obj.settings.deadlines, until_end_of(as_of)
        rows = status.missing(session, year, as_of or today(), rules, until)
        emit(as_dicts(rows, MISSING_FIELDS), MISSING_FIELDS, fmt, f"missing {year}")


@click.command()
@year_option
@click.option("--as-of", "as_of", callback=_date, help=AS_OF_HELP)
@click.option(
    "--undated",
    is_flag=True,
    help="Also list the reports that claim no date (status undated, or on_time when first "
    "seen by the deadline), in one table with the late ones.",
)
@format_option
@pass_ctx
def late(obj: Context, year: int | None, as_of: date | None, undated: bool, fmt: str) -> None:
    """Reports published after their legal deadline, judged by the date they claim (发布时间,
    else 成文日期), with both dates.

    A report that claims no date (module pages often print none) is on time when nianbao first
    saw it by the deadline; seen only later, it is `undated`: it may be late, nobody can tell.
    Undated reports are not counted as late: they are counted on stderr, and --undated lists
    them with the late ones, told apart by `status`, with when each was first seen and the last
    clean search before the deadline, so they can be checked by hand before being called late
    (and the dateless reports judged on time, `on_time`, with when they were first seen).

    Example: nianbao late --year 2019 --format json
    Example: nianbao late --year 2019 --as-of 2020-03-01 --undated
    """
    if year is None:
        raise UsageError("late needs --year, e.g. --year 2019")
    with obj.reading() as session:
        found = status.timeliness(session, year, obj.settings.deadlines, until_end_of(as_of))
    emit_late(found, year, undated, fmt)


@click.command()
@click.option("--portal", help="Only this portal.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True)
@click.option(
    "--health",
    is_flag=True,
    help="Per-portal health and the scheduler's heartbeat; exits non-zero when anything is unhealthy.",
)
@format_option
@pass_ctx
def runs(obj: Context, portal: str | None, limit: int, health: bool, fmt: str) -> None:
    """Crawl run history: kind, portal, start, end, status, pages, new reports, errors.

    With --health: per portal, no successful run for N days, N failed runs in a row, or a run that
    archived nothing where the last one of its kind archived something; and whether the
    scheduler's heartbeat is fresh. Exits non-zero when anything is unhealthy, for monitoring.

    Example: nianbao runs --portal tongxiang
    Example: nianbao runs --health --format json
    """
    if health:
        _health(obj, portal, fmt)
        return
    with obj.reading(registry=False) as session:
        rows = list_runs(session, portal=portal, limit=limit)
        emit(as_dicts(rows, RUN_FIELDS), RUN_FIELDS, fmt, "runs")


def _health(obj: Context, portal: str | None, fmt: str) -> None:
    settings = obj.settings
    portals = [settings.portal(portal).id] if portal else [p.id for p in settings.portals]
    rules = health_rules(settings.scheduler, settings.alerts)
    now = datetime.now(UTC)
    with obj.reading(registry=False) as session:
        rows = [portal_health(session, p, rules, now) for p in portals]
        rows.append(scheduler_health(session, rules, now))
    data = [
        {
            **d,
            "healthy": h.healthy,
            "problems": "; ".join(f"{p.rule}: {p.detail}" for p in h.problems),
        }
        for h, d in zip(rows, as_dicts(rows, HEALTH_FIELDS), strict=True)
    ]
    emit(data, HEALTH_FIELDS, fmt, "health")
    sick = [f"{h.subject} ({', '.join(p.rule for p in h.problems)})" for h in rows if not h.healthy]
    if sick:
        raise NianbaoError(f"unhealthy: {'; '.join(sick)}")


def _read_at_most(file: Path, limit: int) -> bytes:
    """The file's bytes, refused past `limit`: `parse /dev/zero` read until MemoryError."""
    too_big = UsageError(f"{file} is larger than {limit // 2**20} MB; not parsed")
    try:
        if file.is_file() and file.stat().st_size > limit:
            raise too_big
        with file.open("rb") as fh:
            raw = fh.read(limit + 1)  # a device or pipe has no size: read one byte past
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise too_big
    return raw


def _asdict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


ALL = [demo, crawl, reports, show, parse, missing, late, runs]
