"""Scrapy settings for one crawl, built from the typed config: polite unless told otherwise."""

from __future__ import annotations

from typing import Any

from crawler.job import CrawlJob

# 429 and the 5xx a busy government server gives are worth retrying; 404 is an answer.
RETRY_CODES = [429, 500, 502, 503, 504, 522, 524, 408]


def scrapy_settings(job: CrawlJob, run_id: int) -> dict[str, Any]:
    """One request at a time per host, a delay, robots.txt, retries; archive via the pipeline."""
    cfg, portal = job.crawler, job.portal
    delay = cfg.download_delay if portal.download_delay is None else portal.download_delay
    return {
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": cfg.obey_robots_txt,
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_ITEMS": 8,  # the default 100 spawns ~101 tasks per response; 8 is faster
        "AUTOTHROTTLE_ENABLED": cfg.autothrottle and delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 1.0),
        "RETRY_ENABLED": cfg.retries > 0,
        "RETRY_TIMES": cfg.retries,
        "RETRY_HTTP_CODES": RETRY_CODES,
        "DOWNLOAD_TIMEOUT": cfg.timeout_seconds,
        "DOWNLOAD_MAXSIZE": 64 * 1024 * 1024,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "ITEM_PIPELINES": {"crawler.pipeline.ArchivePipeline": 100},
        "NIANBAO_DATABASE_URL": job.archive.database_url,
        "NIANBAO_BLOB_DIR": str(job.archive.blob_dir),
        "NIANBAO_RUN_ID": run_id,
    }
