"""A crawl job as plain JSON, so the parent process can hand it to a worker process, and what the
worker says back: a line per portal as it ends (`PortalResult`) and, while it crawls, a line
every second or so with the pages its running portals have crawled (`PortalProgress`). Both are
JSON objects whose `type` says which (`worker_line` reads either)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
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

    def to_json(self, *, publishers: bool = True) -> str:
        """One line. Without `publishers` the registry is left out: a batch sends it once, with
        its first job, since each job's copy is the same (`read_jobs`)."""
        # Left out before `asdict`, which would copy the whole registry for every job of a batch
        # only to drop it (two minutes for 1,000 portals of 5 publishers each).
        data = asdict(self if publishers else replace(self, publishers=()))
        data["archive"]["blob_dir"] = str(self.archive.blob_dir)
        if not publishers:
            del data["publishers"]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, publishers: tuple[PublisherSpec, ...] | None = None) -> CrawlJob:
        """A job from one line of `to_json`; `publishers` when the line leaves them out."""
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
            publishers=_publishers(data["publishers"])
            if "publishers" in data
            else publishers or (),
            kind=data["kind"],
            full=data.get("full", False),
        )


def _publishers(rows: list[dict[str, Any]]) -> tuple[PublisherSpec, ...]:
    return tuple(PublisherSpec(**{**p, "aliases": tuple(p["aliases"])}) for p in rows)


def write_jobs(jobs: list[CrawlJob]) -> str:
    """A batch for one worker's stdin: a job per line, the registry on the first line only."""
    return "".join(job.to_json(publishers=n == 0) + "\n" for n, job in enumerate(jobs))


def read_jobs(text: str) -> list[CrawlJob]:
    """The jobs of `write_jobs` (or one job's `to_json`): a line without the registry takes the
    registry of the line before it."""
    return list(iter_jobs(text.splitlines()))


def iter_jobs(lines: Iterable[str]) -> Iterator[CrawlJob]:
    """`read_jobs` a line at a time, each job as soon as its line has come: a long-lived crawl
    process (crawler.process.CrawlStream) is sent its portals as a queue hands them out."""
    publishers: tuple[PublisherSpec, ...] | None = None
    for line in lines:
        if line.strip():
            job = CrawlJob.from_json(line, publishers)
            publishers = job.publishers
            yield job


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


@dataclass(frozen=True)
class PortalResult:
    """How one portal of a batch ended: its run's summary; or `skipped` (another crawl holds the
    portal's lease: the reason); or `error`, the one-line cause when the archive refused the run
    (a full or read-only disk or database; the run, when one was opened, is recorded failed) or
    the worker died. A failed crawl is a summary with status `failed`, not an error."""

    portal: str
    summary: RunSummary | None = None
    skipped: str | None = None
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps({"type": "result", **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PortalResult:
        data: dict[str, Any] = json.loads(text)
        summary = data.get("summary")
        return cls(
            portal=data["portal"],
            summary=RunSummary(**summary) if summary else None,
            skipped=data.get("skipped"),
            error=data.get("error"),
        )

    def as_row(self) -> dict[str, Any]:
        """What `nianbao crawl --json` prints for the portal: the run's summary (numbers as
        numbers), or a row with no run saying `skipped` or `error` and why."""
        if self.summary is not None:
            return asdict(self.summary)
        status = "skipped" if self.skipped is not None else "error"
        return {"run_id": None, "portal": self.portal, "status": status,
                "finding": self.skipped if self.skipped is not None else self.error}  # fmt: skip


@dataclass(frozen=True)
class PortalProgress:
    """Pages crawled so far (handed to the archive) by the portals of a worker still crawling,
    by portal id: those that changed since the worker's last such line."""

    pages: dict[str, int]

    def to_json(self) -> str:
        return json.dumps({"type": "progress", "pages": self.pages}, ensure_ascii=False)


def worker_line(text: str) -> PortalResult | PortalProgress:
    """One line of a worker's stdout. ValueError (a JSON error among them), KeyError or
    TypeError when it is neither kind."""
    data: dict[str, Any] = json.loads(text)
    if data.get("type") == "progress":
        pages = data["pages"]
        if not isinstance(pages, dict) or not all(type(n) is int for n in pages.values()):
            raise TypeError(f"progress pages are not counts: {pages!r:.80}")
        return PortalProgress({str(portal): n for portal, n in pages.items()})
    return PortalResult.from_json(text)
