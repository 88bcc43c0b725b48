"""`nianbao archive …`: commands about the archive itself rather than the reports in it."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from archive.verify import verify_archive
from nianbao.clikit import Context, pass_ctx
from nianbao.errors import NianbaoError


@click.group("archive")
def archive_group() -> None:
    """Commands about the archive itself.

    Example: nianbao archive verify
    """


@archive_group.command()
@pass_ctx
def verify(obj: Context) -> None:
    """Re-hash every stored blob and check every row; name what is wrong, exit non-zero if any.

    Example: nianbao archive verify
    """
    with obj.reading(registry=False) as session:
        report = verify_archive(session, obj.store())
    for problem in report.problems:
        click.echo(str(problem))
    summary = (
        f"{report.blobs} blobs, {report.captures} captures, {report.versions} versions checked"
    )
    if not report.ok:
        raise NianbaoError(f"archive verify found {len(report.problems)} problem(s) in {summary}")
    click.echo(f"archive ok: {summary}")


@archive_group.command("upgrade")
@pass_ctx
def upgrade_command(obj: Context) -> None:
    """Create the archive or migrate it to this version, and bring its publisher registry in
    line with the settings; read commands never do either.

    Example: nianbao archive upgrade
    """
    with obj.session():
        pass
    url = make_url(obj.settings.archive.database_url).render_as_string(hide_password=True)
    click.echo(f"archive up to date: {url}")
