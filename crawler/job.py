"""A crawl job as plain JSON, so the parent process can hand it to a fresh worker process."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from archive.config import ArchiveConfig
from archive.registry import PublisherSpec
from crawler.config import AnnualReportModule, CrawlerConfig, PortalConfig

RUN_KINDS = ("nightly", "backfill", "manual")


@dataclass(frozen=True)
class CrawlJob:
    """Everything one crawl needs: which portal, how politely, into which archive, and why.

    `publishers` is the whole registry from settings: the worker syncs it before indexing, so
    the reports it finds are matched to their publishers as they are archived. A nightly or
    manual crawl is incremental (it stops paging once it meets the records it already has);
    a backfill, or any crawl with `full`, pages through every listing.
    """

    portal: PortalConfig
    crawler: CrawlerConfig
    archive: ArchiveConfig
    publishers: tuple[PublisherSpec, ...]
    kind: str = "manual"
    full: bool = False

    @property
    def pages_everything(self) -> bool:
        """Whether paging goes to the end of every listing, whatever it has already seen."""
        return self.full or self.kind == "backfill"

    def to_json(self) -> str:
        data = asdict(self)
        data["archive"]["blob_dir"] = str(self.archive.blob_dir)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlJob:
        data: dict[str, Any] = json.loads(text)
        portal = dict(data["portal"])
        module = portal.pop("annual_report")
        portal["entry_points"] = tuple(portal["entry_points"])
        portal["allowed_hosts"] = tuple(portal.get("allowed_hosts", ()))
        if module is not None:
            module["areas"] = tuple(module["areas"])
        return cls(
            portal=PortalConfig(
                **portal, annual_report=AnnualReportModule(**module) if module else None
            ),
            crawler=CrawlerConfig(**data["crawler"]),
            archive=ArchiveConfig(
                database_url=data["archive"]["database_url"],
                blob_dir=Path(data["archive"]["blob_dir"]),
            ),
            publishers=tuple(
                PublisherSpec(**{**p, "aliases": tuple(p["aliases"])}) for p in data["publishers"]
            ),
            kind=data["kind"],
            full=data.get("full", False),
        )


@dataclass(frozen=True)
class RunSummary:
    """What a finished crawl reports back to whoever launched it."""

    run_id: int
    portal: str
    kind: str
    status: str
    pages: int
    new_reports: int
    new_versions: int
    errors: int
    finding: str | None
    blocked: int = 0
    gone: int = 0
    not_modified: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RunSummary:
        return cls(**json.loads(text))
