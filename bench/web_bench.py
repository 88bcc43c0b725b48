"""Benchmark: the web board's server time (query + HTML) for one portal, on SQLite.

Example: .venv/bin/python bench/web_bench.py                      (100 publishers x 12 years)
         .venv/bin/python bench/web_bench.py --publishers 100000  (paginated, 100 a page)

The archive is bench/questions_bench.py's synthetic one (its generators and its load: rows at
migration 0007, then migrated to head, which fills the statuses' cells), with one portal of N
publishers and report years 2013-2024, built once per size under /tmp and reused. Timed: the whole
request through the app (Starlette's TestClient: routing, the board's queries, the Jinja2 page),
cold and warm (best of --repeat), the same request as JSON, the last page, and the board
filtered to one status (`late`, cold: a new key for the cache). Cold is the first request of the
process: the page's 100 publishers' answers for each year (questions.status, scoped to them), the
counts per year in SQL (questions.tally); warm requests reuse the year's facts and counts
(questions/cache.py) until the archive changes.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import questions_bench as qb  # noqa: E402

from archive.blobs import BlobStore  # noqa: E402
from archive.db import make_engine  # noqa: E402
from web.app import WebConfig, create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette would have its TestClient on httpx2
    from starlette.testclient import TestClient

YEARS = range(2013, 2025)


def archive(publishers: int, fresh: bool, db: Path | None) -> str:
    db = db or Path(f"/tmp/nianbao-web-bench-{publishers}.db")
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    qb.PORTALS, qb.PER_PORTAL, qb.YEARS = 1, publishers, YEARS
    qb.load(engine)
    engine.dispose()
    return f"sqlite:///{db}"


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    r = client.get(path)
    cold = time.perf_counter() - t0
    assert r.status_code == 200, r.text[-500:]
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.get(path)
        warm.append(time.perf_counter() - t0)
    return cold * 1000, min(warm) * 1000, len(r.content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--publishers", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="rebuild the archive")
    parser.add_argument("--sqlite", type=Path, help="the SQLite file (default under /tmp)")
    args = parser.parse_args(argv)
    url = archive(args.publishers, args.fresh, args.sqlite)
    config = WebConfig(
        url,
        BlobStore("/tmp/nianbao-web-bench-blobs"),
        qb.RULES,
        ("portal000",),
        lambda: date(2026, 6, 1),
    )
    with TestClient(create_app(config)) as client:
        query = f"portal=portal000&from={YEARS[0]}&to={YEARS[-1]}"
        print(f"{args.publishers:,} publishers x {len(YEARS)} years, one portal (SQLite)")
        last_page = max(1, args.publishers // 100)
        for name, path in (
            ("board", f"/board?{query}"),
            ("board.json", f"/board.json?{query}"),
            (f"page {last_page}", f"/board?{query}&page={last_page}"),
            ("late only", f"/board?{query}&status=late"),
        ):
            cold, warm, size = timed(client, path, args.repeat)
            print(
                f"{name:11} {size / 1024:7.0f} KB   cold {cold:7.1f} ms   "
                f"warm (best of {args.repeat}) {warm:7.1f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
