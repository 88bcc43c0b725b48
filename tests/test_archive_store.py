"""The blob store and capture recording: exact bytes, stored once, never a row without its blob."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from archive import blobs
from archive.blobs import BlobMissing, BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import session_scope
from archive.models import Blob, Capture
from archive.runs import start_run

PAGE = "<html><head><meta charset='utf-8'><title>桐乡</title></head><body>年报</body></html>"
FETCHED = datetime(2024, 3, 1, 2, 30, tzinfo=UTC)


def capture(body: bytes | None, **changes: object) -> CaptureIn:
    fields: dict[str, object] = {
        "portal": "tongxiang",
        "run_id": None,
        "url": "http://xxgk.tx.gov.cn/art/2018/3/8/art_1229_1.html",
        "final_url": "http://xxgk.tx.gov.cn/art/2018/3/8/art_1229_1.html",
        "status": 200 if body is not None else 304,
        "headers": [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")],
        "body": body,
        "fetched_at": FETCHED,
        "kind": "article",
        "parent_url": None,
        "content_type": "text/html; charset=utf-8",
    }
    fields.update(changes)
    return CaptureIn(**fields)  # type: ignore[arg-type]


def dangling(session: Session, store: BlobStore) -> list[int]:
    """Capture rows whose blob is not in the store: must always be empty."""
    rows = session.execute(select(Capture.id, Capture.sha256).where(Capture.sha256.is_not(None)))
    return [cid for cid, sha in rows if sha is None or not store.has(sha)]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_put_is_content_addressed_and_idempotent(store: BlobStore) -> None:
    data = "年报".encode("gb18030")
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = store.path(sha)
    assert path == store.root / sha[:2] / sha[2:4] / sha
    first_mtime = path.stat().st_mtime_ns
    assert store.put(data) == sha
    assert path.stat().st_mtime_ns == first_mtime  # written once, never rewritten
    assert store.get(sha) == data and store.has(sha) and store.verify(sha)
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temp file left behind


def test_put_many_stores_a_batch_as_put_does(store: BlobStore) -> None:
    old = store.put(b"already stored")
    old_mtime = store.path(old).stat().st_mtime_ns
    bodies = [b"page one", "页二".encode("gb18030"), b"page one", b"already stored", b""]
    shas = store.put_many(bodies)
    assert shas == [hashlib.sha256(body).hexdigest() for body in bodies]  # in order, repeats too
    assert all(store.get(sha) == body for sha, body in zip(shas, bodies, strict=True))
    assert store.path(old).stat().st_mtime_ns == old_mtime  # written once, never rewritten
    files = [path for path in store.root.rglob("*") if path.is_file()]
    assert sorted(path.name for path in files) == sorted(set(shas))  # no temp file left behind
    assert {path.stat().st_mode & 0o777 for path in files} == {0o644}
    assert store.put_many([]) == []


def test_put_many_without_syncfs_falls_back_to_put(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "_syncfs", None)  # as on a system without syncfs(2)
    bodies = [b"a", b"b", b"a"]
    assert store.put_many(bodies) == [store.put(body) for body in bodies]
    assert all(store.verify(sha) for sha in store.put_many(bodies))


def test_put_many_that_cannot_sync_names_the_store_and_leaves_no_file(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(fd: int) -> int:
        ctypes.set_errno(errno.ENOSPC)  # what syncfs(2) reports when write-back finds no room
        return -1

    monkeypatch.setattr(blobs, "_syncfs", full_disk)
    with pytest.raises(OSError) as refused:
        store.put_many([b"one", b"two"])
    assert refused.value.errno == errno.ENOSPC and refused.value.filename == str(store.root)
    # Nothing is named by a sha256 (no half-durable blob), and no temporary file remains.
    assert [path for path in store.root.rglob("*") if path.is_file()] == []


def test_verify_detects_damage_and_absence(store: BlobStore) -> None:
    sha = store.put(b"original bytes")
    store.path(sha).write_bytes(b"tampered bytes")
    assert not store.verify(sha)
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not store.verify(missing) and not store.has(missing)
    with pytest.raises(BlobMissing):
        store.get(missing)
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_capture_row_points_at_stored_blob(engine: Engine, store: BlobStore) -> None:
    body = PAGE.encode("utf-8")
    with session_scope(engine) as session:
        run = start_run(session, "tongxiang", "manual")
        row = record_capture(session, store, capture(body, run_id=run.id))
        assert row.id is not None
    with session_scope(engine) as session:
        stored = session.scalars(select(Capture)).one()
        assert stored.sha256 == hashlib.sha256(body).hexdigest()
        assert store.get(stored.sha256) == body
        assert stored.headers == [["Content-Type", "text/html; charset=utf-8"], ["Server", "nginx"]]
        assert stored.fetched_at == FETCHED
        assert stored.encoding == "utf-8"
        assert session.get(Blob, stored.sha256).size == len(body)  # type: ignore[union-attr]


def test_unchanged_content_adds_no_blob(engine: Engine, store: BlobStore) -> None:
    body = PAGE.encode("utf-8")
    for _ in range(3):
        with session_scope(engine) as session:
            record_capture(session, store, capture(body))
    with session_scope(engine) as session:
        assert count(session, Capture) == 3
        assert count(session, Blob) == 1
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1


def test_capture_without_body_has_no_blob(engine: Engine, store: BlobStore) -> None:
    with session_scope(engine) as session:
        row = record_capture(session, store, capture(None))
        assert row.sha256 is None and row.status == 304 and row.encoding is None
        assert count(session, Blob) == 0


def test_gbk_page_declared_gb2312_records_the_codec_used(engine: Engine, store: BlobStore) -> None:
    body = PAGE.replace("utf-8", "gb2312").encode("gbk")
    with session_scope(engine) as session:
        row = record_capture(
            session, store, capture(body, content_type="text/html; charset=gb2312")
        )
        assert row.encoding == "gb18030"
        pdf = record_capture(session, store, capture(b"%PDF-1.4", content_type="application/pdf"))
        assert pdf.encoding is None


def test_capture_rejects_naive_time_and_unknown_kind() -> None:
    with pytest.raises(ValueError):
        capture(b"x", fetched_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        capture(b"x", kind="page")


def test_failure_before_the_row_leaves_no_row(
    engine: Engine, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b"<html>blob written, row never inserted</html>"

    def fail_flush(self: Session, *args: object) -> None:
        raise RuntimeError("process dies here")

    monkeypatch.setattr(Session, "flush", fail_flush)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record_capture(session, store, capture(body))
    monkeypatch.undo()
    assert store.has(hashlib.sha256(body).hexdigest())  # the blob was made durable first
    with session_scope(engine) as session:
        assert count(session, Capture) == 0 and count(session, Blob) == 0


def test_failure_after_flush_before_commit_rolls_back(engine: Engine, store: BlobStore) -> None:
    body = b"<html>row flushed, never committed</html>"
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record_capture(session, store, capture(body))
        raise RuntimeError("process dies here")
    with session_scope(engine) as session:
        assert count(session, Capture) == 0
        assert dangling(session, store) == []


CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from archive.blobs import BlobStore
    from archive.captures import CaptureIn, record_capture
    from archive.db import make_engine, session_scope

    url, root, point, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
    store = BlobStore(root)
    if point == "after_put":
        real_put = BlobStore.put
        def put_then_die(self, data):
            real_put(self, data)
            os._exit(3)
        BlobStore.put = put_then_die
    cap = CaptureIn(portal="p", run_id=None, url="http://h/a", final_url="http://h/a", status=200,
                    headers=[], body=body, fetched_at=datetime.now(UTC), kind="article",
                    parent_url=None, content_type="text/plain")
    with session_scope(make_engine(url)) as session:
        record_capture(session, store, cap)
        if point == "after_flush":
            os._exit(3)
    os._exit(0)
    """
)


@pytest.mark.parametrize("point", ["after_put", "after_flush", "committed"])
def test_process_killed_at_any_point_leaves_no_dangling_row(
    engine: Engine, database_url: str, blob_dir: Path, store: BlobStore, point: str
) -> None:
    body = f"body killed {point}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, database_url, str(blob_dir), point, body],
        env=env,
        cwd=blob_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == (0 if point == "committed" else 3), done.stderr
    assert store.has(hashlib.sha256(body.encode()).hexdigest())
    with session_scope(engine) as session:
        assert dangling(session, store) == []
        assert count(session, Capture) == (1 if point == "committed" else 0)
