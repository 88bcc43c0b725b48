"""Per-server mutable state behind the test hooks: revisions, deletions, a broken listing, and
request counts."""

from __future__ import annotations

import threading
import time
from collections import defaultdict


class ReplicaState:
    """Thread-safe; one per portal server, so tests running side by side do not interfere."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revisions: dict[str, list[str]] = {}
        self._revised_at: dict[str, float] = {}
        self._counts: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._deleted: set[str] = set()
        self.broken = (
            False  # the 年报 listing shows no records (a redesign, as far as a crawler sees)
        )

    def count(self, target: str, method: str) -> None:
        with self._lock:
            self._counts[target][method] += 1

    def hits(self, target: str) -> int:
        """Requests for one target (path and query) so far, this one included."""
        with self._lock:
            return sum(self._counts.get(target, {}).values())

    def stats(self) -> dict[str, dict[str, int]]:
        """Requests seen so far: {request target (path and query): {method: count}}."""
        with self._lock:
            return {target: dict(methods) for target, methods in self._counts.items()}

    def revise(self, key: str) -> int:
        """Append a 更正说明 to a page; returns how many revisions it now has."""
        with self._lock:
            notes = self._revisions.setdefault(key, [])
            notes.append(
                f"更正说明：经核查，本报告部分表述有误，现予更正（第{len(notes) + 1}次更正）。"
            )
            self._revised_at[key] = time.time()
            return len(notes)

    def revisions(self, key: str) -> tuple[tuple[str, ...], float | None]:
        with self._lock:
            return tuple(self._revisions.get(key, ())), self._revised_at.get(key)

    def delete(self, key: str) -> None:
        """Take a report page down, as a portal deletes a document."""
        with self._lock:
            self._deleted.add(key)

    def deleted(self, key: str) -> bool:
        with self._lock:
            return key in self._deleted

    def reset(self) -> None:
        with self._lock:
            self._revisions.clear()
            self._revised_at.clear()
            self._counts.clear()
            self._deleted.clear()
            self.broken = False
