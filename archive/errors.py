"""Refused writes: when the blob store or the database will take no more (full, read-only, over
quota), one error says so in one line, wherever the write was."""

from __future__ import annotations

import errno

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

# What says the archive will take no more: retrying with the next capture would fail the same way.
# errno: a full disk, a quota, a file-size limit, a read-only file system, a refusal, a bad disk.
_REFUSED_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)
# SQLite primary result codes: SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL.
_REFUSED_SQLITE_CODES = frozenset({3, 8, 10, 13})
# PostgreSQL SQLSTATEs: disk_full, read_only_sql_transaction, insufficient_privilege, io_error.
_REFUSED_SQLSTATES = frozenset({"53100", "25006", "42501", "58030"})


class ArchiveWriteFailed(Exception):
    """The blob store or the database refused a write (full, read-only, over quota): archiving
    cannot go on. The message is one line, `archive write failed: <cause>: <where>`."""


def write_failure(exc: BaseException, database: str | None = None) -> ArchiveWriteFailed | None:
    """`exc` as an `ArchiveWriteFailed` when it says the archive cannot be written (`database`,
    a URL, names where a database error happened); None for any other error."""
    if isinstance(exc, ArchiveWriteFailed):
        return exc
    if isinstance(exc, OSError) and exc.errno in _REFUSED_ERRNOS:
        where = f": {exc.filename}" if exc.filename else ""
        return ArchiveWriteFailed(f"archive write failed: {exc.strerror}{where}")
    if isinstance(exc, DBAPIError) and _refused(exc.orig):
        cause = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return ArchiveWriteFailed(f"archive write failed: {cause}{_where(database)}")
    return None


def _refused(error: BaseException | None) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _REFUSED_SQLITE_CODES  # the low byte is the primary code
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state in _REFUSED_SQLSTATES


def _where(database: str | None) -> str:
    if not database:
        return ""
    try:
        return f": {make_url(database).render_as_string(hide_password=True)}"
    except ArgumentError:
        return ""
