"""The HTTP request handler of one replica portal: routing, conditional GETs, faults, test hooks."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from replica import faults, pages
from replica.family_pages import JPAAS_UNIT, jpaas_refusal, trs_deleted_page
from replica.records import MODULE_PATH
from replica.site import Page, Site
from replica.state import ReplicaState

HOOKS = "/__replica__/"
DOWNFILE = "/module/download/downfile.jsp"
ATTACH = "/attach/0/"
# Each answer waits this long first (REPLICA_HOLD_SECONDS), so that a second request sent while
# one is being answered is seen for sure (tests/test_politeness.py); 0 by default.
HOLD_SECONDS = float(os.environ.get("REPLICA_HOLD_SECONDS") or 0)
SLOW_SECONDS = 1.5  # a `slow` page's first answer comes after this long (tests time out at 1 s)

Query = dict[str, str]


class PortalServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that carries its portal's site and state."""

    daemon_threads = True
    # A crawler may open several connections at once; the default backlog of 5 drops SYNs.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, PortalHandler)
        self.site = site
        self.state = ReplicaState()
        # How many requests are being answered at once, and the most seen (tests/test_politeness.py).
        self._flight_lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def enter(self) -> None:
        """A request is being answered."""
        with self._flight_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        """A request's answer is written (handle_one_request flushes it after this)."""
        with self._flight_lock:
            self.in_flight -= 1

    def concurrency(self) -> dict[str, int]:
        with self._flight_lock:
            return {"in_flight": self.in_flight, "max_in_flight": self.max_in_flight}

    def reset_concurrency(self) -> None:
        with self._flight_lock:
            self.max_in_flight = self.in_flight

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow page has closed its end: nothing to report.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class PortalHandler(BaseHTTPRequestHandler):
    server_version = "nianbao-replica/1.0"
    # Headers and body leave in one write, without Nagle's delay.
    disable_nagle_algorithm = True
    wbufsize = -1

    @property
    def site(self) -> Site:
        return cast(PortalServer, self.server).site

    @property
    def state(self) -> ReplicaState:
        return cast(PortalServer, self.server).state

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the stats hook is the record of requests."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith(HOOKS):
            self._answer(method, parts.path, parts.query)
            return
        self.state.count(self.path, method)
        # From the request line read to the answer written: the window in which a second
        # request from the same crawler means two in flight (its bytes leave after this).
        server = cast(PortalServer, self.server)
        server.enter()
        try:
            if HOLD_SECONDS:
                time.sleep(HOLD_SECONDS)
            self._answer(method, parts.path, parts.query)
        finally:
            server.leave()

    def _answer(self, method: str, path: str, raw_query: str) -> None:
        query = _flat(parse_qs(raw_query, keep_blank_values=True))
        if method == "POST":
            query = {**query, **self._form()}
        verb = "GET" if method == "HEAD" else method
        routes = self._routes()
        route = routes.get((verb, path))
        if route is not None:
            route(query)
            return
        if verb == "GET" and self._get_path(path):
            return
        if allowed := self._allowed(path, routes):
            self._send_text(405, "method not allowed\n", {"Allow": ", ".join(allowed)})
        else:
            self._send_page(_not_found(), status=404)

    def _routes(self) -> dict[tuple[str, str], Callable[[Query], None]]:
        routes: dict[tuple[str, str], Callable[[Query], None]] = {
            ("GET", MODULE_PATH): self._module,
            ("GET", DOWNFILE): self._downfile,
            ("GET", HOOKS + "stats"): lambda q: self._send_json(200, self.state.stats()),
            ("GET", HOOKS + "concurrency"): lambda q: self._send_json(
                200, cast(PortalServer, self.server).concurrency()
            ),
            ("POST", HOOKS + "revise"): self._revise,
            ("POST", HOOKS + "delete"): self._delete,
            ("POST", HOOKS + "break"): self._break,
            ("POST", HOOKS + "reset"): self._reset,
        }
        # Each portal answers only the list endpoint its CMS version has.
        paging = self.site.portal.paging
        if paging == "page":
            routes[("GET", pages.NEWER_PROXY)] = self._proxy_page
        elif paging == "range":
            routes[("POST", pages.OLDER_PROXY)] = self._proxy_range
        elif paging == "jpaas":
            routes[("GET", JPAAS_UNIT)] = self._jpaas
        return routes

    def _allowed(self, path: str, routes: Iterable[tuple[str, str]]) -> list[str]:
        site = self.site
        static = any(path in where for where in (site.static, site.served, site.lists, site.files))
        return sorted({m for m, p in routes if p == path} | ({"GET"} if static else set()))

    def _form(self) -> Query:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        return _flat(parse_qs(raw, keep_blank_values=True))

    def _get_path(self, path: str) -> bool:
        """Serves a static page, list page, report page or attachment; False when there is none."""
        site = self.site
        if path in site.static:
            self._send_page(site.static[path])
        elif path in site.lists:
            self._send_list(path)
        elif path in site.served:
            self._send_document(path)
        elif path.startswith(ATTACH) and (pdf := site.attachment(path[len(ATTACH) :])):
            self._send_page(pdf, conditional=True)
        elif (page := site.file(path)) is not None:
            self._send_page(page, conditional=True)
        else:
            return False
        return True

    def _send_list(self, path: str) -> None:
        number = self.site.lists[path]
        if self.site.portal.family == "generic" and number == 1 and self.state.hits(self.path) == 1:
            # The second list page is rate limited once: a polite crawler backs off and retries.
            self._send_text(429, "too many requests\n", {"Retry-After": "0"})
            return
        self._send_page(self.site.list_page(number, self.state.broken))

    def _send_document(self, key: str) -> None:
        report = self.site.served[key]
        if self.state.deleted(key) or report.fault == "deleted":
            self._send_gone()
        elif report.fault == "challenge":
            self._send_page(Page(faults.challenge_page(), "text/html; charset=utf-8"), status=412)
        elif report.fault == "wzws":
            self._send_page(Page(faults.wzws_page(), "text/html; charset=utf-8"))
        elif report.fault == "flaky" and self.state.hits(self.path) == 1:
            self._send_text(503, "service unavailable\n")
        else:
            if report.fault == "slow" and self.state.hits(self.path) == 1:
                time.sleep(SLOW_SECONDS)
            extra, revised_at = self.state.revisions(key)
            page = self.site.document(key, extra, revised_at)
            self._send_page(page, conditional=self.site.config.get("validators", True))

    def _send_gone(self) -> None:
        """A deleted page: TRS refreshes to the folder (with 200); the others answer 404."""
        if self.site.portal.family == "trs":
            self._send_page(Page(trs_deleted_page().encode(), "text/html; charset=utf-8"))
        else:
            self._send_page(_not_found(), status=404)

    def _module(self, q: Query) -> None:
        key = Site.module_key(q.get("area", ""), q.get("fbtime", ""))
        if key in self.site.docs:
            self._send_document(key)
        else:
            self._send_page(self.site.module_empty())

    def _owns(self, q: Query) -> bool:
        portal = self.site.portal
        return q.get("columnid") == str(portal.column_id) and q.get("unitid") == str(portal.unit_id)

    def _proxy_page(self, q: Query) -> None:
        page = _int(q.get("page"), 0)
        if not self._owns(q):
            self._send_page(self.site.empty_proxy())
            return
        self._send_page(self.site.proxy_page(page, self.state.broken))

    def _proxy_range(self, q: Query) -> None:
        if not self._owns(q):
            self._send_page(self.site.empty_proxy())
            return
        start, end = _int(q.get("startrecord"), 1), _int(q.get("endrecord"), 0)
        self._send_page(self.site.proxy_range(start, end, self.state.broken))

    def _jpaas(self, q: Query) -> None:
        portal, config = self.site.portal, self.site.config
        owns = q.get("webId") == config["jpaas_web_id"] and q.get("pageId") == str(portal.column_id)
        if not owns:
            body = jpaas_refusal().encode("utf-8")
            self._send_page(Page(body, "application/json;charset=UTF-8"))
            return
        self._send_page(self.site.jpaas_page(_int(q.get("pageNo"), 1), self.state.broken))

    def _downfile(self, q: Query) -> None:
        name = q.get("filename", "")
        if q.get("classid") != "0" or name not in self.site.attachments:
            self._send_page(_not_found(), status=404)
            return
        self.send_response(302)
        self.send_header("Location", ATTACH + name)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _revise(self, q: Query) -> None:
        key = q.get("path", "")
        if key not in self.site.docs:
            self._send_json(404, {"error": f"no report page at {key!r}"})
            return
        self._send_json(200, {"path": key, "revisions": self.state.revise(key)})

    def _delete(self, q: Query) -> None:
        key = q.get("path", "")
        if key not in self.site.docs:
            self._send_json(404, {"error": f"no report page at {key!r}"})
            return
        self.state.delete(key)
        self._send_json(200, {"path": key, "deleted": True})

    def _break(self, q: Query) -> None:
        self.state.broken = True
        self._send_json(200, {"listing": "empty"})

    def _reset(self, q: Query) -> None:
        self.state.reset()
        cast(PortalServer, self.server).reset_concurrency()
        self._send_json(200, {"ok": True})

    def _not_modified(self, page: Page) -> bool:
        """RFC 9110: If-None-Match wins; If-Modified-Since is looked at only without it."""
        etags = self.headers.get("If-None-Match")
        if etags is not None:
            tags = {t.strip().removeprefix("W/") for t in etags.split(",")}
            return "*" in tags or page.etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None or page.last_modified is None:
            return False
        try:
            return int(page.last_modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def _send_page(
        self,
        page: Page,
        status: int = 200,
        conditional: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        if conditional and self._not_modified(page):
            status = 304
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if conditional:
            self.send_header("ETag", page.etag)
        if conditional and page.last_modified is not None:
            self.send_header("Last-Modified", formatdate(page.last_modified, usegmt=True))
        if status == 304:
            self.end_headers()
            return
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(page.body)

    def _send_json(self, status: int, data: object) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send_page(Page(body, "application/json; charset=utf-8"), status=status)

    def _send_text(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        page = Page(text.encode("utf-8"), "text/plain; charset=utf-8")
        self._send_page(page, status=status, headers=headers)


def _flat(parsed: dict[str, list[str]]) -> Query:
    return {k: v[0] for k, v in parsed.items()}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _not_found() -> Page:
    return Page(pages.not_found_page().encode("utf-8"), "text/html; charset=utf-8")
