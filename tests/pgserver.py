"""A PostgreSQL server for the tests: the one NIANBAO_TEST_PG_URL names, or a throwaway cluster.

The throwaway cluster lives in a temp dir, listens on a unix socket there only (so no port can
clash), runs without fsync, and is deleted at the end. PostgreSQL refuses to run as root, so under
root its commands run as the `postgres` system user.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "NIANBAO_TEST_PG_URL"
ENV_BINDIR = "NIANBAO_PG_BINDIR"
_SERVICE_USER = "postgres"
_ROLE = "nianbao"
_PORT = 5432  # only names the socket file: the cluster has no TCP listener


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be found or started for the tests."""


class PgServer:
    """Hands out a fresh, empty database per test on one server."""

    def __init__(self, url: str) -> None:
        # psycopg 3 is the driver we ship; a bare postgresql:// URL would ask for psycopg2.
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self._names = itertools.count(1)

    def create_database(self) -> str:
        name = f"nianbao_test_{os.getpid()}_{next(self._names)}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database or ""
        stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self._admin(stmt)

    def _admin(self, stmt: sql.Composed) -> None:
        # libpq reads the same URL without the SQLAlchemy driver suffix.
        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(stmt)


@contextmanager
def postgres_server() -> Iterator[PgServer]:
    """The server of NIANBAO_TEST_PG_URL (its role needs CREATEDB), else a throwaway cluster."""
    if os.environ.get(ENV_URL):
        yield PgServer(os.environ[ENV_URL])
        return
    with _throwaway_cluster() as url:
        yield PgServer(url)


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    bindir = find_bindir()
    user = _service_user()
    root = Path(tempfile.mkdtemp(prefix="nbpg-", dir="/tmp" if Path("/tmp").is_dir() else None))
    data, log = root / "data", root / "server.log"
    try:
        if user is not None:
            shutil.chown(root, user.pw_uid, user.pw_gid)
        initdb = ["-D", data, "-U", _ROLE, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        _run(user, root, bindir / "initdb", *initdb)
        # Unix socket in our temp dir only; no durability needed for a throwaway cluster.
        server = f"-k {root} -p {_PORT} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        _run(user, root, bindir / "pg_ctl", "-D", data, "-l", log, "-o", server, "-w", "start")
        try:
            yield URL.create(
                "postgresql+psycopg",
                username=_ROLE,
                database="postgres",
                query={"host": str(root), "port": str(_PORT)},
            ).render_as_string(hide_password=False)
        finally:
            _run(user, root, bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: $NIANBAO_PG_BINDIR, pg_config, PATH, or distro paths."""
    for candidate in _bindir_candidates():
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL, set "
        f"{ENV_BINDIR} to their directory, or point {ENV_URL} at a running server"
    )


def _bindir_candidates() -> Iterator[Path]:
    if os.environ.get(ENV_BINDIR):
        yield Path(os.environ[ENV_BINDIR])
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        yield Path(out.stdout.strip())
    initdb = shutil.which("initdb")
    if initdb:
        yield Path(initdb).parent
    distro = Path("/usr/lib/postgresql").glob("*/bin")
    yield from sorted(distro, key=lambda p: _version(p.parent.name), reverse=True)
    yield from (Path("/usr/local/pgsql/bin"), Path("/usr/pgsql/bin"))


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _service_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and PostgreSQL refuses root: create a {_SERVICE_USER!r} system user "
            f"or set {ENV_URL}"
        ) from None


def _run(user: pwd.struct_passwd | None, cwd: Path, *args: Any) -> None:
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False, **as_user
    )
    if done.returncode != 0:
        log = cwd / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise PostgresUnavailable(
            f"{Path(str(args[0])).name} failed ({done.returncode}): {done.stderr.strip()} {tail}"
        )
