"""The subcommands of `nianbao`. Each one is thin: it parses options and calls a package."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

import parsers
from crawler.config import PortalConfig
from crawler.job import RUN_KINDS, CrawlJob, PortalProgress, PortalResult
from crawler.process import run_batch
from nianbao.clikit import (
    Context,
    emit_json,
    pass_ctx,
)
from nianbao.cmd_questions import print_report
from nianbao.cmd_worker import enqueue_portals
from nianbao.demo import demo
from nianbao.errors import NianbaoError, UsageError
from nianbao.progress import PageCount, progress
from nianbao.settings import Settings
from ops.leases import SKIPPED_EXIT_CODE
from questions import reports as report_queries
from questions.findings import findings

# Larger than any attachment the crawler keeps (max_file_mb is 50 by default): a file past
# this is not a report, and reading it whole could exhaust memory.
PARSE_LIMIT_MB = 256
MAX_ID = 2**63 - 1  # the largest row id SQLite and PostgreSQL (bigint) can hold


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
@click.option(
    "--queue",
    "to_queue",
    is_flag=True,
    help="Put the portals on the [queue] for `nianbao worker`s instead of crawling them here.",
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
    to_queue: bool,
) -> None:
    """Crawl the named portals (all when none is named), several at once in a few processes.

    Each portal gets its own run (see `nianbao runs`); a portal another crawl holds is skipped.
    With --json, a line per portal as it ends: run_id, portal, kind, status, pages, new_reports,
    new_versions, errors, finding, blocked, gone, not_modified (run_id null when skipped or when
    the archive refused the run). Progress (portals done, pages crawled so far) goes to stderr,
    results to stdout.

    Example: nianbao crawl tongxiang
    Example: nianbao crawl --all --jobs 2 --json
    """
    settings = obj.settings
    if every and portals:
        raise UsageError("name portals or give --all, not both")
    chosen = [settings.portal(p) for p in portals] if portals else list(settings.portals)
    if to_queue:
        enqueue_portals(settings, chosen, kind, full, as_json)
        return
    # SIGTERM (a scheduler stopping) unwinds like Ctrl-C: the crawl's run is closed, its lease freed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    batch = [_job(settings, portal, kind, full) for portal in chosen]
    # The archive created, migrated and its registry synced once, here, rather than by the
    # portals' crawls at once (a fresh SQLite file's first writers at once: "database is locked").
    with obj.session():
        pass
    results: list[PortalResult] = []
    pages = PageCount()
    with progress("crawl", len(chosen)) as bar:

        def got(result: PortalResult) -> None:
            results.append(result)
            pages.ended(result)
            bar.say(json.dumps(result.as_row(), ensure_ascii=False) if as_json else _line(result))
            bar.update(len(results), f"{result.portal}: {_outcome(result)}; {pages}")

        def moved(news: PortalProgress) -> None:
            pages.moved(news)
            bar.tick(len(results), str(pages))

        run_batch(batch, jobs or os.cpu_count() or 1, log_path, got, on_progress=moved)
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
@click.argument("report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def show(obj: Context, report: str, as_json: bool) -> None:
    """One report by id: metadata, how it was matched, its copies and findings, every version
    with its figures (with provenance), checks and the diff from the version before, and its
    text. Given a URL instead: every capture of it and what nianbao made of each (the report it
    was read into, or why it is not a report).

    Example: nianbao show 12; nianbao show http://xxgk.tx.gov.cn/art/2024/1/31/art_1_2.html
    """
    if not report.strip().isdigit():
        _show_url(obj, report.strip(), as_json)
        return
    report_id = int(report)
    if not 1 <= report_id <= MAX_ID:
        raise UsageError(f"no report with id {report}")
    with obj.reading() as session:
        detail = report_queries.get_report(session, report_id)
        if detail is None:
            raise UsageError(f"no report with id {report_id}")
        found = findings(session, obj.settings.deadlines, report_id=report_id)
    if as_json:
        emit_json({**_asdict(detail), "findings": [_asdict(f) for f in found]})
        return
    print_report(detail, found)


def _show_url(obj: Context, url: str, as_json: bool) -> None:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{url!r} is neither a report id nor an http(s) URL")
    with obj.reading() as session:
        rows = report_queries.captures_at(session, url, [p.id for p in obj.settings.portals])
    if not rows:
        raise UsageError(f"no capture of {url} in the archive")
    if as_json:
        emit_json([_asdict(row) for row in rows])
        return
    for row in rows:
        if row.report_id is not None:
            judged = f"report {row.report_id} (`nianbao show {row.report_id}`)"
        elif row.not_report:
            judged = f"not a report: {row.not_report}"
        elif row.index_error:
            judged = f"unreadable: {row.index_error}"
        else:
            judged = "no report read from it"
        click.echo(
            f"capture {row.capture_id} {row.fetched_at.isoformat(timespec='seconds')} "
            f"{row.portal} {row.kind} HTTP {row.status} {row.outcome}: {judged}"
        )


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
    result["figures"] = {f.key: f.value for f in parsed.figures}  # numbers, exact (output.to_json)
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


ALL = [demo, crawl, show, parse]  # reports, missing, late, runs: nianbao.cmd_listings
