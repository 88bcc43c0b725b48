"""Loopback HTTP servers for the replica portals, one port per portal.

Example: ``with ReplicaServer() as replica: crawl(replica.urls["tongxiang"])``, where ``urls`` is
like ``{"tongxiang": "http://127.0.0.1:43121", "taizhou": "http://127.0.0.1:43122"}``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache
from types import TracebackType

from replica.families import portal_ids
from replica.handler import PortalServer
from replica.site import Site


@cache
def _site(portal_id: str) -> Site:
    # A site's pages never change, so servers started one after another share them.
    return Site(portal_id)


class ReplicaServer:
    """Serves each portal at the root of its own port (Hanweb links are absolute paths)."""

    def __init__(self, portals: Iterable[str] | None = None, host: str = "127.0.0.1") -> None:
        # By default plan.toml's portals; families.toml's (TRS, jpaas, generic, faults, the
        # benchmark's) are served when named.
        known = portal_ids(extra=True)
        ids = list(portal_ids(extra=False) if portals is None else portals)
        unknown = sorted(set(ids) - set(known))
        if unknown:
            raise ValueError(f"unknown replica portal(s): {', '.join(unknown)}; known: {known}")
        self._servers: dict[str, PortalServer] = {}
        self._threads: list[threading.Thread] = []
        self.urls: dict[str, str] = {}
        try:
            for pid in ids:
                self._start(pid, host)
        except BaseException:
            self.stop()
            raise

    def _start(self, portal_id: str, host: str) -> None:
        server = PortalServer((host, 0), _site(portal_id))
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"replica-{portal_id}", daemon=True
        )
        thread.start()
        self._servers[portal_id] = server
        self._threads.append(thread)
        self.urls[portal_id] = f"http://{host}:{server.server_address[1]}"

    def stop(self) -> None:
        """Stops every portal server; safe to call twice."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> ReplicaServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
