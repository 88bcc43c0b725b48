"""`nianbao reparse`: re-run the current parsers over archived snapshots, without the network."""

from __future__ import annotations

import click
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from archive.batches import index_in_batches
from archive.db import make_engine
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
    reports' attachments) are parsed again. Each figure set records the parser version. A
    snapshot that cannot be read (a parser failure, a missing blob) is recorded on its capture
    (`index_error`) and counted; the others are parsed all the same.

    Example: nianbao reparse --all
    """
    with obj.session() as session:
        stale = 0 if everything else mark_stale(session)
    engine = make_engine(obj.settings.archive.database_url)
    try:
        with progress("reparse") as bar:
            # A plain line per capture would flood a log: a line every REPORT_EVERY, and the last.
            def tell(done: int, total: int) -> None:
                if bar.has_bar or done % REPORT_EVERY == 0 or done == total:
                    bar.update(done, total=total)

            # Committed in short batches, beside a crawl's own indexing if one runs: the
            # captures it has not indexed yet are left to it, so its run counts them.
            stats = index_in_batches(
                engine, obj.store(), reparse=everything, leave_live_crawls=True, on_progress=tell
            )
    finally:
        engine.dispose()
    scope = "all snapshots" if everything else f"{stale} stale snapshot(s)"
    click.echo(
        f"reparsed {scope} with parser {PARSER_VERSION}: {stats.new_reports} new reports, "
        f"{stats.new_versions} new versions, {stats.parse_errors} parse errors, "
        f"{stats.missing_blobs} missing blobs" + _refused(stats.refused)
    )


def _refused(count: int) -> str:
    return f", {count} refused by the database" if count else ""


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
