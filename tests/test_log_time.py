"""One time convention in the logs: a crawl's own log (Scrapy's lines among them) stamps every
line in ISO 8601, Asia/Shanghai, with the +08:00 offset, as the CLI shows times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from replica_fixtures import replica_process, replica_settings

from archive.clock import SHANGHAI, now
from crawler.job import CrawlJob
from crawler.process import run_crawl

PORTAL = "taizhou"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00) \[")
STARTS_WITH_A_DATE = re.compile(r"^\d{4}-\d\d-\d\d")


def test_every_line_of_a_crawls_log_is_stamped_in_shanghai_time(tmp_path: Path) -> None:
    started, log = now(), tmp_path / "crawl.log"
    with replica_process() as urls:
        database_url = f"sqlite:///{tmp_path / 'a.db'}"
        settings = replica_settings({PORTAL: urls[PORTAL]}, database_url, tmp_path)
        job = CrawlJob(
            portal=settings.portal(PORTAL),
            crawler=settings.crawler,
            archive=settings.archive,
            publishers=settings.publishers,
        )
        assert run_crawl(job, log_path=log).status == "ok"
    dated = [line for line in log.read_text("utf-8").splitlines() if STARTS_WITH_A_DATE.match(line)]
    assert len(dated) >= 5  # Scrapy's start, stats and close lines at least
    stamps = [STAMP.match(line) for line in dated]
    assert all(stamps), [line for line, m in zip(dated, stamps, strict=True) if not m][:3]
    first = datetime.fromisoformat(stamps[0].group(1))  # type: ignore[union-attr]
    assert first.utcoffset() == timedelta(hours=8) == SHANGHAI.utcoffset(None)
    # Shanghai wall time, not the machine's (UTC here) with an offset pasted on.
    assert abs(first - started) < timedelta(minutes=2)
