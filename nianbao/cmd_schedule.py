"""`nianbao schedule` and `nianbao backfill`: the nightly crawls, and deep crawls of past years."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from archive.clock import LogFormatter
from archive.db import make_engine
from nianbao.clikit import Context, pass_ctx
from nianbao.errors import NianbaoError, SettingsError, UsageError
from nianbao.progress import progress
from nianbao.settings import Settings, parse_years
from scheduler import jobs
from scheduler.alerts import AlertTargetError, Notifier
from scheduler.backfill import Backfill, BackfillError, run_backfill
from scheduler.config import health_rules
from scheduler.service import run_forever, run_once


@click.command()
@click.option("--once", is_flag=True, help="Run the crawls that are due, then exit (for cron).")
@pass_ctx
def schedule(obj: Context, once: bool) -> None:
    """Run the nightly crawls of settings.toml's [scheduler] in the foreground.

    The portals due together (within [scheduler] batch_seconds) are crawled as one batch,
    `nianbao crawl P1 P2 … --kind nightly --jobs N --json`; each portal's outcome, run and the
    batch's log file are recorded. Jobs persist in the archive database: a slot missed while the
    scheduler was down runs once when it is back. Stop it with Ctrl-C or SIGTERM.

    Example: nianbao schedule --once
    """
    settings = obj.settings
    _log_to(settings.scheduler.log_dir / "scheduler.log")
    with obj.session():
        pass  # migrated, and the registry synced once here rather than by racing crawls
    runtime = _runtime(settings, "once" if once else "forever")
    try:
        if not once:
            run_forever(runtime)
            return
        outcomes = run_once(runtime)
    finally:
        runtime.engine.dispose()
    summary = ", ".join(f"{n} {o}" for o in sorted(set(outcomes)) if (n := outcomes.count(o)))
    click.echo(
        f"schedule --once: {len(outcomes)} crawl(s) due" + (f": {summary}" if summary else "")
    )
    if "failed" in outcomes:
        raise NianbaoError("a scheduled crawl failed (see `nianbao runs --health`)")


@click.command()
@click.argument("portal")
@click.option("--years", required=True, help="Report years, e.g. 2013-2017.")
@click.option(
    "--publishers",
    multiple=True,
    help="Only these publishers (name, alias or unit code); repeat or separate with commas.",
)
@pass_ctx
def backfill(obj: Context, portal: str, years: str, publishers: tuple[str, ...]) -> None:
    """Deep crawl of past years, cell by cell (publisher × year); resumable and idempotent.

    Progress is kept in the archive database: run it again after a crash or Ctrl-C and it goes
    on where it stopped; run it again when it is done and it crawls nothing.

    Example: nianbao backfill tongxiang --years 2013-2017 --publishers 市政府
    """
    settings = obj.settings
    chosen = settings.portal(portal)
    try:
        first, last = parse_years(years, "--years")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    request = Backfill(
        portal=chosen,
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
        first_year=first,
        last_year=last,
        only=tuple(n.strip() for p in publishers for n in p.split(",") if n.strip()),
        log_dir=settings.scheduler.log_dir,
    )
    label = f"backfill {portal} {first}-{last}"
    try:
        with progress(label) as bar:
            outcome = run_backfill(
                request, lambda c, message: bar.update(c.done + c.failed, message, total=c.total)
            )
    except BackfillError as exc:
        raise UsageError(str(exc)) from None
    counts = outcome.counts
    click.echo(
        f"{label}: {counts.done} of {counts.total} cells done, {counts.failed} failed; "
        f"{outcome.planned} newly planned, {outcome.crawls} crawl(s) run"
    )
    if counts.failed:
        raise NianbaoError(
            f"{counts.failed} backfill cell(s) failed; run the backfill again to retry"
        )


def _runtime(settings: Settings, mode: str) -> jobs.Runtime:
    try:
        notifier = Notifier(settings.alerts.targets)
    except AlertTargetError as exc:
        raise SettingsError(str(exc)) from None
    return jobs.Runtime(
        config_path=settings.path.resolve(),
        engine=make_engine(settings.archive.database_url),
        portals=tuple(p.id for p in settings.portals),
        config=settings.scheduler,
        rules=health_rules(settings.scheduler, settings.alerts),
        notifier=notifier,
        mode=mode,
    )


def _log_to(path: Path) -> None:
    """The scheduler logs to stderr and to a file beside the crawls' logs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")  # +08:00, as the CLI
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr), logging.FileHandler(path)]
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
