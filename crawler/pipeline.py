"""The one item pipeline: every capture goes into the archive, in its own short transaction.

One transaction per capture means a crawl killed at any moment loses at most the page in flight,
and the blob store is written before the row (archive.captures), so no row ever lacks its bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import make_engine, session_scope
from crawler.items import CaptureItem


class ArchivePipeline:
    """Writes `CaptureItem`s as capture rows pointing at sha256-addressed blobs."""

    def __init__(self, database_url: str, blob_dir: str, run_id: int, crawler: Crawler) -> None:
        self.engine = make_engine(database_url)
        self.store = BlobStore(Path(blob_dir))
        self.run_id = run_id
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        s = crawler.settings
        return cls(
            s["NIANBAO_DATABASE_URL"], s["NIANBAO_BLOB_DIR"], s.getint("NIANBAO_RUN_ID"), crawler
        )

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, CaptureItem):
            return item
        with session_scope(self.engine) as session:
            record_capture(session, self.store, _capture_in(item, self.run_id))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("nianbao/captures")
            self.crawler.stats.inc_value(f"nianbao/captures/{item.kind}")
        return item

    def close_spider(self) -> None:
        self.engine.dispose()


def _capture_in(item: CaptureItem, run_id: int) -> CaptureIn:
    return CaptureIn(
        portal=item.portal,
        run_id=run_id,
        url=item.url,
        final_url=item.final_url,
        status=item.status,
        headers=list(item.headers),
        body=item.body,
        fetched_at=item.fetched_at,
        kind=item.kind,
        parent_url=item.parent_url,
        content_type=item.content_type,
    )
