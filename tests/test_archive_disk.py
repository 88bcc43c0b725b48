"""A full disk or a read-only archive: the crawl stops, says why in one line, and the archive stays
valid; once there is room again, the next crawl completes it.

The faults are real, not mocks. We run as root, so file modes stop nothing: a small tmpfs fills up
(ENOSPC, for the blob store and for the SQLite file), a read-only bind mount refuses every write
(EROFS), SQLite opened with `mode=ro` and PostgreSQL with `default_transaction_read_only` refuse
the database's, and a PostgreSQL role without UPDATE on `crawl_runs` (a role of the test's own:
privileges do not bind the server's superuser) cannot close its run. Mounting needs CAP_SYS_ADMIN
(root on the CI machine has it) and the role needs CREATEROLE (the throwaway cluster's role has
it): without them these tests fail, they never skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from pgserver import PgServer
from psycopg import sql
from replica_fixtures import replica_process, replica_settings
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import make_engine, upgrade
from archive.models import CrawlRun, Document
from archive.verify import verify_archive
from crawler.job import CrawlJob
from crawler.process import CrawlFailed, run_crawl
from ops.leases import ORPHAN_FINDING
from replica import settings_for
from replica.truth import load_truth

PORTAL = "taizhou"  # the smaller replica portal


@pytest.fixture(scope="module")
def replica_url() -> Iterator[str]:
    with replica_process() as urls:
        yield urls[PORTAL]


def test_a_full_blob_store_stops_the_crawl_and_the_archive_stays_valid(
    replica_url: str, tmp_path: Path
) -> None:
    disk, blobs = tmp_path / "disk", tmp_path / "disk" / "blobs"
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    with tmpfs(disk, "1m"):
        filler = fill(disk, leave=160 * 1024)  # room to start, not for the whole crawl
        with pytest.raises(CrawlFailed) as failed:
            run_crawl(crawl_job(replica_url, database_url, blobs))
        cause = f"archive write failed: No space left on device: {blobs}"
        assert str(failed.value) == f"crawl of {PORTAL} exited 1: {cause}"
        assert last_run(database_url) == ("failed", cause)
        assert_sound(database_url, blobs)

        filler.unlink()  # space freed: the next crawl completes the archive
        assert run_crawl(crawl_job(replica_url, database_url, blobs)).status == "ok"
        assert_complete(database_url, blobs, replica_url)


def test_a_read_only_blob_store_is_one_line_from_the_cli(replica_url: str, tmp_path: Path) -> None:
    database_url, blobs = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "blobs"
    config = settings_file(tmp_path, replica_url, database_url, blobs)
    blobs.mkdir()
    with read_only(blobs):
        before = requests_made(replica_url)
        done = nianbao(config, "crawl", PORTAL)
        cause = f"archive write failed: Read-only file system: {blobs}"
        assert_one_line_error(done, f"crawl of {PORTAL} exited 1: {cause}")
        assert requests_made(replica_url) == before  # nothing fetched that could not be stored
        assert last_run(database_url) == ("failed", cause)
        # With the crawler's log sent to a file, the cause still reaches the user.
        logged = nianbao(config, "crawl", PORTAL, "--log", str(tmp_path / "crawl.log"))
        assert_one_line_error(logged, f"crawl of {PORTAL} exited 1: {cause}")
        assert_sound(database_url, blobs)
    assert run_crawl(crawl_job(replica_url, database_url, blobs)).status == "ok"
    assert_complete(database_url, blobs, replica_url)


def test_a_full_sqlite_database_is_one_line_and_the_archive_stays_valid(
    replica_url: str, tmp_path: Path
) -> None:
    disk, blobs = tmp_path / "disk", tmp_path / "blobs"
    database_url = f"sqlite:///{disk / 'archive.db'}"
    config = settings_file(tmp_path, replica_url, database_url, blobs)
    with tmpfs(disk, "2m"):
        migrate(database_url)
        filler = fill(disk, leave=160 * 1024)  # the schema fits, a few dozen captures more
        done = nianbao(config, "crawl", PORTAL)
        assert_one_line_error(done, "database or disk is full")
        assert_sound(database_url, blobs)

        filler.unlink()
        assert run_crawl(crawl_job(replica_url, database_url, blobs)).status == "ok"
        # The full crawl closed its run with the cause, or (when not even that fitted) the next
        # crawl closed it as a crawl that died.
        first, latest = runs(database_url)
        assert first[0] == "failed" and latest == ("ok", None)
        assert_complete(database_url, blobs, replica_url)


def test_a_read_only_database_is_one_line_for_every_command_that_writes(
    replica_url: str, database_url: str, tmp_path: Path
) -> None:
    blobs = tmp_path / "blobs"
    migrate(database_url)
    with read_only_database(database_url) as (url, cause):
        config = settings_file(tmp_path, replica_url, url, blobs)
        for command in (["crawl", PORTAL], ["reparse", "--all"]):
            assert_one_line_error(nianbao(config, *command), f"archive write failed: {cause}")
    assert run_crawl(crawl_job(replica_url, database_url, blobs)).status == "ok"
    assert_complete(database_url, blobs, replica_url)
    # A read-only archive is still an archive: the commands that only read it work.
    with read_only_database(database_url) as (url, _cause):
        config = settings_file(tmp_path, replica_url, url, blobs)
        reports = nianbao(config, "reports", "--format", "json")
        assert reports.returncode == 0, reports.stderr
        assert len(json.loads(reports.stdout)) > 10
        verified = nianbao(config, "archive", "verify")
        assert verified.returncode == 0, verified.stderr


def test_a_run_the_database_will_not_close_is_still_one_line(
    replica_url: str, pg_server: PgServer, tmp_path: Path
) -> None:
    blobs = tmp_path / "blobs"
    with database_of_a_plain_role(pg_server) as database_url:
        config = settings_file(tmp_path, replica_url, database_url, blobs)
        migrate(database_url)
        # The crawl opens its run and archives everything; closing the run is refused.
        admin(database_url, "REVOKE UPDATE ON crawl_runs FROM CURRENT_USER")
        done = nianbao(config, "crawl", PORTAL)
        assert_one_line_error(done, "archive write failed: permission denied for table crawl_runs")
        assert runs(database_url) == [("running", None)]
        assert_sound(database_url, blobs)

        admin(database_url, "GRANT UPDATE ON crawl_runs TO CURRENT_USER")
        assert run_crawl(crawl_job(replica_url, database_url, blobs)).status == "ok"
        assert runs(database_url)[0] == ("failed", ORPHAN_FINDING)  # closed by the next crawl
        assert_complete(database_url, blobs, replica_url)


def test_a_blob_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with tmpfs(disk, "64k"):
        store = BlobStore(disk / "blobs")
        small = store.put(b"small")
        with pytest.raises(OSError, match="No space left on device") as refused:
            store.put(os.urandom(128 * 1024))
        assert refused.value.filename == str(disk / "blobs")
        assert [p.name for p in (disk / "blobs").rglob("*") if p.is_file()] == [small]


# Faults


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"mount {' '.join(args)} failed ({done.stderr.strip()}): these tests make real disk "
            "faults and need root with CAP_SYS_ADMIN",
            pytrace=False,
        )


def unmount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=True)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A file system of `size` at `path`, for as long as the block runs."""
    path.mkdir(parents=True, exist_ok=True)
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        unmount(path)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` as a read-only bind mount of itself: every write under it fails with EROFS."""
    mount("--bind", str(path), str(path))
    try:
        mount("-o", "remount,ro,bind", str(path))
        yield path
    finally:
        unmount(path)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of `disk`'s free space but `leave` bytes; delete it to free them."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(bytes(stat.f_bavail * stat.f_frsize - leave))
    return filler


@contextmanager
def read_only_database(database_url: str) -> Iterator[tuple[str, str]]:
    """The URL of the same database, read-only, and the error a write gets there."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield (
            f"sqlite:///file:{url.database}?mode=ro&uri=true",
            "attempt to write a readonly database",
        )
        return
    name = sql.Identifier(url.database or "")
    # Said from another database: a session on a read-only one could not take it back.
    server = url.set(database="postgres").render_as_string(hide_password=False)
    admin(server, sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(name))
    try:
        yield database_url, "cannot execute INSERT in a read-only transaction"
    finally:
        admin(server, sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only").format(name))


@contextmanager
def database_of_a_plain_role(pg_server: PgServer) -> Iterator[str]:
    """A fresh database owned by a role of its own that is no superuser (the server's role is
    one, and privileges do not bind a superuser); the URL connects as that role."""
    url = make_url(pg_server.create_database())
    role, database = sql.Identifier(f"{url.database}_crawler"), sql.Identifier(url.database or "")
    server = url.set(database="postgres").render_as_string(hide_password=False)
    admin(server, sql.SQL("CREATE ROLE {} LOGIN").format(role))
    try:
        admin(server, sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, role))
        yield url.set(username=f"{url.database}_crawler").render_as_string(hide_password=False)
    finally:
        pg_server.drop_database(url.render_as_string(hide_password=False))
        admin(server, sql.SQL("DROP ROLE IF EXISTS {}").format(role))


def admin(database_url: str, statement: str | sql.Composed) -> None:
    """One statement on a PostgreSQL database, from outside the archive's code."""
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql.SQL(statement) if isinstance(statement, str) else statement)


# Crawls and commands


def crawl_job(replica_url: str, database_url: str, blobs: Path) -> CrawlJob:
    settings = replica_settings({PORTAL: replica_url}, database_url, blobs)
    return CrawlJob(
        portal=settings.portal(PORTAL),
        crawler=settings.crawler,
        archive=settings.archive,
        publishers=settings.publishers,
    )


def settings_file(tmp_path: Path, replica_url: str, database_url: str, blobs: Path) -> Path:
    path = tmp_path / "settings.toml"
    text = settings_for({PORTAL: replica_url}, database_url=database_url, blob_dir=str(blobs))
    path.write_text(text, "utf-8")
    return path


def nianbao(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "nianbao", "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def requests_made(replica_url: str) -> int:
    with urllib.request.urlopen(f"{replica_url}/__replica__/stats", timeout=10) as response:
        stats: dict[str, dict[str, int]] = json.load(response)
    return sum(sum(methods.values()) for methods in stats.values())


def migrate(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()


# What the archive holds


def runs(database_url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(select(CrawlRun.status, CrawlRun.finding).order_by(CrawlRun.id))
        found = [(status, finding) for status, finding in rows]
    engine.dispose()
    return found


def last_run(database_url: str) -> tuple[str, str | None]:
    return runs(database_url)[-1]


def assert_one_line_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    """A non-zero exit whose stderr ends with one `nianbao: error:` line (after the progress
    lines) naming `expected`, and no traceback."""
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("nianbao: error:")]
    assert errors == lines[-1:] and expected in errors[0], done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def assert_sound(database_url: str, blobs: Path) -> None:
    """`archive verify` passes; no temporary file is left; every blob file, with or without its
    row, is whole (it hashes to its name)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        report = verify_archive(session, BlobStore(blobs))
    engine.dispose()
    assert report.ok, [str(p) for p in report.problems]
    files = [p for p in blobs.rglob("*") if p.is_file()] if blobs.is_dir() else []
    assert not [p for p in files if p.name.startswith(".tmp-")]
    assert all(BlobStore(blobs).verify(p.name) for p in files)


def assert_complete(database_url: str, blobs: Path, replica_url: str) -> None:
    """The archive holds every report of the portal, and verifies."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        urls = set(session.scalars(select(Document.url).where(Document.portal == PORTAL)))
    engine.dispose()
    assert urls == {replica_url + r.url for r in load_truth().reports_of(PORTAL)}
    assert last_run(database_url) == ("ok", None)
    assert_sound(database_url, blobs)
