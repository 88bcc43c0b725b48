"""A crawl's hold on its portal: the portal's lease (ops.leases), and, when the lease finds runs
left `running` by a crawl that died, the indexing of what that crawl captured."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Engine

from archive.blobs import BlobStore
from crawler.job import CrawlJob
from ops.leases import Holder, LeaseTerms, portal_lease


def crawl_lease(job: CrawlJob, terms: LeaseTerms | None = None) -> AbstractContextManager[Holder]:
    """The lease `job`'s crawl holds while it runs (`ops.leases.LeaseHeld` when another crawl
    of the portal holds it)."""

    def index_orphans(engine: Engine) -> None:
        # The dead crawl's captures are in the archive but were never indexed. In short
        # batches: the lease's own renewals (and every other writer) go on meanwhile.
        from archive.batches import index_in_batches  # parsing is heavy: only when needed

        index_in_batches(engine, BlobStore(job.archive.blob_dir), portal=job.portal.id)

    archive = job.archive
    return portal_lease(archive.database_url, job.portal.id, job.kind, terms, index_orphans)
