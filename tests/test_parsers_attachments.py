"""Attachments routed through the parsers by indexing: their figures join their report's version."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from test_archive_indexing import ARTICLE, ATTACHMENT, BASE, T0, crawl, page_capture, report_html

from archive.blobs import BlobStore
from archive.db import session_scope
from archive.indexing import index_captures
from archive.models import Check, Document, DocumentVersion, Figure
from parsers import PARSER_VERSION

GOLDEN = Path(__file__).parent / "golden"


def attachment(raw: bytes) -> object:
    return page_capture(
        raw,
        T0 + timedelta(seconds=5),
        kind="attachment",
        url=ATTACHMENT,
        final_url=f"{BASE}/attach/0/0a1b2c3d.pdf",
        parent_url=ARTICLE,
        content_type="application/pdf",
    )


def figures(engine: Engine) -> dict[str, Figure]:
    with session_scope(engine) as session:
        version = session.scalars(select(DocumentVersion)).one()
        rows = session.scalars(select(Figure).where(Figure.version_id == version.id)).all()
        session.expunge_all()
        return {f.key: f for f in rows}


def test_pdf_attachment_figures_join_the_report(engine: Engine, store: BlobStore) -> None:
    pdf = (GOLDEN / "national2014-pdf" / "input.pdf").read_bytes()
    crawl(engine, store, page_capture(report_html(), T0), attachment(pdf))  # type: ignore[arg-type]
    found = figures(engine)
    assert found["stats.applications_received"].value == "45"
    # The table's headline wins over the page's prose; the prose's figure stays visible.
    assert found["headline.applications_received"].value == "45"
    assert found["prose.applications_received"].value == "17"
    prov = found["stats.via_website"].provenance
    assert prov["snapshot"] == hashlib.sha256(pdf).hexdigest() and prov["url"] == ATTACHMENT
    assert "980" in prov["text"]
    with session_scope(engine) as session:
        doc = session.scalars(select(Document)).one()
        assert doc.template == "national2014" and not doc.needs_ocr
        assert session.scalars(
            select(Check).where(Check.rule == "sum:stats.applications_received")
        ).all()


def test_reparse_gives_the_same_figures(engine: Engine, store: BlobStore) -> None:
    pdf = (GOLDEN / "national2014-pdf" / "input.pdf").read_bytes()
    crawl(engine, store, page_capture(report_html(), T0), attachment(pdf))  # type: ignore[arg-type]
    before = {k: f.value for k, f in figures(engine).items()}
    with session_scope(engine) as session:
        index_captures(session, store, reparse=True)
    assert {k: f.value for k, f in figures(engine).items()} == before


def test_scanned_attachment_marks_the_report_needs_ocr(engine: Engine, store: BlobStore) -> None:
    scan = (GOLDEN / "pdf-scan-needs-ocr" / "input.pdf").read_bytes()
    crawl(engine, store, page_capture(report_html(), T0), attachment(scan))  # type: ignore[arg-type]
    with session_scope(engine) as session:
        assert session.scalars(select(Document.needs_ocr)).one() is True


def test_reparse_marks_only_stale_snapshots(engine: Engine, store: BlobStore) -> None:
    from nianbao.cmd_reparse import mark_stale

    pdf = (GOLDEN / "national2014-pdf" / "input.pdf").read_bytes()
    crawl(engine, store, page_capture(report_html(), T0), attachment(pdf))  # type: ignore[arg-type]
    with session_scope(engine) as session:
        assert mark_stale(session) == 0  # all made by the current parser
        session.execute(update(DocumentVersion).values(parser_version="0.0.1"))
        assert mark_stale(session) == 1
        stats = index_captures(session, store)
        assert stats.parse_errors == 0
        assert {v.parser_version for v in session.scalars(select(DocumentVersion))} == {
            PARSER_VERSION
        }
    assert figures(engine)["stats.via_website"].value == "980"


def test_reparse_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    from nianbao.cli import cli

    result = CliRunner().invoke(cli, ["reparse", "--help"])
    assert result.exit_code == 0 and "Example: nianbao reparse" in result.output
