"""`nianbao backfill` for real: killed with SIGKILL in the middle of a crawl, restarted, it ends
with the same archive as a backfill that was never interrupted; run again, it adds nothing.

"The same archive", precisely: the same documents (URL, year, publisher, title) and the same
versions (document, content digest, none twice); the same bodies for every URL; the same number of
fetches of every URL once the captures of the one crawl that was killed are set aside (the only
duplicates allowed: re-fetches of the interrupted cell, kept as the evidence they are); every cell
done by an ok backfill run.
Runs on SQLite (WAL, a writer killed mid-transaction); the cells are tested on both backends in
test_backfill_cells.py.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replica_fixtures import replica_process
from schedule_support import (
    background,
    database_for,
    engine_for,
    nianbao,
    query,
    wait_for,
    write_settings,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from archive.models import BackfillCell, Capture, CrawlRun, Document, DocumentVersion, Publisher
from ops.leases import ORPHAN_FINDING

YEARS = "2024"
GOV, SERVICES = "330483ZFC00000", "001008004005044"  # the module's two unit codes


@pytest.fixture(scope="module")
def replica() -> Iterator[dict[str, str]]:
    with replica_process() as urls:
        yield urls


def setup(
    name: str, replica: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Path, Engine]:
    root = tmp_path / name
    root.mkdir()
    url = database_for("sqlite", request, root)
    config = write_settings(root, {"tongxiang": replica["tongxiang"]}, url, "30 2 * * *")
    return config, engine_for(url)


def archive_of(session: Session) -> dict[str, Any]:
    killed = set(session.scalars(select(CrawlRun.id).where(CrawlRun.finding == ORPHAN_FINDING)))
    every = list(session.scalars(select(Capture)))
    captures = [c for c in every if c.run_id not in killed]
    digests: dict[str, set[str]] = {}
    for c in every:  # a re-fetch may be a 304 when the killed crawl already had the body
        digests.setdefault(c.url, set()).update([c.sha256] if c.sha256 else [])
    docs = session.execute(
        select(Document.url, Document.report_year, Publisher.name, Document.title).join(
            Publisher, Document.publisher_id == Publisher.id, isouter=True
        )
    ).all()
    versions = session.execute(
        select(Document.url, DocumentVersion.content_sha256).join(
            Document, DocumentVersion.document_id == Document.id
        )
    ).all()
    return {
        "documents": sorted(tuple(d) for d in docs),
        "versions": Counter(tuple(v) for v in versions),
        "fetches": Counter(c.url for c in captures),
        "digests": digests,
        "runs": Counter(
            (r.kind, r.status) for r in session.scalars(select(CrawlRun)) if r.id not in killed
        ),
        "cells": Counter(c.status for c in session.scalars(select(BackfillCell))),
    }


def totals(engine: Engine) -> tuple[int, int]:
    """How many captures and runs the archive holds."""

    def count(session: Session) -> tuple[int, int]:
        captures = session.scalar(select(func.count()).select_from(Capture)) or 0
        return captures, session.scalar(select(func.count()).select_from(CrawlRun)) or 0

    return query(engine, count)


def listing_under_way(engine: Engine) -> bool:
    """The listing task (the last, longest one) is running and has captured some pages."""

    def probe(session: Session) -> bool:
        running = session.scalars(
            select(BackfillCell).where(
                BackfillCell.source == "listing", BackfillCell.status == "running"
            )
        ).first()
        run = session.scalars(
            select(CrawlRun).where(CrawlRun.kind == "backfill", CrawlRun.status == "running")
        ).first()
        if running is None or run is None:
            return False
        n = session.scalar(
            select(func.count()).select_from(Capture).where(Capture.run_id == run.id)
        )
        return (n or 0) >= 8

    return query(engine, probe)


def test_a_killed_backfill_resumes_to_the_same_archive(
    replica: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    clean_config, clean = setup("clean", replica, request, tmp_path)
    done = nianbao(clean_config, "backfill", "tongxiang", "--years", YEARS)
    assert done.returncode == 0, done.stderr
    assert "cells done, 0 failed" in done.stdout

    config, cut = setup("cut", replica, request, tmp_path)
    with background(
        config, "backfill", "tongxiang", "--years", YEARS, log=tmp_path / "cut.log"
    ) as proc:
        wait_for(
            "the listing crawl to be under way", lambda: listing_under_way(cut), 90, every=0.05
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    stopped_at = totals(cut)
    time.sleep(1.5)
    assert totals(cut) == stopped_at, "the crawl worker outlived the backfill that was killed"
    cells = query(
        cut, lambda s: Counter((c.source, c.status) for c in s.scalars(select(BackfillCell)))
    )
    assert {source for (source, status) in cells if status == "done"} == {
        f"module:{GOV}",
        f"module:{SERVICES}",
    }
    assert {status for (source, status) in cells if source == "listing"} == {"running"}

    resumed = nianbao(config, "backfill", "tongxiang", "--years", YEARS)
    assert resumed.returncode == 0, resumed.stderr
    assert "0 newly planned, 1 crawl(s) run" in resumed.stdout  # only the interrupted task again

    with Session(clean) as a, Session(cut) as b:
        expected, got = archive_of(a), archive_of(b)
    assert got == expected
    assert expected["cells"] == Counter({"done": expected["cells"].total()})
    assert expected["runs"] == Counter({("backfill", "ok"): 3})  # two module cells, one listing
    killed = query(
        cut, lambda s: s.scalars(select(CrawlRun).where(CrawlRun.finding == ORPHAN_FINDING)).all()
    )
    assert len(killed) == 1 and killed[0].kind == "backfill" and killed[0].status == "failed"

    before = query(
        cut,
        lambda s: (
            s.scalar(select(func.count()).select_from(Capture)),
            s.scalar(select(func.count()).select_from(CrawlRun)),
        ),
    )
    again = nianbao(config, "backfill", "tongxiang", "--years", YEARS)
    assert again.returncode == 0 and "0 newly planned, 0 crawl(s) run" in again.stdout
    after = query(
        cut,
        lambda s: (
            s.scalar(select(func.count()).select_from(Capture)),
            s.scalar(select(func.count()).select_from(CrawlRun)),
        ),
    )
    assert after == before
    clean.dispose()
    cut.dispose()
