"""The web view without a browser: `nianbao serve`'s checks, the read-only engine, bad requests
and headers, over an empty migrated archive on SQLite and PostgreSQL (tests/test_web_browser.py
drives chromium over a crawled one)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from archive.blobs import BlobStore
from archive.db import make_engine, reading_engine, session_scope, upgrade
from archive.models import Document, Publisher
from questions.deadlines import DeadlineRules
from replica import settings_for
from web.app import WebConfig, create_app

with warnings.catch_warnings():
    # Starlette 1.x would have its TestClient on `httpx2`, which this index lacks; httpx works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def settings_file(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "settings.toml"
    urls = {"tongxiang": "http://127.0.0.1:9", "taizhou": "http://127.0.0.1:9"}
    text_ = settings_for(urls, f"sqlite:///{database}", str(tmp_path / "blobs"))
    config.write_text(text_, encoding="utf-8")
    return config


@pytest.fixture
def empty_archive(database_url: str) -> str:
    """A migrated, empty archive on SQLite and on PostgreSQL (conftest's `database_url`)."""
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def client(empty_archive: str, tmp_path: Path) -> TestClient:
    config = WebConfig(
        empty_archive,
        BlobStore(tmp_path / "blobs"),
        DeadlineRules(),
        ("tongxiang", "taizhou"),
        lambda: date(2026, 1, 1),
    )
    return TestClient(create_app(config))


def test_serve_without_an_archive_says_so_in_one_line_and_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "typo" / "nianbao.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(settings_file(tmp_path, database)),
         "serve", "--port", "0"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("nianbao: error: no archive at") and str(database) in lines[0]
    assert not database.parent.exists()


def test_the_engine_refuses_writes(empty_archive: str) -> None:
    engine = reading_engine(empty_archive)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM publishers")).scalar() == 0
            with pytest.raises(DBAPIError, match="readonly|read-only"):
                conn.execute(text("DELETE FROM publishers"))
    finally:
        engine.dispose()


def test_a_read_leaves_a_sqlite_file_as_it_was(tmp_path: Path) -> None:
    """Switching a rollback-journal file to WAL would rewrite its header: a reader must not."""
    database = tmp_path / "old.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE publishers (id INTEGER PRIMARY KEY)")
    before = database.read_bytes()
    engine = reading_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM publishers")).scalar() == 0
    finally:
        engine.dispose()
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/board?portal=elsewhere", 400, "unknown portal"),
        ("/board?from=20x9", 400, "from must be a number"),
        ("/board?from=2020&to=2019", 400, "from ≤ to"),
        ("/board?status=%3Cscript%3E", 400, "unknown status &#39;&lt;script&gt;&#39;"),
        ("/board.xml", 400, "unknown format"),
        ("/report/1", 404, "no report 1"),
        ("/capture/1/view", 404, "no archived body"),
        ("/blob/..%2F..%2Fetc%2Fpasswd", 404, "no such page"),
        ("/blob/" + "A" * 64, 404, "64 lowercase hex"),
        ("/blob/" + "0" * 64, 404, "no blob"),
        ("/nowhere", 404, "no such page"),
    ],
)
def test_bad_requests_are_named_and_escaped(
    client: TestClient, path: str, status: int, words: str
) -> None:
    r = client.get(path)
    assert r.status_code == status and words in r.text
    assert "<script>" not in r.text


def test_every_response_carries_a_csp_and_nosniff(client: TestClient) -> None:
    for path in ("/board", "/board.json", "/board.csv", "/runs", "/runs.csv", "/search?q=%25",
                 "/style.css", "/health.json", "/nowhere"):  # fmt: skip
        r = client.get(path)
        assert "default-src 'none'" in r.headers["content-security-policy"], path
        assert "script-src" not in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff", path
    assert client.get("/search.json?q=%25").json() == []  # a LIKE wildcard is searched as text
    assert client.get("/", follow_redirects=False).headers["location"] == "/board"


def test_the_boards_cached_statuses_follow_the_archive(
    client: TestClient, empty_archive: str
) -> None:
    before = client.get("/board.json?portal=tongxiang&from=2019&to=2019").json()
    assert before == []
    engine = make_engine(empty_archive)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO publishers (portal, name, aliases, kind) "
                "VALUES ('tongxiang', '桐乡市新设局', '[]', 'department')"
            )
        )
    engine.dispose()
    after = client.get("/board.json?portal=tongxiang&from=2019&to=2019").json()
    assert [(r["publisher"], r["status"]) for r in after] == [
        ("桐乡市新设局", "unreachable")
    ]  # never crawled
    page = client.get("/board?portal=tongxiang&from=2019&to=2019").text
    assert 'data-count="unreachable">1<' in page


def test_board_statuses_and_counts_on_both_backends(client: TestClient, empty_archive: str) -> None:
    engine = make_engine(empty_archive)
    seen = datetime(2024, 5, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        pubs = {}
        for name, first in (
            ("甲局", None),
            ("乙局", None),
            ("丙局", None),
            ("丁局", None),
            ("戊局", 2021),
        ):
            pubs[name] = Publisher(
                portal="tongxiang", name=name, aliases=[], kind="department", first_year=first
            )
            session.add(pubs[name])
        session.flush()
        for name, published in (
            ("甲局", "2020-01-15T10:00"),
            ("乙局", "2020-02-03T10:00"),
            ("丙局", None),
        ):
            session.add(
                Document(
                    portal="tongxiang", url=f"http://x/{name}", publisher_id=pubs[name].id,
                    report_year=2019, published_at=published, first_seen_at=seen, last_seen_at=seen,
                )
            )  # fmt: skip
    engine.dispose()
    rows = client.get("/board.json?portal=tongxiang&from=2019&to=2019").json()
    got = {r["publisher"]: (r["status"], r["days_late"]) for r in rows}
    assert got == {
        "甲局": ("on_time", 0),
        "乙局": ("late", 3),
        "丙局": ("undated", None),
        "丁局": ("unreachable", None),
        "戊局": ("not_expected", None),
    }
    page = client.get("/board?portal=tongxiang&from=2019&to=2019").text
    for status in ("on_time", "late", "undated", "unreachable", "not_expected"):
        assert f'data-count="{status}">1<' in page, status
    only_late = client.get("/board.json?portal=tongxiang&from=2019&to=2019&status=late").json()
    assert [r["publisher"] for r in only_late] == ["乙局"]


def test_versions_side_by_side() -> None:
    from web.diff import side_by_side

    old = "一、总体情况\n共公开12条。\n二、依申请\n无\n三\n四\n五\n六、问题\n<script>x</script>"
    new = "一、总体情况\n共公开15条。\n二、依申请\n无\n三\n四\n五\n六、问题\n"
    rows = [(r.kind, r.old, r.new) for r in side_by_side(old, new)]
    assert rows == [
        ("equal", "一、总体情况", "一、总体情况"),
        ("replace", "共公开12条。", "共公开15条。"),
        ("equal", "二、依申请", "二、依申请"),
        ("gap", "…", "…"),
        ("equal", "六、问题", "六、问题"),
        ("delete", "<script>x</script>", ""),
    ]
    assert side_by_side("同", "同") == []


def test_start_up_opens_the_connection_before_the_first_request(
    empty_archive: str, tmp_path: Path
) -> None:
    """The app's start-up reads the archive (web.app._warm), so the first request finds its
    connection open; on PostgreSQL the server shows it before any request is made."""
    if not empty_archive.startswith("postgresql"):
        return  # SQLite has no server to ask
    config = WebConfig(
        empty_archive, BlobStore(tmp_path / "blobs"), DeadlineRules(), ("tongxiang",),
        lambda: date(2026, 1, 1),
    )  # fmt: skip
    probe = make_engine(empty_archive)
    others = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def connected() -> int:  # a transaction of its own: the activity view is read once in each
        with probe.connect() as conn:
            return int(conn.execute(others).scalar() or 0)

    try:
        assert connected() == 0
        with TestClient(create_app(config)):
            assert connected() == 1
    finally:
        probe.dispose()


def test_the_app_starts_over_an_archive_it_cannot_read_yet(tmp_path: Path) -> None:
    """A start-up read that fails (a file with no archive's tables) is logged, not raised: the
    requests say what is wrong, as before; and the file is left as it was."""
    database = tmp_path / "old.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE publishers (id INTEGER PRIMARY KEY)")
    before = database.read_bytes()
    config = WebConfig(
        f"sqlite:///{database}", BlobStore(tmp_path / "blobs"), DeadlineRules(), ("tongxiang",),
        lambda: date(2026, 1, 1),
    )  # fmt: skip
    with TestClient(create_app(config)) as client:
        assert client.get("/style.css").status_code == 200
    assert database.read_bytes() == before
