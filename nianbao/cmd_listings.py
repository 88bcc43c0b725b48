"""The listing commands that answer who published what and when: `reports`, `missing`, `late`,
`runs` and `status` (the publisher × year board of the web view, in the terminal).

Statuses are never decided here: `missing` and `late` print questions.status's answers, `status`
prints questions.board's cells, which are built from the same answers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import click

from archive.clock import today
from archive.runs import RUN_FIELDS, list_runs
from nianbao.board_text import status_records, status_table
from nianbao.clikit import (
    MISSING_FIELDS,
    REPORT_FIELDS,
    Context,
    date_option,
    emit,
    format_option,
    pass_ctx,
    portal_option,
    year_options,
    years_of,
    years_option,
)
from nianbao.cmd_questions import AS_OF_HELP, emit_late
from nianbao.errors import NianbaoError
from nianbao.output import as_dicts
from ops.health import portal_health, scheduler_health
from questions import reports as queries
from questions import status
from questions.board import BOARD_FIELDS
from questions.evidence import until_end_of
from scheduler.config import health_rules

HEALTH_FIELDS = (
    "subject",
    "healthy",
    "last_success",
    "last_run",
    "last_status",
    "failed_in_a_row",
    "problems",
)


@click.command()
@portal_option
@click.option("--publisher", help="Only this publisher (registry name or 发布机构).")
@year_options(required=False)
@format_option
@pass_ctx
def reports(
    obj: Context,
    portal: str | None,
    publisher: str | None,
    year: int | None,
    years: tuple[int, int] | None,
    fmt: str,
) -> None:
    """List archived reports, with their dates, template, versions, captures and copies.

    Example: nianbao reports --years 2017-2019 --format csv --bom > reports.csv
    """
    span = years_of(year, years, "reports", required=False)
    with obj.reading() as session:
        rows = queries.list_reports(session, portal=portal, publisher=publisher)
    if span:
        rows = [r for r in rows if r.year is not None and span[0] <= r.year <= span[-1]]
    emit(as_dicts(rows, REPORT_FIELDS), REPORT_FIELDS, fmt, "reports")


@click.command()
@year_options(required=True)
@portal_option
@date_option("--as-of", f"{AS_OF_HELP} Default: today.")
@format_option
@pass_ctx
def missing(
    obj: Context,
    year: int | None,
    years: tuple[int, int] | None,
    portal: str | None,
    as_of: date | None,
    fmt: str,
) -> None:
    """Registered publishers with no report for a year: `missing`, `not_yet_due`, `unreachable`
    (its report page, or the portal, was blocked or failing) or `gone`, with the evidence. A
    report that exists is never missing, even when it claims no date (see `late --undated`).

    Example: nianbao missing --year 2019 --as-of 2020-02-15
    Example: nianbao missing --years 2019-2023 --portal tongxiang --format csv
    """
    span = years_of(year, years, "missing")
    obj.warn_unregistered(portal)
    rows: list[Any] = []
    with obj.reading() as session:
        rules, until = obj.settings.deadlines, until_end_of(as_of)
        for y in span:
            rows += status.missing(session, y, as_of or today(), rules, until)
    rows = [r for r in rows if portal is None or r.portal == portal]
    emit(as_dicts(rows, MISSING_FIELDS), MISSING_FIELDS, fmt, f"missing {_span(span)}")


@click.command()
@year_options(required=True)
@portal_option
@date_option("--as-of", AS_OF_HELP)
@click.option(
    "--undated",
    is_flag=True,
    help="Also list the reports that claim no date (status undated, or on_time when first "
    "seen by the deadline), in one table with the late ones.",
)
@format_option
@pass_ctx
def late(
    obj: Context,
    year: int | None,
    years: tuple[int, int] | None,
    portal: str | None,
    as_of: date | None,
    undated: bool,
    fmt: str,
) -> None:
    """Reports published after their legal deadline, judged by the date they claim (发布时间,
    else 成文日期), with both dates.

    A report that claims no date (module pages often print none) is on time when nianbao first
    saw it by the deadline; seen only later, it is `undated`: it may be late, nobody can tell.
    Undated reports are not counted as late: they are counted on stderr, and --undated lists
    them with the late ones, told apart by `status`, with when each was first seen and the last
    clean search before the deadline (and the dateless reports judged on time, `on_time`).

    Example: nianbao late --year 2019 --format json
    Example: nianbao late --years 2019-2021 --portal taizhou --as-of 2022-03-01 --undated
    """
    span = years_of(year, years, "late")
    obj.warn_unregistered(portal)
    with obj.reading() as session:
        until = until_end_of(as_of)
        found = [status.timeliness(session, y, obj.settings.deadlines, until) for y in span]
    if portal is not None:
        found = [_of_portal(t, portal) for t in found]
    emit_late(found, _span(span), undated, fmt)


def _of_portal(found: status.Timeliness, portal: str) -> status.Timeliness:
    return status.Timeliness(
        [r for r in found.late if r.portal == portal],
        [r for r in found.undated if r.portal == portal],
        [r for r in found.seen_in_time if r.portal == portal],
    )


def _span(span: list[int]) -> str:
    return str(span[0]) if len(span) == 1 else f"{span[0]}-{span[-1]}"


@click.command()
@portal_option
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True)
@click.option(
    "--health",
    is_flag=True,
    help="Per-portal health and the scheduler's heartbeat; exits non-zero when anything is unhealthy.",
)
@format_option
@pass_ctx
def runs(obj: Context, portal: str | None, limit: int, health: bool, fmt: str) -> None:
    """Crawl run history: kind, portal, start, end, status, pages, new reports, pages blocked by
    an anti-bot challenge, pages gone, 304s (unchanged since the last crawl), errors.

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
    portals = [portal] if portal else [p.id for p in settings.portals]
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


@click.command("status")
@portal_option
@years_option("A year range such as 2013-2024 (default: the twelve years before this one).")
@click.option(
    "--kind",
    type=click.Choice(("department", "government", "township")),
    help="Only publishers of this kind.",
)
@date_option("--as-of", "Judge deadlines on this date (default: today).")
@format_option
@pass_ctx
def status_command(
    obj: Context,
    portal: str | None,
    years: tuple[int, int] | None,
    kind: str | None,
    as_of: date | None,
    fmt: str,
) -> None:
    """The publisher × year board of each portal (or one): every cell on time, late N (days),
    missing, not yet due, undated, unreachable, gone, or blank where the publisher did not exist;
    with the count of each status per year. The web view's /board in the terminal; with --format
    csv or json, one record per cell, as /board.csv and /board.json.

    Example: nianbao status --portal tongxiang --years 2019-2024
    Example: nianbao status --format csv --bom > board.csv
    """
    day = as_of or today()
    span = years_of(None, years, "status", required=False) or list(range(day.year - 12, day.year))
    portals = [portal] if portal else [p.id for p in obj.settings.portals]
    boards = []
    with obj.reading() as session:
        for p in portals:
            if obj.warn_unregistered(p):
                continue
            boards.append(status_records(session, obj.settings.deadlines, p, span, kind, day))
    if fmt == "table":
        click.echo("\n\n".join(status_table(b) for b in boards))
        return
    records = [r for b in boards for r in b.records]
    emit(as_dicts(records, BOARD_FIELDS), BOARD_FIELDS, fmt, "status")
