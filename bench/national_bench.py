"""Benchmark: a nation's county portals (1,000 by default) crawled side by side on one machine.

Run: `.venv/bin/python bench/national_bench.py [--portals 1000] [--jobs 1 2] [--workers 3]
[--workdir DIR]` (`--portals 20` for a quick check; `--jobs` with no number and `--workers 0` to
skip either part).

The replica (`python -m replica.national`, one asyncio process) serves each portal on its own
loopback address, 127.0.x.y, so that politeness, which is per host, is per portal as on the real
web: 大汉 and TRS 年报 columns of 60 reports each (replica/national.py), every answer after a
random 100-300 ms (seeded). The settings it crawls with are generated: the portals, their
publishers, `download_delay = 1`, and `portals_per_process` (default: every portal of a process at
once). For each `--jobs N` it measures, into a fresh archive:

1. the first full crawl, `nianbao crawl --all --jobs N --kind nightly`;
2. the nightly incremental crawl, the same command again (known pages answer 304);
3. a bare Scrapy spider (bench/national_bare.py) fetching the same requests (the URLs of each
   crawl, read from the archive, the nightly ones with the validators the crawl sent) with the
   crawl's Scrapy settings and politeness, storing nothing, in N processes with the portals split
   as the crawl splits them: the engine's own limit on this machine;
4. the politeness bound: the slowest portal's requests × (delay + the mean latency served).

Then, with `--workers N` (default 3), the same first and nightly crawls through N `nianbao
worker`s on this machine sharing a throwaway Redis queue and a throwaway PostgreSQL archive
(tests/redisserver.py, tests/pgserver.py; the blobs in one directory, as workers that mount one
share), each crawling its share side by side in its one crawl process (`--jobs` portals/N), queued
by `nianbao crawl --queue --all` and timed until every portal's run has finished; its bare spider
runs in N processes.

Each measures the wall time, the requests the replica answered (by status), the CPU time of the
command and every process under it, and the peak of their summed RSS (and PSS, which counts
shared pages once), sampled from /proc every 0.2 s. Pages per second are the requests over the
window from the replica's first answer to its last, so start-up and the indexing after the crawl
are timed apart (and the wall time is printed beside them). Targets (issue 16): the nightly crawl
within 1.5× of the larger of the politeness bound and the bare spider's time; peak RSS ≤ 2 GB;
the first crawl's pages/s ≥ 80% of the bare spider's. The load average is printed with each run:
the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive.db import make_engine  # noqa: E402
from archive.models import Capture, CrawlRun  # noqa: E402
from crawler.job import CrawlJob  # noqa: E402
from crawler.settings import scrapy_settings  # noqa: E402
from nianbao.settings import load_settings  # noqa: E402
from replica import national, settings_for  # noqa: E402

DELAY = 1.0
GB = 1024**3
SAMPLE_SECONDS = 0.2
RSS_ABORT = 8 * GB  # a shared machine: a run that grows past this is stopped, not let run


@dataclass
class Usage:
    """What one command cost: wall and CPU seconds, peak summed RSS and PSS (bytes)."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0
    peak_pss: int = 0
    peak_processes: int = 0
    peak_kinds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind: (count, RSS)
    returncode: int = 0
    stdout: str = ""
    aborted: str | None = None


@dataclass
class Served:
    """What the replica answered during one command (its stats hook)."""

    requests: int
    statuses: dict[str, int]
    slowest_portal: int
    mean_latency: float
    window: float
    max_in_flight: int

    @property
    def bound(self) -> float:
        """The politeness bound: the slowest portal's requests, each a delay and a latency."""
        return self.slowest_portal * (DELAY + self.mean_latency)

    @property
    def per_second(self) -> float:
        return self.requests / self.window if self.window else 0.0


@dataclass
class Result:
    label: str
    usage: Usage
    served: Served
    load: str
    extra: dict[str, Any] = field(default_factory=dict)


# ---- the process tree, from /proc ----


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kinds(pids: list[int]) -> dict[str, tuple[int, int]]:
    """Processes by what they run (the module or script), with their count and summed RSS."""
    found: dict[str, tuple[int, int]] = {}
    for p in pids:
        try:
            args = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in args if a]
        name = next((w for w in words[1:] if not w.startswith("-")), words[0] if words else "?")
        if "-m" in words:
            name = words[words.index("-m") + 1]
        name = Path(name).name
        count, rss = found.get(name, (0, 0))
        found[name] = (count + 1, rss + _kb(f"/proc/{p}/status", "VmRSS:"))
    return found


def memory(pids: list[int]) -> tuple[int, int]:
    """Summed RSS and PSS of `pids`, in bytes."""
    rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
    pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    return rss, pss


def run_measured(
    cmd: list[str],
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    err: Path | None = None,
) -> Usage:
    """Run `cmd`, sampling its process tree's memory; CPU from the rusage of waited children."""
    usage = Usage()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=open(err, "ab") if err else None,  # noqa: SIM115 (the child holds it)
        text=True,
        env=env,
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.communicate(stdin)[0] or ""))
    reader.start()
    while proc.poll() is None:
        pids = tree(proc.pid)
        rss, pss = memory(pids)
        if rss > usage.peak_rss:
            usage.peak_kinds = kinds(pids)
        usage.peak_rss, usage.peak_pss = max(usage.peak_rss, rss), max(usage.peak_pss, pss)
        usage.peak_processes = max(usage.peak_processes, len(pids))
        if rss > RSS_ABORT:
            usage.aborted = f"summed RSS {rss / GB:.1f} GB past {RSS_ABORT / GB:.0f} GB"
            for p in reversed(pids):
                _kill(p)
        time.sleep(SAMPLE_SECONDS)
    reader.join()
    usage.wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    usage.returncode = proc.returncode
    usage.stdout = out[0] if out else ""
    return usage


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, 9)


# ---- the replica ----


class Replica:
    def __init__(self, portals: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "replica.national",
                "--portals",
                str(portals),
                "--seed",
                str(seed),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.urls: dict[str, str] = json.loads(self.proc.stdout.readline())
        self.hook_url = next(iter(self.urls.values())) + "/__replica__/"

    def hook(self, name: str) -> Any:
        data = b"" if name == "reset" else None
        with urllib.request.urlopen(self.hook_url + name, data=data, timeout=60) as answer:
            return json.loads(answer.read())

    def served(self) -> Served:
        s = self.hook("stats")
        return Served(
            requests=s["requests"],
            statuses=s["statuses"],
            slowest_portal=max(s["per_host"].values(), default=0),
            mean_latency=s["mean_latency"],
            window=(s["last"] - s["first"]) if s["first"] else 0.0,
            max_in_flight=s["max_in_flight"],
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


# ---- settings, crawls, bare spider ----


def write_settings(
    urls: dict[str, str], root: Path, per_process: int, database_url: str | None = None
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{root / 'archive.db'}"
    text = settings_for(urls, database_url, str(root / "blobs"))
    crawler = f"download_delay = {DELAY:g}\nportals_per_process = {per_process}"
    text = text.replace("download_delay = 0", crawler, 1)
    path = root / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_avg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def crawl(replica: Replica, settings: Path, jobs: int, label: str, log: Path) -> Result:
    replica.hook("reset")
    cmd = [str(ROOT / ".venv/bin/nianbao"), "--config", str(settings), "crawl", "--all"]
    cmd += ["--jobs", str(jobs), "--kind", "nightly", "--json", "--log", str(log)]
    load = load_avg()
    usage = run_measured(cmd, err=log.with_suffix(".stderr"))
    rows = [json.loads(line) for line in usage.stdout.splitlines() if line.startswith("{")]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[str(row.get("status"))] = statuses.get(str(row.get("status")), 0) + 1
    extra = {
        "runs": statuses,
        "pages": sum(int(r.get("pages") or 0) for r in rows),
        "new_reports": sum(int(r.get("new_reports") or 0) for r in rows),
        "not_modified": sum(int(r.get("not_modified") or 0) for r in rows),
    }
    return Result(label, usage, replica.served(), load, extra)


def requests_of(settings: Path, nightly: bool) -> list[tuple[str, str, dict[str, str]]]:
    """(portal, URL, headers) of the first crawl's captures, or the nightly's with the validators
    the crawl sent (those of the page's previous capture)."""
    config = load_settings(settings)
    engine = make_engine(config.archive.database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Capture.portal, Capture.url, Capture.run_id, Capture.headers).order_by(
                Capture.id
            )
        ).all()
    engine.dispose()
    first_run = {}
    for portal, _url, run_id, _h in rows:
        first_run.setdefault(portal, run_id)
    found, previous = [], {}
    for portal, url, run_id, headers in rows:
        is_first = run_id == first_run[portal]
        if is_first != nightly:
            found.append((portal, url, _validators(previous.get(url)) if nightly else {}))
        if is_first:
            previous[url] = headers
    return found


def _validators(headers: list[Any] | None) -> dict[str, str]:
    sent = {}
    for name, value in headers or []:
        if name.lower() == "etag":
            sent["If-None-Match"] = value
        elif name.lower() == "last-modified":
            sent["If-Modified-Since"] = value
    return sent


def bare_settings(settings: Path, hosts: int) -> dict[str, Any]:
    """The crawl's Scrapy settings, less the archive and the one-portal host policy; every host
    of the process at once, the scheduler serving the host with the fewest requests out."""
    config = load_settings(settings)
    job = CrawlJob(config.portals[0], config.crawler, config.archive, config.publishers, "nightly")
    s = scrapy_settings(job, run_id=0)
    s.pop("ITEM_PIPELINES")
    s["DOWNLOADER_MIDDLEWARES"] |= {
        "crawler.middlewares.OffsiteRequests": None,
        "crawler.middlewares.OffsiteRedirects": None,
    }
    s["CONCURRENT_REQUESTS"] = max(16, hosts)
    s["SCHEDULER_PRIORITY_QUEUE"] = "scrapy.pqueues.DownloaderAwarePriorityQueue"
    s["LOG_LEVEL"] = "WARNING"
    return s


def bare(
    replica: Replica, settings: Path, jobs: int, nightly: bool, label: str, per_process: int
) -> Result:
    """The bare spider on the same requests, in `jobs` processes; portals split as the crawl's
    (round robin), each process's requests interleaved host by host."""
    wanted = requests_of(settings, nightly)
    portals = sorted({p for p, _u, _h in wanted})
    share = {p: n % jobs for n, p in enumerate(portals)}
    inputs = []
    for k in range(jobs):
        mine = [(p, u, h) for p, u, h in wanted if share[p] == k]
        hosts = min(per_process, len({p for p, _u, _h in mine}))
        inputs.append([bare_settings(settings, hosts), _interleaved(mine)])
    replica.hook("reset")
    load = load_avg()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(ROOT / "bench/national_bare.py"), "--split"]
    usage = run_measured(cmd, stdin=json.dumps(inputs), env=env)
    answers = json.loads(usage.stdout.strip().splitlines()[-1]) if usage.stdout.strip() else []
    responses = sum(json.loads(a)[0] for a in answers if a)
    return Result(
        label, usage, replica.served(), load, {"responses": responses, "asked": len(wanted)}
    )


def _interleaved(mine: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
    """Round robin over the portals, each in its own order (as a crawl asks a portal's pages)."""
    by_portal: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for p, u, h in mine:
        by_portal.setdefault(p, []).append((u, h))
    queues = list(by_portal.values())
    out = []
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out


# ---- report ----


def line(r: Result) -> str:
    u, s = r.usage, r.served
    extra = " ".join(f"{k}={v}" for k, v in r.extra.items())
    return (
        f"{r.label:<28} wall {u.wall:7.1f} s | {s.requests:6d} requests {s.statuses} | "
        f"{s.per_second:6.1f} req/s over {s.window:6.1f} s | CPU {u.cpu:7.1f} s | peak RSS "
        f"{u.peak_rss / GB:5.2f} GB (PSS {u.peak_pss / GB:5.2f} GB, {u.peak_processes} processes) | "
        f"bound {s.bound:6.1f} s (slowest portal {s.slowest_portal} requests, mean latency "
        f"{s.mean_latency * 1000:.0f} ms) | max in flight per host {s.max_in_flight} | "
        f"load {r.load} | {extra} | at the peak: {_kinds(u.peak_kinds)}"
        + (f" | exit {u.returncode}" if u.returncode else "")
        + (f" | ABORTED: {u.aborted}" if u.aborted else "")
    )


def _kinds(found: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{n} × {k} {rss / 2**20:.0f} MB" for k, (n, rss) in sorted(found.items()))


def verdict(
    first: Result, nightly: Result, bare_first: Result, bare_nightly: Result
) -> tuple[bool, str]:
    limit = max(nightly.served.bound, bare_nightly.usage.wall)
    peak = max(r.usage.peak_rss for r in (first, nightly))
    share = (
        first.served.per_second / bare_first.served.per_second
        if bare_first.served.per_second
        else 0
    )
    ok_nightly = nightly.usage.wall <= 1.5 * limit
    ok_rss = peak <= 2 * GB
    ok_pps = share >= 0.8
    text = (
        f"nightly {nightly.usage.wall:.1f} s vs 1.5 × max(bound {nightly.served.bound:.1f} s, bare "
        f"{bare_nightly.usage.wall:.1f} s) = {1.5 * limit:.1f} s: {'ok' if ok_nightly else 'MISSED'}; "
        f"peak RSS {peak / GB:.2f} GB ≤ 2 GB: {'ok' if ok_rss else 'MISSED'}; first crawl "
        f"{first.served.per_second:.1f} req/s = {share:.0%} of the bare spider's "
        f"{bare_first.served.per_second:.1f} (≥ 80%): {'ok' if ok_pps else 'MISSED'}"
    )
    return ok_nightly and ok_rss and ok_pps, text


def run_jobs(replica: Replica, args: argparse.Namespace, jobs: int, workdir: Path) -> bool:
    per_process = args.per_process or math.ceil(args.portals / jobs)
    root = workdir / f"jobs{jobs}"
    settings = write_settings(replica.urls, root, per_process)
    print(f"== --jobs {jobs}, portals_per_process {per_process}, archive {root}", flush=True)
    first = crawl(replica, settings, jobs, f"first crawl (jobs {jobs})", root / "first.log")
    print(line(first), flush=True)
    nightly = crawl(replica, settings, jobs, f"nightly crawl (jobs {jobs})", root / "nightly.log")
    print(line(nightly), flush=True)
    bare_first = bare(replica, settings, jobs, False, f"bare spider, first (x{jobs})", per_process)
    print(line(bare_first), flush=True)
    bare_nightly = bare(
        replica, settings, jobs, True, f"bare spider, nightly (x{jobs})", per_process
    )
    print(line(bare_nightly), flush=True)
    ok, text = verdict(first, nightly, bare_first, bare_nightly)
    print(f"--jobs {jobs}: {text}", flush=True)
    return ok


# ---- distributed workers: Redis queue, one PostgreSQL archive ----


@dataclass
class Fleet:
    """`nianbao worker` processes, sampled together: summed RSS/PSS of their trees, CPU."""

    procs: list[subprocess.Popen[bytes]]
    usage: Usage = field(default_factory=Usage)
    stop: threading.Event = field(default_factory=threading.Event)

    def pids(self) -> list[int]:
        return [p for proc in self.procs for p in tree(proc.pid)]

    def cpu(self) -> float:
        """CPU seconds of the workers' trees so far (their waited children's included)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return total / tick

    def sample(self) -> None:
        while not self.stop.is_set():
            pids = self.pids()
            rss, pss = memory(pids)
            if rss > self.usage.peak_rss:
                self.usage.peak_kinds = kinds(pids)
            self.usage.peak_rss = max(self.usage.peak_rss, rss)
            self.usage.peak_pss = max(self.usage.peak_pss, pss)
            self.usage.peak_processes = max(self.usage.peak_processes, len(pids))
            time.sleep(SAMPLE_SECONDS)


def queued_night(
    replica: Replica, settings: Path, fleet: Fleet, portals: int, label: str, url: str
) -> Result:
    """Enqueue every portal (`nianbao crawl --queue --all`) and wait until each has a finished
    run; the usage is the workers' over that window."""
    replica.hook("reset")
    engine = make_engine(url)
    with Session(engine) as session:
        last = session.scalar(select(func.max(CrawlRun.id))) or 0
    fleet.usage = Usage()
    load, cpu0, started = load_avg(), fleet.cpu(), time.perf_counter()
    sampler = threading.Thread(target=fleet.sample, daemon=True)
    fleet.stop.clear()
    sampler.start()
    nianbao = [str(ROOT / ".venv/bin/nianbao"), "--config", str(settings)]
    subprocess.run([*nianbao, "crawl", "--queue", "--all", "--kind", "nightly"], check=True)
    statuses: dict[str, int] = {}
    while True:
        with Session(engine) as session:
            rows = session.execute(
                select(CrawlRun.status, func.count())
                .where(CrawlRun.id > last, CrawlRun.finished_at.is_not(None))
                .group_by(CrawlRun.status)
            ).all()
            summed = session.execute(
                select(func.sum(CrawlRun.pages), func.sum(CrawlRun.new_reports)).where(
                    CrawlRun.id > last
                )
            ).one()
        statuses = {str(k): int(n) for k, n in rows}
        if sum(statuses.values()) >= portals or any(p.poll() is not None for p in fleet.procs):
            break
        time.sleep(0.5)
    fleet.usage.wall = time.perf_counter() - started
    fleet.usage.cpu = fleet.cpu() - cpu0
    fleet.stop.set()
    sampler.join()
    engine.dispose()
    extra = {"runs": statuses, "pages": int(summed[0] or 0), "new_reports": int(summed[1] or 0)}
    return Result(label, fleet.usage, replica.served(), load, extra)


def run_distributed(replica: Replica, args: argparse.Namespace, workdir: Path) -> bool:
    """`--workers N`: N `nianbao worker`s on one Redis queue and one PostgreSQL archive, each
    crawling its share of the portals side by side in its one crawl process."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import postgres_server
    from redisserver import redis_server

    workers = args.workers
    per_process = args.per_process or math.ceil(args.portals / workers)
    root = workdir / f"workers{workers}"
    with postgres_server() as pg, redis_server() as redis_url, contextlib.ExitStack() as stack:
        url = pg.create_database()
        settings = write_settings(replica.urls, root, per_process, database_url=url)
        queue = f'[queue]\nurl = "{redis_url}"\nname = "bench"\n'
        text = settings.read_text(encoding="utf-8").replace("[crawler]", queue + "\n[crawler]", 1)
        text = text.replace("[scheduler]\n", f'[scheduler]\nlog_dir = "{root / "logs"}"\n', 1)
        settings.write_text(text, encoding="utf-8")
        nianbao = [str(ROOT / ".venv/bin/nianbao"), "--config", str(settings)]
        subprocess.run([*nianbao, "archive", "upgrade"], check=True, capture_output=True)
        print(f"== {workers} workers (--jobs {per_process} each), archive {url}", flush=True)
        procs = []
        for n in range(workers):
            log = open(root / f"worker{n}.log", "wb")  # noqa: SIM115 (the child holds it)
            stack.callback(log.close)
            proc = subprocess.Popen(
                [*nianbao, "worker", "--jobs", str(per_process)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            stack.callback(_stop_worker, proc)
            procs.append(proc)
        fleet = Fleet(procs)
        label = f"{workers} workers"
        first = queued_night(replica, settings, fleet, args.portals, f"first crawl ({label})", url)
        print(line(first), flush=True)
        nightly = queued_night(
            replica, settings, fleet, args.portals, f"nightly crawl ({label})", url
        )
        print(line(nightly), flush=True)
        bare_first = bare(replica, settings, workers, False, f"bare spider, first (x{workers})",
                          per_process)  # fmt: skip
        print(line(bare_first), flush=True)
        bare_nightly = bare(replica, settings, workers, True,
                            f"bare spider, nightly (x{workers})", per_process)  # fmt: skip
        print(line(bare_nightly), flush=True)
    ok, text = verdict(first, nightly, bare_first, bare_nightly)
    print(f"{workers} workers: {text}", flush=True)
    return ok


def _stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--per-process", type=int, help="portals_per_process (default: all of a process's at once)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="distributed `nianbao worker`s on Redis and PostgreSQL (0: not measured)",
    )
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--workdir", type=Path, help="where the archives go (default: a temp dir)")
    args = parser.parse_args()
    national.raise_file_limit()
    national.register(args.portals)  # settings_for reads the generated portals' truth
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-national-bench-"))
    started = time.perf_counter()
    replica = Replica(args.portals, args.seed)
    print(
        f"replica: {args.portals} portals on 127.0.x.y, up in {time.perf_counter() - started:.1f} s; "
        f"{os.cpu_count()} cores, load {load_avg()}",
        flush=True,
    )
    try:
        results = [run_jobs(replica, args, jobs, workdir) for jobs in args.jobs]
        if args.workers:
            results.append(run_distributed(replica, args, workdir))
    finally:
        replica.stop()
    print("targets met" if all(results) else "TARGETS MISSED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
