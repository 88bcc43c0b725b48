"""Content-addressed storage of exact response bytes: one file per sha256, written once."""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
PROBE_BYTES = 64 * 1024  # room for a page, at least, before a crawl starts


class BlobMissing(KeyError):
    """A blob the database names is not in the store."""


class BlobStore:
    """Files at `root/ab/cd/<sha256>`; a file is complete once it has its name."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        """Where the blob `sha` lives (whether or not it exists)."""
        if not _SHA256.fullmatch(sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha[2:4] / sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def get(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha) from None

    def put(self, data: bytes) -> str:
        """Store `data` durably and return its sha256; storing known content does nothing.
        An `OSError` naming the store's root when the disk refuses the write."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.is_file():
            return sha
        try:
            self._write(target, data)
        except OSError as exc:
            # Named by the store, not the temporary file: a write() that finds the disk full
            # names no file at all, and the store is what the user has to free or fix.
            raise OSError(exc.errno, exc.strerror, str(self.root)) from exc
        return sha

    def put_many(self, bodies: Sequence[bytes]) -> list[str]:
        """Store many blobs durably, as `put` does each one, and return their sha256s in order.

        One sync of the file system per step instead of two fsyncs per file: every new file is
        written under a temporary name, the file system is synced (the bytes are durable), the
        files are renamed, and it is synced again (the names are durable). A name still appears
        only on whole bytes. Where `syncfs` is missing (not Linux), this is `put` on each."""
        if _syncfs is None:
            return [self.put(body) for body in bodies]
        shas = [hashlib.sha256(body).hexdigest() for body in bodies]
        todo = {sha: body for sha, body in zip(shas, bodies, strict=True)}
        pending: list[tuple[str, Path]] = []
        try:
            for sha, body in todo.items():
                target = self.path(sha)
                if not target.is_file():
                    pending.append((self._stage(target, body), target))
            if pending:
                self._sync()
                for tmp, target in pending:
                    os.replace(tmp, target)
                pending = []
                self._sync()
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.root)) from exc
        finally:
            for tmp, _ in pending:
                Path(tmp).unlink(missing_ok=True)
        return shas

    def _stage(self, target: Path, data: bytes) -> str:
        """`data` written (not yet synced) to a temporary file beside `target`; its path."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o644)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

    def _sync(self) -> None:
        """Make everything written to the store's file system durable (Linux `syncfs`)."""
        assert _syncfs is not None
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs(fd) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, os.strerror(errno))
        finally:
            os.close(fd)

    def check_writable(self) -> None:
        """Raise the `OSError` (naming the root) that storing a page would get now, on a
        read-only or full disk: a crawl asks before it fetches what it could not store."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
            try:
                os.write(fd, bytes(PROBE_BYTES))
                os.fsync(fd)  # some file systems (NFS, quotas) say they are full only here
            finally:
                os.close(fd)
                os.unlink(tmp)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.root)) from exc

    def verify(self, sha: str) -> bool:
        """True when the stored file exists and still hashes to its name."""
        digest = hashlib.sha256()
        try:
            with self.path(sha).open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha

    def _write(self, target: Path, data: bytes) -> None:
        """Write to a temporary file, fsync it, rename it: the name appears only on whole bytes,
        and a write that fails (a full or read-only disk) leaves nothing behind."""
        self._make_dirs(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            # The rename is atomic: a reader sees no file or the whole file, never a prefix.
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def _make_dirs(self, directory: Path) -> None:
        # A new directory entry is only durable once its parent directory is synced too.
        missing = [d for d in (directory, directory.parent) if not d.is_dir()]
        directory.mkdir(parents=True, exist_ok=True)
        for made in reversed(missing):
            _fsync_dir(made.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's `syncfs(fd)` (Linux ≥ 2.6.39; it reports write errors since 5.8), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        syncfs: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
        return syncfs
    except (AttributeError, OSError):
        return None


_syncfs = _load_syncfs()
