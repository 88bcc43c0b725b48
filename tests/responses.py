"""Saved pages as Scrapy responses, for spider callback tests (city-scrapers' file_response)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import HtmlResponse


def file_response(path: Path, url: str, kind: str = "listing", **meta: Any) -> HtmlResponse:
    """The page saved at `path` as the response to a request for `url`, with the meta a spider's
    request carries (`kind`: listing, article, module; a TRS list page's `page`, …). The body
    stays bytes: the spider decodes it as it would the server's (charset from the page)."""
    request = scrapy.Request(url, meta={"kind": kind, **meta})
    return HtmlResponse(url, body=path.read_bytes(), request=request)
