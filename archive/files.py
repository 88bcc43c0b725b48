"""Files the archive writes for people: staged under temporary names and renamed into place, so a
kill leaves the previous file whole; names from data kept inside their directory; CSV cells that a
spreadsheet will not run as formulas."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from archive.clock import local

# `.<name>.<pid>.nianbao-tmp`: hidden, named after the file it will become and the process
# writing it, so the next export can tell an orphan (its process is gone) from a live one.
TEMP_SUFFIX = ".nianbao-tmp"
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)" + re.escape(TEMP_SUFFIX))
# OWASP's CSV injection list: a cell starting with one of these may be run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


class ExportRefused(RuntimeError):
    """An export that would overwrite a file without leave, or write outside its directory."""


class UnsafePath(ExportRefused):
    """A file name built from data (a portal id) that would leave its directory."""


def inside(directory: Path, name: str) -> Path:
    """`directory / name`, refused unless it is a plain file name that stays in `directory`:
    every path built from data goes through here (portal ids are also checked in settings)."""
    target = directory / name
    plain = name and not name.startswith(".")
    if not plain or "/" in name or "\\" in name or "\0" in name:
        raise UnsafePath(f"refusing to write {name!r}: not a plain file name in {directory}")
    if target.resolve().parent != directory.resolve():
        raise UnsafePath(f"refusing to write {name!r}: it leads out of {directory}")
    return target


class StagedFiles:
    """Files opened under temporary names in one directory; `commit` renames them all into place."""

    def __init__(self, directory: Path, replace: bool) -> None:
        self.directory = directory
        self.replace = replace
        self._staged: list[tuple[Path, Path]] = []

    def open(self, name: str, mode: str = "w") -> IO[Any]:
        """A new temporary file that becomes `name` on commit; refused if `name` exists and
        replacing was not asked for."""
        target = inside(self.directory, name)
        if target.exists() and not self.replace:
            raise ExportRefused(f"{target} already exists; pass --force to replace it")
        tmp = self.directory / f".{name}.{os.getpid()}{TEMP_SUFFIX}"
        if "b" in mode:
            fh: IO[Any] = open(tmp, mode.replace("w", "x"))  # noqa: SIM115 - the caller closes it
        else:
            fh = open(tmp, mode.replace("w", "x"), encoding="utf-8", newline="")  # noqa: SIM115
        self._staged.append((tmp, target))
        return fh

    def commit(self) -> None:
        """Make every staged file durable, then rename each over its target, then sync the names."""
        for tmp, _ in self._staged:
            _fsync(tmp, os.O_RDONLY)
        for tmp, target in self._staged:
            os.replace(tmp, target)
        _fsync(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        self._staged = []

    def discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged = []


@contextmanager
def staged_files(directory: Path, replace: bool) -> Iterator[StagedFiles]:
    """All the files written in the block appear together when it ends, or none if it raises.

    Orphans of an earlier export killed in this directory are removed first."""
    directory.mkdir(parents=True, exist_ok=True)
    remove_orphans(directory)
    files = StagedFiles(directory, replace)
    try:
        yield files
        files.commit()
    except BaseException:
        files.discard()
        raise


def remove_orphans(directory: Path) -> list[Path]:
    """Delete the temporary files of exports whose process is gone; returns what it deleted."""
    removed = []
    for path in directory.glob(f".*{TEMP_SUFFIX}"):
        match = _TEMP.fullmatch(path.name)
        if match and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not ours to judge
    return True


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def csv_cell(value: Any) -> str:
    """One CSV cell: text that a spreadsheet would read as a formula gets a leading `'`
    (OWASP); numbers, including negative ones written as text, stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return text
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def plain(value: Any) -> Any:
    """A JSON-ready value: ISO dates, exact decimals as numbers' text, lists kept. One shape for
    the CLI's `--format json` and the web view's JSON twins."""
    if isinstance(value, datetime):  # stored UTC (SQLite: naive); shown in Asia/Shanghai
        return local(value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat(
            timespec="minutes"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


_DECIMAL = "\x00decimal:"
_DECIMAL_TOKEN = re.compile(r'"\\u0000decimal:(-?[0-9.E+-]+)"')


def json_text(data: Any, value: Callable[[Any], Any] = plain) -> str:
    """JSON text where an exact decimal is a number with its exact digits (no float rounds it);
    every other leaf goes through `value`. One codec for the CLI's JSON and the web's twins."""

    def mark(leaf: Any) -> Any:
        if isinstance(leaf, Decimal):
            return f"{_DECIMAL}{leaf}" if leaf.is_finite() else str(leaf)
        if isinstance(leaf, dict):
            return {k: mark(v) for k, v in leaf.items()}
        if isinstance(leaf, (list, tuple)):
            return [mark(v) for v in leaf]
        return value(leaf)

    text = json.dumps(mark(data), ensure_ascii=False, indent=2)
    return _DECIMAL_TOKEN.sub(r"\1", text)
