"""Engines, migrations and the run record, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import archive
from archive.db import ArchiveUnavailable, alembic_config, make_engine, session_scope, upgrade
from archive.models import Base, CrawlRun
from archive.runs import finish_run, list_runs, start_run


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_reaches_head(engine: Engine) -> None:
    upgrade(engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrations_ship_inside_the_package(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found through the package path, not an alembic.ini in the working directory.
    package = Path(archive.__file__).parent
    assert (package / "migrations" / "env.py").is_file()
    assert list((package / "migrations" / "versions").glob("*.py"))
    monkeypatch.chdir(tmp_path)
    engine = make_engine(database_url)
    upgrade(engine)
    assert "captures" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_engine_sets_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'a.db'}")
    with engine.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert conn.scalar(text("PRAGMA foreign_keys")) == 1
        assert conn.scalar(text("PRAGMA busy_timeout")) > 0
    assert (tmp_path / "deep" / "dir" / "a.db").exists()
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/nianbao?connect_timeout=2",
        "sqlite:////proc/no-such-dir/archive.db",
        "nosuchdb://x/y",
    ],
)
def test_unreachable_database_is_one_line_error(url: str) -> None:
    with pytest.raises(ArchiveUnavailable) as raised:
        engine = make_engine(url)
        upgrade(engine)
    message = str(raised.value)
    assert "\n" not in message and "database" in message


def test_session_scope_commits_or_rolls_back(engine: Engine) -> None:
    with session_scope(engine) as session:
        start_run(session, "tongxiang", "nightly")
    with pytest.raises(KeyError), session_scope(engine) as session:
        start_run(session, "taizhou", "nightly")
        raise KeyError("boom")
    with session_scope(engine) as session:
        assert [r.portal for r in list_runs(session)] == ["tongxiang"]


def test_runs_record_outcome_and_list_newest_first(engine: Engine) -> None:
    t0 = datetime(2025, 2, 1, 18, 30, tzinfo=UTC)
    with session_scope(engine) as session:
        first = start_run(session, "tongxiang", "nightly", at=t0)
        finish_run(session, first, "ok", 40, 3, 1, 0, 0, None, at=t0 + timedelta(minutes=5))
        second = start_run(session, "tongxiang", "backfill", at=t0 + timedelta(days=1))
        finish_run(
            session, second, "failed", pages=2, blocked=2, errors=1, finding="WZWS challenge"
        )
        start_run(session, "taizhou", "manual", at=t0)
    with session_scope(engine) as session:
        runs = list_runs(session, portal="tongxiang")
        assert [(r.kind, r.status) for r in runs] == [("backfill", "failed"), ("nightly", "ok")]
        ok = runs[1]
        assert (ok.pages, ok.new_reports, ok.new_versions) == (40, 3, 1)
        assert ok.started_at == t0 and ok.finished_at == t0 + timedelta(minutes=5)
        assert runs[0].finding == "WZWS challenge" and runs[0].blocked == 2
        assert len(list_runs(session, limit=1)) == 1
        assert session.get(CrawlRun, 3).status == "running"  # type: ignore[union-attr]


def test_run_kind_and_status_are_checked(engine: Engine) -> None:
    with session_scope(engine) as session:
        with pytest.raises(ValueError):
            start_run(session, "tongxiang", "hourly")
        run = start_run(session, "tongxiang", "manual")
        with pytest.raises(ValueError):
            finish_run(session, run, "done")


def test_upgrade_keeps_a_populated_archive_from_the_first_revision(tmp_path: Path) -> None:
    # Later revisions rebuild tables that other rows point at (SQLite batch mode): an archive
    # made by revision 0001 and full of linked rows must upgrade to head and keep every row.
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    now = "2026-01-02 03:04:05"
    rows = [
        "INSERT INTO blobs (sha256, size, stored_at) VALUES ('ab', 2, :now)",
        "INSERT INTO crawl_runs (id, kind, portal, started_at, status, pages, new_reports,"
        " new_versions, blocked, errors) VALUES (1, 'nightly', 'p', :now, 'ok', 1, 1, 1, 0, 0)",
        "INSERT INTO documents (id, portal, url, first_seen_at, last_seen_at)"
        " VALUES (1, 'p', 'http://x/a.html', :now, :now)",
        "INSERT INTO captures (id, run_id, portal, url, final_url, status, headers, fetched_at,"
        " sha256, kind, document_id) VALUES (1, 1, 'p', 'http://x/a.html', 'http://x/a.html',"
        " 200, '{}', :now, 'ab', 'article', 1)",
        "INSERT INTO document_versions (id, document_id, capture_id, content_sha256, seen_at,"
        " metadata, text, parser_version) VALUES (1, 1, 1, 'ab', :now, '{}', 't', '0')",
    ]
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"now": now})
    upgrade(engine)
    with engine.connect() as conn:
        for table in ("blobs", "crawl_runs", "documents", "captures", "document_versions"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()
