"""The national benchmark's replica: N generated county portals, each on its own loopback address.

`python -m replica.national --portals 1000` builds the portals, binds 127.0.x.y:PORT for each
(one port, one address a portal, so that politeness, which is per host, is per portal as on the
real web), prints one JSON line `{"n0000": "http://127.0.1.1:PORT", ...}` and serves until killed.
One asyncio loop in one process answers every address; each answer waits a random 100-300 ms
(seeded), as a distant government server does.

Every portal has 5 departments reporting each year 2013-2024: 60 reports. Even portals are 大汉
(Hanweb) columns paged by the GET jpage endpoint (a column page and 4 endpoint pages of 15), odd
ones TRS columns in 邯郸's markup (3 list pages of 25, pre-2019 pages in GBK): the pages are the
replica's own (`replica.site.Site`), rendered once at start-up, so serving costs no rendering.
The county names are invented (two characters from a list, then 县).

Hooks (not counted, no latency): `GET /__replica__/stats` on any address, `POST
/__replica__/reset`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from replica import pages
from replica.families import add_generated, synthetic_publisher
from replica.plan import Plan, _plan_publisher
from replica.site import Page, Site

FIRST_YEAR, LAST_YEAR = 2013, 2024
DEPARTMENTS = 5
HOOKS = "/__replica__/"
# Invented county names: two of these, then 县 (never 平潭's characters).
_SYLLABLES = (
    "安宁和永清泰康乐丰兴隆新华阳明山川东西南北中高远昌盛江河源林石桥云青白金玉凤龙德仁信义"
)


def portal_id(n: int) -> str:
    return f"n{n:04d}"


def address(n: int) -> str:
    """Portal n's loopback address: 127.0.1.1, 127.0.1.2, … 250 to a third octet."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def county(n: int) -> str:
    k = len(_SYLLABLES)
    name = _SYLLABLES[n // k % k] + _SYLLABLES[n % k] + "县"
    return name if n < k * k else f"第{n // (k * k) + 1}{name}"


def portal_config(n: int) -> dict[str, Any]:
    """A portal's row as data/families.toml would hold it."""
    name = county(n)
    common = {"site_name": f"{name}人民政府", "column_name": "政府信息公开年报"}
    if n % 2 == 0:
        return common | {
            "family": "hanweb",
            "name": f"{name}政府信息公开平台",
            "webid": 10000 + n,
            "column_id": 1229000000 + n,
            "unit_id": 8000000 + n,
            "breadcrumb": ["政务公开"],
            "paging": "page",
            "layout": "table",
            "docid_base": 5000000 + 100 * n,
        }
    return common | {
        "family": "trs",
        "name": f"{name}人民政府信息公开",
        "site_domain": f"www.n{n:04d}.example",
        "site_id_code": str(9900000000 + n),
        "list_path": "/zfxxgknb/",
        "layout": "trs",
        "paging": "script",
        "per_page": 25,
        "docid_base": 6000000 + 100 * n,
        "gbk_published_before": "2019-01-01",
        "gbk_charset_header": "",
    }


def portal_plan(n: int) -> Plan:
    """Portal n alone: its row and its departments (which departments varies with n)."""
    pid, cfg = portal_id(n), portal_config(n)
    rows = [
        synthetic_publisher(pid, cfg, n % 13 + k, FIRST_YEAR, LAST_YEAR) for k in range(DEPARTMENTS)
    ]
    raw: dict[str, Any] = {
        "first_year": FIRST_YEAR,
        "last_year": LAST_YEAR,
        "portals": {pid: cfg},
        "publishers": rows,
    }
    publishers = tuple(_plan_publisher(row, {}) for row in rows)
    return Plan(raw=raw, portals={pid: cfg}, seeds={}, publishers=publishers)


def register(count: int) -> list[str]:
    """Make portals 0..count-1 known to the replica (`truth_for`, `settings_for`); their ids."""
    ids = []
    for n in range(count):
        add_generated(portal_id(n), portal_plan(n))
        ids.append(portal_id(n))
    return ids


@dataclass(frozen=True)
class Answer:
    """One page's response, head and body already encoded."""

    ok: bytes  # the whole 200 response
    not_modified: bytes | None  # the whole 304 response; None when unconditional
    etag: str | None
    last_modified: float | None


def _answer(page: Page, conditional: bool, status: str = "200 OK") -> Answer:
    validators = b""
    if conditional:
        validators = f"ETag: {page.etag}\r\n".encode()
        if page.last_modified is not None:
            modified = formatdate(page.last_modified, usegmt=True)
            validators += f"Last-Modified: {modified}\r\n".encode()
    server = b"Server: nianbao-replica/1.0\r\n" + validators
    body = f"Content-Type: {page.content_type}\r\nContent-Length: {len(page.body)}\r\n\r\n".encode()
    # A 304 carries the validators and no body (RFC 9110 15.4.5).
    not_modified = b"HTTP/1.1 304 Not Modified\r\n" + server + b"\r\n"
    return Answer(
        ok=f"HTTP/1.1 {status}\r\n".encode() + server + body + page.body,
        not_modified=not_modified if conditional else None,
        etag=page.etag if conditional else None,
        last_modified=page.last_modified if conditional else None,
    )


class NationalSite:
    """One portal's answers by path (the jpage endpoint by its `page`), rendered up front."""

    def __init__(self, pid: str) -> None:
        site = Site(pid)
        self.portal = site.portal
        self.paths: dict[str, Answer] = {
            path: _answer(page, False) for path, page in site.static.items()
        }
        for path, number in site.lists.items():
            self.paths[path] = _answer(site.list_page(number), False)
        for key in site.docs:
            self.paths[key] = _answer(site.document(key), True)
        self.proxy: dict[int, Answer] = {}
        if site.portal.paging == "page":
            count = len(site.listing) // 15 + 2  # page 0 and one past the last answer empty
            self.proxy = {n: _answer(site.proxy_page(n), False) for n in range(count)}
        self.empty_proxy = _answer(site.empty_proxy(), False)
        self.missing = _answer(_not_found(), False, "404 Not Found")

    def answer(self, target: str, headers: Mapping[str, str]) -> tuple[bytes, int]:
        """The response bytes for a GET of `target`, and its status."""
        parts = urlsplit(target)
        found = self.paths.get(parts.path)
        if found is None and parts.path == pages.NEWER_PROXY and self.proxy:
            found = self._proxy(parts.query)
        if found is None:
            return self.missing.ok, 404
        if found.not_modified is not None and _not_modified(found, headers):
            return found.not_modified, 304
        return found.ok, 200

    def _proxy(self, query: str) -> Answer:
        q = {k: v[0] for k, v in parse_qs(query).items()}
        portal = self.portal
        if q.get("columnid") != str(portal.column_id) or q.get("unitid") != str(portal.unit_id):
            return self.empty_proxy
        try:
            return self.proxy.get(int(q.get("page", "0")), self.empty_proxy)
        except ValueError:
            return self.empty_proxy


def _not_found() -> Page:
    return Page(pages.not_found_page().encode("utf-8"), "text/html; charset=utf-8")


def _not_modified(found: Answer, headers: Mapping[str, str]) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since is looked at only without it."""
    etags = headers.get("if-none-match")
    if etags is not None:
        tags = {t.strip().removeprefix("W/") for t in etags.split(",")}
        return "*" in tags or found.etag in tags
    since = headers.get("if-modified-since")
    if since is None or found.last_modified is None:
        return False
    try:
        return int(found.last_modified) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


@dataclass
class Stats:
    """What the server saw: requests per host and per status, concurrency per host, timing."""

    per_host: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: int = 0
    latency: float = 0.0
    first: float | None = None
    last: float | None = None

    def as_json(self) -> dict[str, Any]:
        total = sum(self.per_host.values())
        return {
            "requests": total,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "per_host": dict(self.per_host),
            "max_in_flight": self.max_in_flight,
            "mean_latency": self.latency / total if total else 0.0,
            "first": self.first,
            "last": self.last,
        }


class Server:
    """Every portal's site by address, one latency source, one Stats."""

    def __init__(self, sites: Mapping[str, NationalSite], seed: int, latency: tuple[float, float]):
        self.sites = sites
        self.rng = random.Random(seed)
        self.latency = latency
        self.stats = Stats()

    def hook(self, method: str, target: str) -> bytes:
        if method == "POST" and target.startswith(HOOKS + "reset"):
            self.stats = Stats()
            body = b'{"ok": true}'
        else:
            body = json.dumps(self.stats.as_json()).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body


class Connection(asyncio.Protocol):
    """One client connection to one portal address: requests answered one after another."""

    def __init__(self, server: Server, host: str) -> None:
        self.server, self.host = server, host
        self.site = server.sites[host]
        self.buffer = b""
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _next(self) -> None:
        """Answer the next whole request in the buffer, unless one is being answered."""
        if self.busy or b"\r\n\r\n" not in self.buffer:
            return
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target = (lines[0].split(" ") + ["", ""])[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        self.buffer = self.buffer[length:]  # a form body: no page of ours reads one
        if target.startswith(HOOKS):
            self._send(self.server.hook(method, target))
            return
        self._answer(method, target, headers)

    def _answer(self, method: str, target: str, headers: dict[str, str]) -> None:
        server, stats = self.server, self.server.stats
        response, status = self.site.answer(target, headers)
        stats.per_host[self.host] += 1
        stats.statuses[status] += 1
        stats.in_flight[self.host] += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight[self.host])
        now = time.time()
        stats.first = stats.first or now
        delay = server.rng.uniform(*server.latency)
        stats.latency += delay
        self.busy = True
        if method == "HEAD":
            response = response.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        asyncio.get_running_loop().call_later(delay, self._done, stats, response)

    def _done(self, stats: Stats, response: bytes) -> None:
        stats.in_flight[self.host] -= 1
        stats.last = time.time()
        self.busy = False
        self._send(response)

    def _send(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)
            self._next()


def build_sites(count: int) -> dict[str, tuple[str, NationalSite]]:
    """Portals 0..count-1: id -> (address, its site)."""
    register(count)
    return {portal_id(n): (address(n), NationalSite(portal_id(n))) for n in range(count)}


async def listen(
    sites: Iterable[tuple[str, NationalSite]], server: Server, port: int = 0
) -> tuple[list[asyncio.AbstractServer], int]:
    """Bind every site's address on one port (the first bind picks it when `port` is 0)."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.AbstractServer] = []
    for host, _site in sites:
        listening = await loop.create_server(_factory(server, host), host, port, backlog=128)
        servers.append(listening)
        port = port or listening.sockets[0].getsockname()[1]
    return servers, port


def _factory(server: Server, host: str) -> Callable[[], Connection]:
    return lambda: Connection(server, host)


def raise_file_limit() -> None:
    """A listening socket and a connection per portal: far past the usual soft limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _serve(args: argparse.Namespace) -> None:
    built = build_sites(args.portals)
    server = Server({host: site for host, site in built.values()}, args.seed, args.latency)
    servers, port = await listen(built.values(), server, args.port)
    urls = {pid: f"http://{host}:{port}" for pid, (host, _site) in built.items()}
    print(json.dumps(urls), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for listening in servers:
        listening.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m replica.national",
        description="N replica county portals on 127.0.x.y. Example: python -m replica.national "
        "--portals 20",
    )
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--latency", type=float, nargs=2, default=(0.1, 0.3), metavar=("MIN", "MAX")
    )
    args = parser.parse_args(argv)
    if not 1 <= args.portals <= 250 * 254:
        sys.exit("--portals: 1 to 63500")
    raise_file_limit()
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
