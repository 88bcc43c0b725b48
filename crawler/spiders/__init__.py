"""One spider per CMS family; a portal is a settings row handed to its family's spider."""

from __future__ import annotations

from crawler.spiders.base import FamilySpider
from crawler.spiders.generic import GenericSpider
from crawler.spiders.hanweb import HanwebSpider
from crawler.spiders.trs import TrsSpider

SPIDERS: dict[str, type[FamilySpider]] = {
    "hanweb": HanwebSpider,
    "trs": TrsSpider,
    "generic": GenericSpider,
}
