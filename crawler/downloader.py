"""Scrapy's downloader, held to its slots' concurrency at any delay, one slot per host.

Scrapy (2.19) pops a slot's queue while `free_transfer_slots() > 0` and only schedules each
download as a coroutine; the request joins `slot.transferring` when that coroutine starts. With a
delay the loop stops after one request, but at `DOWNLOAD_DELAY = 0` it pops the whole queue at once:
16 requests (CONCURRENT_REQUESTS) were seen in flight on one host with
CONCURRENT_REQUESTS_PER_DOMAIN = 1 (tests/test_politeness.py). Here a request counts against its
slot from the moment it leaves the queue. The slot key is the host as crawler.hosts spells it, so
that `127.1`, `2130706433` and `example.org.` share the slot of the host they name.
"""

from __future__ import annotations

from time import monotonic

from scrapy import Request
from scrapy.core import downloader as scrapy_downloader
from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.httpobj import urlparse_cached

from crawler.hosts import BadHost, normalise_host


class OneAtATimeDownloader(Downloader):
    """A request is in flight from the moment it leaves its slot's queue."""

    def get_slot_key(self, request: Request) -> str:
        meta_slot: str | None = request.meta.get(self.DOWNLOAD_SLOT)
        if meta_slot is not None:
            return meta_slot
        host = urlparse_cached(request).hostname or ""
        try:
            return normalise_host(host)
        except BadHost:
            return host

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall or slot.download_delay():
            # With a delay Scrapy starts one request and schedules the next call.
            super()._process_queue(slot)
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = monotonic()
            request, queue_dfd = slot.queue.popleft()
            # Scrapy adds it when the coroutine starts (a set: adding it twice is harmless) and
            # removes it when the answer is in.
            slot.transferring.add(request)
            scrapy_downloader._schedule_coro(self._wait_for_download(slot, request, queue_dfd))
