"""Shared fixtures: every archive test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PgServer, PostgresUnavailable, postgres_server
from sqlalchemy import Engine

from archive.blobs import BlobStore
from archive.config import ArchiveConfig
from archive.db import make_engine, upgrade

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session; its absence fails the run, never skips it."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for the archive tests: {exc}", pytrace=False)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def archive_config(database_url: str, blob_dir: Path) -> ArchiveConfig:
    return ArchiveConfig(database_url=database_url, blob_dir=blob_dir)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database, migrated to head."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(blob_dir: Path) -> BlobStore:
    return BlobStore(blob_dir)


# pytest-xdist's workers inherit COLUMNS=80 from their start-up; a CLI run by a test must see no
# terminal (its tables are then never cut) unless the test asks for a width itself.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
