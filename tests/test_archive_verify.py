"""`nianbao archive verify` finds a blob corrupted on disk, names it, and exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import make_engine, session_scope, upgrade
from archive.verify import verify_archive

PAGE = "<html><body><div id='zoom'>桐乡市商务局2013年度政府信息公开工作报告</div></body></html>".encode()


def fill(engine: Engine, store: BlobStore, bodies: list[bytes]) -> list[str]:
    shas = []
    with session_scope(engine) as session:
        for i, body in enumerate(bodies):
            capture = record_capture(
                session,
                store,
                CaptureIn(
                    portal="p",
                    run_id=None,
                    url=f"http://127.0.0.1/{i}",
                    final_url=f"http://127.0.0.1/{i}",
                    status=200,
                    headers=[("Content-Type", "text/html; charset=utf-8")],
                    body=body,
                    fetched_at=datetime.now(UTC),
                    kind="article",
                    content_type="text/html; charset=utf-8",
                ),
            )
            assert capture.sha256 is not None
            shas.append(capture.sha256)
    return shas


def test_a_sound_archive_verifies(engine: Engine, store: BlobStore) -> None:
    fill(engine, store, [PAGE, b"%PDF-1.4 fake"])
    with session_scope(engine) as session:
        report = verify_archive(session, store)
    assert report.ok and report.blobs == 2 and report.captures == 2


def test_a_flipped_byte_and_a_deleted_blob_are_named(engine: Engine, store: BlobStore) -> None:
    corrupt, deleted = fill(engine, store, [PAGE, b"%PDF-1.4 fake"])
    path = store.path(corrupt)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    store.path(deleted).unlink()
    with session_scope(engine) as session:
        report = verify_archive(session, store)
    assert {(p.kind, p.subject) for p in report.problems} == {
        ("blob_corrupt", corrupt),
        ("blob_missing", deleted),
    }


def test_the_command_names_the_corrupt_blob_and_exits_non_zero(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[archive]\ndatabase_url = "sqlite:///{tmp_path / "a.db"}"\nblob_dir = "{tmp_path / "blobs"}"\n',
        "utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(engine)
    store = BlobStore(tmp_path / "blobs")
    (sha,) = fill(engine, store, [PAGE])
    engine.dispose()
    run = [sys.executable, "-m", "nianbao", "--config", str(settings), "archive", "verify"]
    assert subprocess.run(run, capture_output=True, text=True, check=False).returncode == 0
    store.path(sha).write_bytes(PAGE[:-3])
    done = subprocess.run(run, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert sha in done.stdout and "blob_size" in done.stdout
    assert done.stderr.startswith("nianbao: error: archive verify found 1 problem")
