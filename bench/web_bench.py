"""Benchmark: the web board's server time (query + HTML) for one portal, on SQLite or PostgreSQL.

Example: .venv/bin/python bench/web_bench.py                      (100 publishers x 12 years)
         .venv/bin/python bench/web_bench.py --publishers 100000  (paginated, 100 a page)
         .venv/bin/python bench/web_bench.py --publishers 100000 --db postgresql [--pg-url URL]

The archive is bench/questions_bench.py's synthetic one (its generators and its load: rows at
migration 0007, then migrated to head, which fills the statuses' cells and builds migration 0010's
indexes), with one portal of N publishers and report years 2013-2024. On SQLite it is built once
per size under /tmp and reused; on PostgreSQL it is loaded into a throwaway server (tests/pgserver.py)
and VACUUM ANALYZEd, unless `--pg-url` names a database this bench loaded already.

Timed: the whole request through the app (Starlette's TestClient: routing, the board's queries,
the Jinja2 page) for each view the board offers: the first page, its JSON, the last page, each
status filter (and its last page for `late`), each kind, a year range. Cold is the first request
of a fresh process (a new app: no answer cached, every SQL statement compiled for the first time;
the templates compiled and the database connection opened when the app starts, as `nianbao serve`
does before it takes a request, web.app._warm). Each view is timed cold in `--cold` processes of
its own: the median and the slowest are shown. Warm is the best of `--repeat` requests that
follow in each process (the answers cached by questions/cache.py until the archive changes).
Cold as wall time and as the CPU time of the process (this machine's other work inflates wall
time more than CPU time); PostgreSQL's own CPU is in the wall time only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import ExitStack
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import questions_bench as qb  # noqa: E402
from sqlalchemy import text  # noqa: E402

from archive.blobs import BlobStore  # noqa: E402
from archive.db import make_engine  # noqa: E402
from questions.board import STATUSES  # noqa: E402
from web.app import WebConfig, create_app  # noqa: E402

YEARS = range(2013, 2025)
QUERY = f"portal=portal000&from={YEARS[0]}&to={YEARS[-1]}"
LAST = "page=999999"  # past the last page: the board shows its last


def views() -> list[tuple[str, str]]:
    """(name, path) of every view timed."""
    found = [
        ("board", f"/board?{QUERY}"),
        ("board.json", f"/board.json?{QUERY}"),
        ("last page", f"/board?{QUERY}&{LAST}"),
    ]
    found += [(f"status={s}", f"/board?{QUERY}&status={s}") for s in STATUSES]
    found.append(("late, last page", f"/board?{QUERY}&status=late&{LAST}"))
    found += [(f"kind={k}", f"/board?{QUERY}&kind={k}") for k in ("department", "township")]
    found.append(("kind+status", f"/board?{QUERY}&kind=government&status=missing"))
    found.append(("2019-2021", "/board?portal=portal000&from=2019&to=2021"))
    found.append(("2019-2021 late", "/board?portal=portal000&from=2019&to=2021&status=late"))
    return found


def sqlite_archive(publishers: int, fresh: bool, db: Path | None) -> str:
    db = db or Path(f"/tmp/nianbao-web-bench-{publishers}.db")
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return load(f"sqlite:///{db}", publishers)


def load(url: str, publishers: int) -> str:
    engine = make_engine(url)
    qb.PORTALS, qb.PER_PORTAL, qb.YEARS = 1, publishers, YEARS
    qb.load(engine)
    engine.dispose()
    return url


def one_view(url: str, path: str, repeat: int) -> dict[str, float]:
    """Times one view in this (fresh) process: cold, then warm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette would have its TestClient on httpx2
        from starlette.testclient import TestClient
    config = WebConfig(
        url,
        BlobStore("/tmp/nianbao-web-bench-blobs"),
        qb.RULES,
        ("portal000",),
        lambda: date(2026, 6, 1),
    )
    with TestClient(create_app(config)) as client:
        cold = _request(client, path)
        warm = min((_request(client, path) for _ in range(repeat)), key=lambda t: t[0])
    return {"wall": cold[0], "cpu": cold[1], "warm": warm[0], "size": cold[2]}


def _request(client: object, path: str) -> tuple[float, float, int]:
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.get(path)  # type: ignore[attr-defined]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert r.status_code == 200, r.text[-500:]
    return wall * 1000, cpu * 1000, len(r.content)


def measure(url: str, label: str, publishers: int, repeat: int, colds: int) -> None:
    """Each view in `colds` fresh processes: its cold wall time's median and slowest (this shared
    machine's other work makes some samples slow: the median says what a view costs, the slowest
    what the machine did), the median of the process's CPU, and the best warm request."""
    print(f"{publishers:,} publishers x {len(YEARS)} years, one portal ({label}); a process a view")
    cold = f"cold wall: median / slowest of {colds}"
    print(f"{'view':19} {'KB':>4}   {cold:37} {'cold CPU':>8}   warm (best of {repeat})")
    for name, path in views():
        command = [sys.executable, __file__, "--one", path, "--url", url, "--repeat", str(repeat)]
        samples = []
        for _ in range(colds):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{name:19} failed: {done.stderr.strip().splitlines()[-1:]}")
                break
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
        else:
            wall = sorted(t["wall"] for t in samples)
            cpu = statistics.median(t["cpu"] for t in samples)
            warm = min(t["warm"] for t in samples)
            times = f"{statistics.median(wall):7.1f} ms / {wall[-1]:7.1f} ms"
            print(
                f"{name:19} {samples[0]['size'] / 1024:4.0f}   {times:37} {cpu:5.1f} ms"
                f"   {warm:6.1f} ms"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--publishers", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes a view (cold samples)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--fresh", action="store_true", help="rebuild the SQLite file")
    parser.add_argument("--sqlite", type=Path, help="the SQLite file (default under /tmp)")
    parser.add_argument("--pg-url", help="a PostgreSQL database this bench loaded already")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a view, timed in this process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_view(args.url, args.one, args.repeat)))
        return 0
    if args.db == "sqlite":
        url = sqlite_archive(args.publishers, args.fresh, args.sqlite)
        measure(url, "SQLite", args.publishers, args.repeat, args.cold)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgserver import postgres_server

    with ExitStack() as stack:
        url = args.pg_url or stack.enter_context(postgres_server()).create_database()
        if not args.pg_url:
            load(url, args.publishers)
            engine = make_engine(url)
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            engine.dispose()
        measure(url, "PostgreSQL", args.publishers, args.repeat, args.cold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
