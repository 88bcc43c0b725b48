"""One capture type from the spider to the archive writer, one codec across the process boundary,
one byte sniffer, one header-charset reader, one figure writer (issue 15, item 2)."""

from __future__ import annotations

import ast
import io
import json
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from archive.blobs import BlobStore
from archive.captures import (
    CAPTURE_FIELDS,
    CaptureIn,
    InvalidCapture,
    dump_capture,
    load_capture,
    text_encoding,
)
from archive.db import make_engine, session_scope, upgrade
from archive.models import CAPTURE_KINDS, CAPTURE_OUTCOMES, Capture
from archive.runs import start_run
from crawler.items import CaptureItem
from crawler.outcomes import detect_type
from parsers import UnsupportedFormat, parse_bytes
from parsers.decode import header_charset, sniff_kind

ROOT = Path(__file__).resolve().parent.parent
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 3, 1, 2, 30, tzinfo=UTC)

# Header values as Scrapy hands them over: bytes read as latin-1, so any of the 256 code points.
latin1 = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
maybe_text = st.none() | st.text(max_size=60)
header_names = st.sampled_from(["Content-Type", "Set-Cookie", "ETag", "X-Via", "set-cookie"])
captures = st.builds(
    CaptureIn,
    portal=st.text(min_size=1, max_size=20),
    url=st.text(max_size=80),
    final_url=st.text(max_size=80),
    status=st.integers(min_value=0, max_value=999),
    # Repeated names (two Set-Cookie) stay two pairs, in the order received.
    headers=st.lists(st.tuples(header_names | latin1, latin1), max_size=8).map(tuple),
    # Any bytes: GBK, broken UTF-8, NULs, nothing, or no body at all.
    body=st.none() | st.binary(max_size=512),
    fetched_at=st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=8)))),
    kind=st.sampled_from(CAPTURE_KINDS),
    run_id=st.none() | st.integers(min_value=1, max_value=2**62),
    parent_url=maybe_text,
    content_type=maybe_text,
    outcome=st.sampled_from(CAPTURE_OUTCOMES),
    detected_type=st.none() | st.sampled_from(["html", "pdf", "binary"]),
    finding=maybe_text,
    listed_title=maybe_text,
    encoding=st.none() | st.sampled_from(["utf-8", "gb18030", "utf-8/replace", "cp1252"]),
)


@FAST
@given(st.lists(captures, min_size=1, max_size=4))
def test_captures_cross_the_pipe_unchanged(sent: list[CaptureIn]) -> None:
    pipe = io.BytesIO()
    for capture in sent:
        dump_capture(capture, pipe)
    pipe.seek(0)
    got = [load_capture(pipe) for _ in sent]
    assert got == sent
    for before, after in zip(sent, got, strict=True):
        # Equal datetimes in two zones compare equal: the zone must cross as well.
        assert after.fetched_at.utcoffset() == before.fetched_at.utcoffset()
        assert type(after.headers) is tuple and type(after.body) is type(before.body)
    with pytest.raises(EOFError):
        load_capture(pipe)


def test_the_spiders_item_is_the_archives_capture() -> None:
    assert CaptureItem is CaptureIn


def _capture(**changes: object) -> CaptureIn:
    fields: dict[str, object] = {
        "portal": "tongxiang", "url": "http://h/a.html", "final_url": "http://h/a.html",
        "status": 200, "headers": (), "body": b"<html></html>", "fetched_at": T0,
        "kind": "article",
    }  # fmt: skip
    return CaptureIn(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "200"},
        {"parent_url": 7},
        {"body": "<html>text, not bytes</html>"},
        {"headers": (("Server",),)},
        {"headers": ("ab",)},
        {"headers": [["Server", None]]},
        {"headers": ((b"Server", b"nginx"),)},
        {"fetched_at": datetime(2024, 3, 1)},
        {"kind": "page"},
        {"outcome": "fine"},
        {"status": True},
        {"encoding": "klingon"},
        {"encoding": "utf-8/strict"},
        {"encoding": b"utf-8"},
    ],
)
def test_a_wrong_field_fails_where_the_capture_is_built(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidCapture) as info:
        _capture(**changes)
    assert "\n" not in str(info.value)


def test_fields_go_by_name_only() -> None:
    with pytest.raises(TypeError):
        CaptureIn("p", "u", "u", 200, (), None, T0, "article")  # type: ignore[misc]


def test_what_is_no_capture_is_refused_by_name() -> None:
    old_wire = (_capture().portal, 1, "u", "u", 200, (), None, T0, "article")  # the 15-tuple
    fields = {name: getattr(_capture(), name) for name in CAPTURE_FIELDS}
    for sent in (old_wire, {**fields, "extra": 1}, {k: v for k, v in fields.items() if k != "url"}):
        with pytest.raises(InvalidCapture):
            load_capture(io.BytesIO(pickle.dumps(sent)))


def test_the_writer_process_archives_what_the_spider_built(tmp_path: Path) -> None:
    """Through the real pipe and writer process (crawler.pipeline's side is `dump_capture`)."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        run_id = start_run(session, "tongxiang", "nightly").id
    gbk = "<html><meta charset=gbk><title>桐乡</title>年报</html>".encode("gbk")
    sent = [
        _capture(
            body=gbk,
            headers=(
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=\xe9"),
                ("Content-Type", "text/html"),
            ),
            content_type="text/html",
            listed_title="桐乡市2023年度报告",
        ),
        _capture(
            url="http://h/b.pdf",
            final_url="http://h/b.pdf",
            body=None,
            status=304,
            kind="attachment",
            outcome="not_modified",
            parent_url="http://h/a.html",
        ),  # fmt: skip
        _capture(url="http://h/c", body=b"\xff\xfe\x00broken", run_id=None, detected_type="binary"),
    ]
    pipe = io.BytesIO()
    for capture in sent:
        dump_capture(capture, pipe)
    done = subprocess.run(
        [sys.executable, "-m", "crawler.writer", url, str(tmp_path / "blobs"), str(run_id)],
        input=pipe.getvalue(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert report == {"counts": report["counts"], "fault": None}
    assert report["counts"]["nianbao/captures"] == 3
    store = BlobStore(tmp_path / "blobs")
    with session_scope(engine) as session:
        rows = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert [r.run_id for r in rows] == [run_id] * 3  # stamped by the writer
        for row, capture in zip(rows, sent, strict=True):
            assert [tuple(h) for h in row.headers] == list(capture.headers)
            assert (store.get(row.sha256) if row.sha256 else None) == capture.body
            assert (row.url, row.kind, row.outcome, row.parent_url, row.listed_title) == (
                capture.url, capture.kind, capture.outcome, capture.parent_url,
                capture.listed_title,
            )  # fmt: skip
        assert rows[0].encoding == "gb18030"
    engine.dispose()


# --- one sniffer -------------------------------------------------------------------------------

UTF16_PAGE = "\ufeff<html><title>年报</title></html>".encode("utf-16-le")
PPTX = b"PK\x03\x04\x14\x00\x06\x00ppt/presentation.xml"


@pytest.mark.parametrize(
    ("body", "crawl", "parse"),
    [
        (b"%PDF-1.7\n", "pdf", "PDF"),
        (b"<!DOCTYPE html><html></html>", "html", "text"),
        (UTF16_PAGE, "html", "text"),  # was "binary" to the crawl, "text" to the parsers
        (b"{\\rtf1\\ansi", "rtf", "RTF"),  # was "json" to the crawl, "RTF" to the parsers
        (b"\x89PNG\r\n\x1a\n", "image", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "docx", "DOCX"),
        (PPTX, "zip", "ZIP archive"),
        (b"GIF89a", "image", "GIF image"),
        (b"\x00\x01\x02", "binary", "binary data"),
    ],
)
def test_crawl_and_parsers_read_a_body_by_one_sniffer(body: bytes, crawl: str, parse: str) -> None:
    assert detect_type(body) == crawl
    try:
        assert sniff_kind(body) == parse
    except UnsupportedFormat as exc:
        assert exc.kind == parse


# --- one header-charset reader ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=GBK", "GBK"),
        ("text/html;charset=gb2312", "gb2312"),
        ('text/html; charset="utf-8"', "utf-8"),
        ("text/html; Charset = 'gbk'", "gbk"),
        ("text/html charset=gbk", "gbk"),  # the `;` forgotten
        ("text/html; xcharset=gbk", None),  # another parameter: the old regex read it
        ("text/html; charset=", None),
        ("text/html", None),
        (None, None),
    ],
)
def test_one_header_charset_reader(content_type: str | None, charset: str | None) -> None:
    assert header_charset(content_type) == charset


@pytest.mark.parametrize(
    "content_type",
    ["text/html; xcharset=utf-8", "text/html; charset=gb2312", "text/html; charset='utf-8'"],
)
def test_archive_and_parsers_choose_one_codec(content_type: str) -> None:
    body = "<html><meta charset=gbk><title>年报</title>桐乡市年度报告</html>".encode("gbk")
    assert text_encoding(body, content_type) == parse_bytes(body, content_type).encoding


def test_the_archived_codec_is_the_one_the_parse_decodes_with() -> None:
    body = "<html><title>桐乡市2023年政府信息公开工作年度报告</title></html>".encode("gbk")
    # The codec chosen when archived is taken as it is, not chosen again from the header.
    parsed = parse_bytes(body, "text/html; charset=utf-8", None, "gb18030")
    assert parsed.encoding == "gb18030" and "桐乡市" in (parsed.title or "")
    broken = parse_bytes(b"<html><title>\xff\xfe</title></html>", None, None, "utf-8/replace")
    assert broken.encoding == "utf-8/replace"


# --- one figure writer --------------------------------------------------------------------------


def test_figure_rows_are_written_in_one_place() -> None:
    """No module but archive.figure_rows inserts figure rows or builds Figure objects."""
    writers = []
    packages = ("archive", "crawler", "scheduler", "nianbao", "web", "parsers")
    for path in sorted(p for package in packages for p in (ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and any(isinstance(a, ast.Name) and a.id == "Figure" for a in node.args)
                and isinstance(node.func, ast.Name)
                and node.func.id == "insert"
            ) or (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Figure"
                and path.parts[-2] == "archive"
            ):
                writers.append(str(path.relative_to(ROOT)))
    assert writers == ["archive/figure_rows.py"]
