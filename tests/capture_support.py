"""A fetched HTML page as the crawler hands it to the archive, for tests that build an archive
through the real recording and indexing code without a crawl."""

from __future__ import annotations

from datetime import datetime

from archive.captures import CaptureIn

HTML = "text/html; charset=utf-8"


def html_capture(
    url: str, body: bytes, at: datetime, *, kind: str = "article", portal: str = "taizhou"
) -> CaptureIn:
    """A 200 answer of `body` (UTF-8 HTML) for `url`, fetched at `at`, with no run."""
    return CaptureIn(
        portal=portal,
        run_id=None,
        url=url,
        final_url=url,
        status=200,
        headers=[("Content-Type", HTML)],
        body=body,
        fetched_at=at,
        kind=kind,
        parent_url=None,
        content_type=HTML,
    )
