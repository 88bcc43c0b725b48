"""One spider per CMS family; a portal is a settings row handed to its family's spider."""

from __future__ import annotations

from crawler.spiders.hanweb import HanwebSpider

SPIDERS = {"hanweb": HanwebSpider}
