"""What a spider yields: one fetch, exactly as it came back. No figures, no parsing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CaptureItem:
    """One HTTP exchange to archive: the bytes, the headers, what kind of page it was and what
    it turned out to be (`outcome`, see crawler.outcomes). `body` is None for a 304 and for a file
    over the size limit."""

    portal: str
    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    fetched_at: datetime
    kind: str  # robots | listing | article | module | attachment | other
    parent_url: str | None = None
    content_type: str | None = None
    outcome: str = "ok"
    detected_type: str | None = None
    finding: str | None = None
    listed_title: str | None = None
