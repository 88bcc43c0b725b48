"""The board's answers kept per process until the archive changes.

Each year's facts (faults, searches), the counts per year and the ids of the publishers with each
status (questions.board, questions.tally) read every year the board shows, about 100 to 250 ms
at 100,000 publishers on SQLite (bench/web_bench.py); a page or filter after the first reuses
them. A cached answer is used while
the archive's fingerprint (the newest run, its end, the newest document, version, capture and
publisher, and the number of publishers: indexed lookups) is unchanged, and for at most `ttl`
seconds, which bounds what the fingerprint cannot see (a registry edited in place).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import Capture, CrawlRun, Document, DocumentVersion, Publisher, RunTally

T = TypeVar("T")
MAX_ENTRIES = 256


def fingerprint(session: Session) -> tuple[Any, ...]:
    """What changes when a crawl, an index pass or a registry sync writes."""
    probes = (
        select(func.max(CrawlRun.id)).scalar_subquery(),
        # The runs' newest end from their tallies (a few rows a portal), not from every run.
        select(func.max(RunTally.last_finished)).scalar_subquery(),
        select(func.max(Document.id)).scalar_subquery(),
        select(func.max(DocumentVersion.id)).scalar_subquery(),
        select(func.max(Capture.id)).scalar_subquery(),
        select(func.max(Publisher.id)).scalar_subquery(),
        select(func.count(Publisher.id)).scalar_subquery(),
    )
    return tuple(session.execute(select(*probes)).one())


class AnswerCache:
    """Computed answers by key, valid for one archive fingerprint and `ttl` seconds."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._entries: dict[Any, tuple[tuple[Any, ...], float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: Any, compute: Callable[[], T], mark: tuple[Any, ...]) -> T:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] == mark and now - hit[1] < self.ttl:
            value: T = hit[2]
            return value
        value = compute()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (mark, now, value)
        return value
