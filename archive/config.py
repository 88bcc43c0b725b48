"""Typed view of the `[archive]` settings section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ArchiveConfig:
    """Where the archive keeps its rows (a SQLAlchemy URL) and its raw bytes (a directory)."""

    database_url: str
    blob_dir: Path
