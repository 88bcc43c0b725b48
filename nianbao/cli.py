"""`nianbao`: the one command. Each subcommand composes parsers, archive and crawler."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from archive.db import ArchiveUnavailable
from archive.errors import ArchiveWriteFailed, write_failure
from nianbao import cmd_listings, cmd_questions, cmd_schedule, cmd_serve, cmd_worker, commands
from nianbao.clikit import Context
from nianbao.cmd_archive import archive_group
from nianbao.cmd_portals import portals_group
from nianbao.cmd_reparse import reparse
from nianbao.errors import NianbaoError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    envvar="NIANBAO_CONFIG",
    type=click.Path(dir_okay=False),
    help="Settings file (default: ./settings.toml, else the shipped one).",
)
@click.version_option(package_name="nianbao")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Crawl, archive and parse 政府信息公开工作年度报告, and tell who is missing or late.

    Example: nianbao demo
    """
    ctx.obj = Context(config)


for command in commands.ALL:
    cli.add_command(command)
for command in (
    cmd_listings.reports,
    cmd_listings.missing,
    cmd_listings.late,
    cmd_listings.runs,
    cmd_listings.status_command,
):
    cli.add_command(command)
cli.add_command(archive_group)
cli.add_command(portals_group)
cli.add_command(reparse)
cli.add_command(cmd_schedule.schedule)
cli.add_command(cmd_schedule.backfill)
cli.add_command(cmd_questions.findings_command)
cli.add_command(cmd_questions.figures_command)
cli.add_command(cmd_questions.export_command)
cli.add_command(cmd_questions.publishers_command)
cli.add_command(cmd_serve.serve)
cli.add_command(cmd_worker.worker)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every expected failure is one line on stderr and a non-zero exit."""
    try:
        cli.main(args=argv, prog_name="nianbao", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except (NianbaoError, ArchiveUnavailable, ArchiveWriteFailed) as exc:
        _fail(str(exc), 1)
    except BrokenPipeError:
        sys.exit(1)
    except (DBAPIError, OSError) as exc:
        _fail(_archive_error(exc), 1)


def _archive_error(exc: DBAPIError | OSError) -> str:
    """A full or read-only archive (disk or database), or a database that went away, in one
    line; any other error is a bug, and keeps its traceback."""
    refused = write_failure(exc)
    if refused is not None:
        return str(refused)
    if isinstance(exc, OperationalError):
        cause = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return f"archive database error: {cause}"
    raise exc


def _fail(message: str, code: int) -> None:
    first = " ".join(message.strip().split("\n"))
    click.echo(f"nianbao: error: {first}", err=True)
    sys.exit(code or 1)
