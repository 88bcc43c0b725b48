"""Scrapy settings for one crawl, built from the typed config: polite unless told otherwise."""

from __future__ import annotations

from typing import Any

from archive.clock import LOG_DATEFORMAT
from crawler.job import CrawlJob

# 429 and the 5xx a busy government server gives are worth retrying; 404 is an answer.
RETRY_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
MAX_REDIRECTS = 10


def scrapy_settings(job: CrawlJob, run_id: int) -> dict[str, Any]:
    """One request at a time per host, a delay, robots.txt, retries that back off, a size limit
    per file; archive via the pipeline."""
    cfg, portal = job.crawler, job.portal
    delay = cfg.download_delay if portal.download_delay is None else portal.download_delay
    max_mb = cfg.max_file_mb if portal.max_file_mb is None else portal.max_file_mb
    max_bytes = int(max_mb * 1024 * 1024)
    return {
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": cfg.obey_robots_txt,
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        # Scrapy's own downloader lets a slot's whole queue go at once when the delay is 0; this
        # one is also stopped at once, its downloads in flight cancelled (the portal timeout).
        "DOWNLOADER": "crawler.batch.StoppableDownloader",
        "CONCURRENT_ITEMS": 8,  # the default 100 spawns ~101 tasks per response; 8 is faster
        # Scrapy would re-read each generator callback's source for every response (its cache is
        # keyed by the short-lived bound method): a third of the crawl's CPU on small pages.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "AUTOTHROTTLE_ENABLED": cfg.autothrottle and delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 1.0),
        "RETRY_ENABLED": cfg.retries > 0,
        "RETRY_TIMES": cfg.retries,
        "RETRY_HTTP_CODES": RETRY_CODES,
        "NIANBAO_RETRY_BACKOFF": cfg.retry_backoff_seconds,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            # Scrapy's offsite check knows domains, not ports or numeric spellings of an address:
            # ours refuses every request outside the portal's hosts before robots.txt is asked,
            # and (past RedirectMiddleware's 600, so it sees each 3xx first) every such redirect.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "crawler.middlewares.OffsiteRequests": 50,
            "crawler.middlewares.OffsiteRedirects": 610,
        },
        "NIANBAO_BASE_URL": portal.base_url,
        "NIANBAO_ALLOWED_HOSTS": list(portal.allowed_hosts),
        "EXTENSIONS": {
            "crawler.middlewares.FileSizeLimit": 0,
            # A 304 lowers a host's raised delay as a 200 does (the nightly crawl's answers).
            "scrapy.extensions.throttle.AutoThrottle": None,
            "crawler.batch.ConditionalAutoThrottle": 0,
            "scrapy.extensions.feedexport.FeedExporter": None,  # no feeds
            # A crawl process runs hundreds of portals' crawlers at once (crawler.batch). Each
            # LogCount puts a handler on the root logger that counts every record of the
            # process, not its own crawl's, so each record passed through hundreds of handlers;
            # each LogStats logs a line a minute. Together they took a quarter of the reactor's
            # CPU in a nightly crawl of 500 portals a process. The run record keeps the counts
            # that matter, and `nianbao crawl` shows each portal's pages as it goes.
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.logstats.LogStats": None,
        },
        # Everything a spider yields would pass through these for nothing: the spiders follow
        # only the URL shapes of their family (no depth limit or URL-length trap to guard
        # against) and set a Referer where a portal checks one (attachment downloads).
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "NIANBAO_MAX_FILE_BYTES": max_bytes,
        # FileSizeLimit stops a larger download first and records it (it sees the headers and
        # the bytes before this check does); this one also caps what a gzip or brotli body may
        # decompress to, so that a bomb is refused at the same size (recorded in on_error).
        "DOWNLOAD_MAXSIZE": max_bytes,
        # The whole download, not the wait for a first byte: a server that drips bytes is cut too.
        "DOWNLOAD_TIMEOUT": cfg.timeout_seconds,
        # A body cut short of its Content-Length fails (and is retried), never archived as whole.
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        # Portals redirect once or twice (downfile.jsp -> /attach/, http -> https); more is a loop.
        "REDIRECT_MAX_TIMES": MAX_REDIRECTS,
        # Only http(s): a link or a redirect to file:///etc/passwd must not read the local disk.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        # Scrapy ≥ 2.19 opens a code-execution endpoint on localhost for every crawl, its token
        # written to the user's profile; a crawler of hostile sites needs none of that.
        "REMOTE_CONTROL_ENABLED": False,
        "COOKIES_ENABLED": False,
        # A deleted TRS page refreshes to its folder: archive the refresh page as the evidence.
        "METAREFRESH_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        # One time convention in every log: '2026-12-05T14:41:21+08:00' (archive.clock).
        "LOG_DATEFORMAT": LOG_DATEFORMAT,
        # crawler.pipeline.ArchivePipeline, closed without blocking the other portals' crawls.
        "ITEM_PIPELINES": {"crawler.batch.BatchArchivePipeline": 100},
        "NIANBAO_DATABASE_URL": job.archive.database_url,
        "NIANBAO_BLOB_DIR": str(job.archive.blob_dir),
        "NIANBAO_RUN_ID": run_id,
    }
