"""Re-hash every stored blob and check every row that points at one, naming what is wrong.

Foreign keys already forbid most dangling rows; this also catches what a database cannot see:
a blob file deleted, truncated or flipped on disk, or a row written by a tool that bypassed them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from archive.blobs import BlobStore
from archive.models import Attachment, Blob, Capture, DocumentVersion


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the archive: what kind, which row or blob, and the evidence."""

    kind: str  # blob_missing | blob_corrupt | blob_size | capture_without_blob | ...
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    blobs: int
    captures: int
    versions: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_archive(session: Session, store: BlobStore) -> VerifyReport:
    """Every check below, over the whole archive; read-only."""
    problems = [
        *_blob_problems(session, store),
        *_capture_problems(session),
        *_version_problems(session),
        *_attachment_problems(session),
    ]
    return VerifyReport(
        blobs=_count(session, Blob.sha256),
        captures=_count(session, Capture.id),
        versions=_count(session, DocumentVersion.id),
        problems=tuple(problems),
    )


def _count(session: Session, column: Any) -> int:
    return int(session.scalar(select(func.count(column))) or 0)


def _blob_problems(session: Session, store: BlobStore) -> Iterator[Problem]:
    for sha, size in session.execute(select(Blob.sha256, Blob.size).order_by(Blob.sha256)):
        path = store.path(sha)
        if not path.is_file():
            yield Problem("blob_missing", sha, f"no file at {path}")
        elif path.stat().st_size != size:
            yield Problem(
                "blob_size", sha, f"{path} has {path.stat().st_size} bytes, the row says {size}"
            )
        elif not store.verify(sha):
            yield Problem("blob_corrupt", sha, f"{path} no longer hashes to its name")


def _capture_problems(session: Session) -> Iterator[Problem]:
    stmt = (
        select(Capture.id, Capture.sha256)
        .outerjoin(Blob, Blob.sha256 == Capture.sha256)
        .where(Capture.sha256.is_not(None), Blob.sha256.is_(None))
    )
    for capture_id, sha in session.execute(stmt):
        yield Problem(
            "capture_without_blob", f"capture {capture_id}", f"names blob {sha}, which has no row"
        )


def _version_problems(session: Session) -> Iterator[Problem]:
    orphans = (
        select(DocumentVersion.id, DocumentVersion.capture_id)
        .outerjoin(Capture, Capture.id == DocumentVersion.capture_id)
        .where(Capture.id.is_(None))
    )
    for version_id, capture_id in session.execute(orphans):
        yield Problem(
            "version_without_capture", f"version {version_id}", f"capture {capture_id} is gone"
        )
    texts = select(
        DocumentVersion.id, DocumentVersion.content_sha256, DocumentVersion.text
    ).execution_options(yield_per=200)
    for version_id, digest, text in session.execute(texts):
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
            yield Problem(
                "version_digest", f"version {version_id}", "its text does not hash to its digest"
            )


def _attachment_problems(session: Session) -> Iterator[Problem]:
    capture = aliased(Capture)
    stmt = select(Attachment.id, Attachment.sha256, capture.id, capture.sha256).outerjoin(
        capture, capture.id == Attachment.capture_id
    )
    for attachment_id, sha, capture_id, capture_sha in session.execute(stmt):
        if capture_id is None:
            yield Problem(
                "attachment_without_capture", f"attachment {attachment_id}", "its capture is gone"
            )
        elif sha != capture_sha:
            yield Problem(
                "attachment_digest",
                f"attachment {attachment_id}",
                f"says {sha}, its capture says {capture_sha}",
            )
