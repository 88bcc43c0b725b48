"""`nianbao serve`: the read-only web view (web/) over the archive, served by uvicorn."""

from __future__ import annotations

import click

from archive.clock import today
from nianbao.clikit import Context, pass_ctx
from scheduler.config import health_rules


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@pass_ctx
def serve(obj: Context, host: str, port: int) -> None:
    """Serve the board, reports, captures, runs and search as web pages; writes nothing.

    Binds to 127.0.0.1 unless told otherwise. Every page is also offered as CSV and JSON.

    Example: nianbao serve --port 8000   (then open http://127.0.0.1:8000/board)
    """
    import uvicorn

    from web.app import WebConfig, create_app

    settings = obj.settings
    with obj.reading():
        pass  # the archive exists and is at this code's migrations: one line otherwise
    app = create_app(
        WebConfig(
            database_url=settings.archive.database_url,
            store=obj.store(),
            rules=settings.deadlines,
            portals=tuple(p.id for p in settings.portals),
            as_of=today,
            health=health_rules(settings.scheduler, settings.alerts),
        )
    )
    click.echo(f"nianbao: serving the archive at http://{host}:{port}/board", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
