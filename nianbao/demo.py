"""`nianbao demo`: the whole pipeline on the bundled replica portals, with no internet.

Serve the replicas on loopback, crawl them side by side into a fresh archive, then print
who is missing or late for every year the replicas cover, and check it against their ground truth.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from archive.clock import today
from crawler.job import CrawlJob, PortalProgress, PortalResult
from crawler.process import run_batch
from nianbao.clikit import Context, emit, format_option
from nianbao.errors import NianbaoError
from nianbao.output import as_dicts
from nianbao.progress import PageCount, progress
from nianbao.settings import Settings, load_settings
from questions import status
from replica import settings_for
from replica.server import ReplicaServer
from replica.truth import load_truth

DEMO_FIELDS = (
    "year",
    "portal",
    "publisher",
    "kind",
    "status",
    "deadline",
    "published_at",
    "days_late",
)


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo archive (default: a new temporary directory).",
)
@format_option
def demo(workdir: Path | None, fmt: str) -> None:
    """Crawl the bundled replica portals into a fresh archive and print who is missing or late.

    Example: nianbao demo --format csv
    """
    workdir = _fresh_dir(workdir)
    settings_path = workdir / "settings.toml"
    with ReplicaServer() as server:
        settings_path.write_text(
            settings_for(
                server.urls,
                database_url=f"sqlite:///{workdir / 'nianbao.db'}",
                blob_dir=str(workdir / "blobs"),
            ),
            encoding="utf-8",
        )
        settings = load_settings(settings_path)
        # The archive created and migrated once, before its portals' crawls open it side by side
        # (a fresh SQLite file's first writers at once: "database is locked").
        with Context(str(settings_path)).session():
            pass
        _crawl_all(settings, workdir)
    rows = _status_rows(Context(str(settings_path)))
    emit(rows, DEMO_FIELDS, fmt, "missing and late annual reports on the replica portals")
    _compare_with_truth(rows)
    click.echo(
        f"archive kept in {workdir}; explore it with: nianbao --config {settings_path} reports",
        err=True,
    )
    click.echo(
        f"open the board: nianbao --config {settings_path} serve, then http://127.0.0.1:8000/board",
        err=True,
    )


def _crawl_all(settings: Settings, workdir: Path) -> None:
    """The replica portals crawled side by side in one crawl process; progress (portals done,
    pages crawled so far) on stderr, live."""
    log = workdir / "crawl.log"
    jobs = [
        CrawlJob(
            portal=portal,
            crawler=settings.crawler,
            archive=settings.archive,
            publishers=settings.publishers,
            kind="manual",
        )
        for portal in settings.portals
    ]
    pages = PageCount()
    done: list[PortalResult] = []
    with progress("demo crawl", total=len(jobs)) as bar:

        def got(result: PortalResult) -> None:
            done.append(result)
            pages.ended(result)
            summary = result.summary
            said = (
                f"{summary.pages} pages, {summary.new_reports} reports, status {summary.status}"
                if summary is not None
                else result.skipped or result.error or "no result"
            )
            bar.update(len(done), f"{result.portal}: {said}; {pages}")

        def moved(news: PortalProgress) -> None:
            pages.moved(news)
            bar.tick(len(done), str(pages))

        run_batch(jobs, 1, log, got, on_progress=moved)
    for result in done:
        if result.summary is None:
            cause = result.error or f"crawl of {result.portal} skipped: {result.skipped}"
            raise NianbaoError(f"{cause} (log: {log})")


def _fresh_dir(workdir: Path | None) -> Path:
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix="nianbao-demo-"))
    if workdir.exists() and any(workdir.iterdir()):
        raise NianbaoError(f"--workdir {workdir} is not empty: the demo needs a fresh archive")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _status_rows(ctx: Context) -> list[dict[str, Any]]:
    """Missing and late rows for every year the replica covers, oldest first."""
    rows: list[dict[str, Any]] = []
    years = sorted({report.year for report in load_truth().reports})
    with ctx.session() as session:
        for year in years:
            for row in as_dicts(
                status.missing(session, year, today(), ctx.settings.deadlines), DEMO_FIELDS
            ):
                rows.append(row)
            for row in as_dicts(status.late(session, year, ctx.settings.deadlines), DEMO_FIELDS):
                rows.append({**row, "status": "late"})
    return rows


def _compare_with_truth(rows: list[dict[str, Any]]) -> None:
    """Say whether the table is exactly what the replica was built to contain."""
    truth = load_truth()
    years = sorted({report.year for report in truth.reports})
    expected = {(y, p, n, "missing", 0) for y in years for p, n in truth.expected_missing(y)}
    expected |= {
        (y, p, n, "late", d) for y in years for (p, n), d in truth.expected_late(y).items()
    }
    got = {(r["year"], r["portal"], r["publisher"], r["status"], r["days_late"] or 0) for r in rows}
    if got == expected:
        click.echo(f"matches the replica's ground truth: {len(expected)} rows", err=True)
        return
    for row in sorted(expected - got, key=str):
        click.echo(f"expected but not found: {row}", err=True)
    for row in sorted(got - expected, key=str):
        click.echo(f"found but not expected: {row}", err=True)
    raise NianbaoError("the demo's table does not match the replica's ground truth")
