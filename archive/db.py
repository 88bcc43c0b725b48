"""Engines, the one place that commits, and migrations to head."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Engine, Executable, create_engine, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant will do: it only has to be the same for every process migrating one database.
_PG_MIGRATION_LOCK = 7_310_2019


class ArchiveUnavailable(RuntimeError):
    """The archive database cannot be reached or opened; the message is one line for the user."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their directory, WAL, foreign keys and a busy timeout."""
    engine = _engine(url, writer=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def reading_engine(url: str) -> Engine:
    """An engine whose connections refuse writes (SQLite's query_only, PostgreSQL's read-only
    transactions), for every reader: the CLI's read commands and the web view. It creates no
    directory and leaves a SQLite file's journal mode as it is (switching to WAL writes its
    header)."""
    engine = _engine(url, writer=False)
    event.listen(engine, "connect", _read_only)
    return engine


def _engine(url: str, *, writer: bool) -> Engine:
    try:
        parsed = make_url(url)
        if writer and parsed.get_backend_name() == "sqlite":
            _make_sqlite_dir(parsed)
        return create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, OSError) as exc:
        raise ArchiveUnavailable(f"cannot open archive database {url!r}: {_one_line(exc)}") from exc


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only = ON")
    else:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        dbapi_connection.commit()
    cursor.close()


def _make_sqlite_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read while a crawl writes; the timeout lets two writers queue instead of fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed when the block ends, rolled back if it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        _connect(engine, session.connection)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config found through the package path, so it works from an installed wheel."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` (idempotent). An archive already at head is only
    read: no lock is taken, so starting a command never waits on a long write."""
    config = alembic_config()
    connection = _connect(engine, engine.connect)
    with connection:
        if revision == "head" and _current_revision(connection) == head_revision():
            return
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table by copy, drop and rename; with foreign keys on,
            # dropping a table other rows point at fails. The pragma only takes effect outside a
            # transaction, and the keys are checked by hand before the migration commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                # Two processes starting on a fresh database must not both create the tables:
                # the second waits, then finds the first's revision and has nothing to do.
                if sqlite:
                    # pysqlite begins no transaction before DDL: each CREATE would commit alone.
                    # BEGIN IMMEDIATE takes the write lock first and makes the upgrade one unit.
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                elif connection.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _current_revision(connection: Any) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    connection.rollback()  # the read began a transaction; leave none open
    return revision


def _check_foreign_keys(connection: Any) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent = broken[0][0], broken[0][1], broken[0][2]
        raise ArchiveUnavailable(
            f"migration left {len(broken)} broken foreign keys (first: {table} row {rowid} "
            f"points at a missing {parent} row); the archive was not changed"
        )


def _connect(engine: Engine, opener: Any) -> Any:
    try:
        return opener()
    except DBAPIError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise ArchiveUnavailable(
            f"cannot reach archive database {where}: {_one_line(exc.orig)}"
        ) from exc


def _one_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0] if text else type(exc).__name__


def rowcount(session: Session, stmt: Executable) -> int:
    """Rows a compare-and-set UPDATE changed: how a concurrent writer learns whether it won."""
    result = cast(CursorResult[Any], session.connection().execute(stmt))
    return int(result.rowcount)


def insert_if_absent(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when the row went in.

    RETURNING tells, where the driver's rowcount does not (psycopg reports -1 here)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = list(inspect(model).primary_key)
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(*keys)
    return session.connection().execute(stmt).first() is not None


def raw_rows(session: Session, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The driver's own rows (plain tuples) of a statement whose columns need no conversion:
    integers, text, moments read raw. At 100,000 rows SQLAlchemy's Row objects cost several
    times what the query does; the statement still goes through its compiled cache."""
    with raw_cursor(session, stmt, params) as cursor:
        return cursor.fetchall()


@contextmanager
def raw_cursor(session: Session, stmt: Any, params: dict[str, Any] | None = None) -> Iterator[Any]:
    """The driver's cursor over `raw_rows`, to read a row at a time: a row dropped as soon as it
    is read is freed at once, where a list of 100,000 rows is walked by every garbage collection
    that runs while it is alive."""
    result = session.connection().execute(stmt, params)
    try:
        yield result.cursor
    finally:
        result.close()
