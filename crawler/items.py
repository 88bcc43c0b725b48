"""What a spider yields: one fetch, exactly as it came back. No figures, no parsing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CaptureItem:
    """One HTTP exchange to archive: the bytes, the headers, and what kind of page it was."""

    portal: str
    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    kind: str  # robots | listing | article | module | attachment | other
    parent_url: str | None = None
    content_type: str | None = None
