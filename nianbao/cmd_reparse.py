"""`nianbao reparse`: re-run the current parsers over archived snapshots, without the network."""

from __future__ import annotations

import click
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from archive.indexing import index_captures
from archive.models import Capture, DocumentVersion
from nianbao.clikit import Context, pass_ctx
from nianbao.progress import progress
from parsers import PARSER_VERSION

REPORT_EVERY = 100


@click.command()
@click.option("--all", "everything", is_flag=True, help="Every snapshot, not only stale ones.")
@pass_ctx
def reparse(obj: Context, everything: bool) -> None:
    """Re-parse archived snapshots with the current parsers (no network).

    Without --all, only the snapshots whose figures an older parser version made (and their
    reports' attachments) are parsed again. Each figure set records the parser version.

    Example: nianbao reparse --all
    """
    with obj.session() as session, progress("reparse") as bar:
        stale = 0 if everything else mark_stale(session)

        # A plain line per capture would flood a log: a line every REPORT_EVERY, and the last.
        def tell(done: int, total: int) -> None:
            if bar.has_bar or done % REPORT_EVERY == 0 or done == total:
                bar.update(done, total=total)

        stats = index_captures(session, obj.store(), reparse=everything, on_progress=tell)
    scope = "all snapshots" if everything else f"{stale} stale snapshot(s)"
    click.echo(
        f"reparsed {scope} with parser {PARSER_VERSION}: {stats.new_reports} new reports, "
        f"{stats.new_versions} new versions, {stats.parse_errors} parse errors"
    )


def mark_stale(session: Session) -> int:
    """Mark for indexing the captures of versions an older parser made, with their documents'
    attachments; returns how many page snapshots that is."""
    old = select(DocumentVersion.capture_id, DocumentVersion.document_id).where(
        DocumentVersion.parser_version != PARSER_VERSION
    )
    rows = session.execute(old).all()
    if not rows:
        return 0
    captures = {r.capture_id for r in rows}
    documents = {r.document_id for r in rows}
    attachments = select(Capture.url).where(
        Capture.document_id.in_(documents), Capture.kind.in_(("article", "module"))
    )
    session.execute(
        update(Capture)
        .where(
            or_(
                Capture.id.in_(captures),
                (Capture.kind == "attachment") & Capture.parent_url.in_(attachments),
            )
        )
        .values(indexed_at=None)
    )
    return len(captures)
