"""The HTTP request handler of one replica portal: routing, conditional GETs, test hooks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qs, urlsplit

from replica import pages
from replica.records import MODULE_PATH
from replica.site import Page, Site
from replica.state import ReplicaState

HOOKS = "/__replica__/"
DOWNFILE = "/module/download/downfile.jsp"
ATTACH = "/attach/0/"

Query = dict[str, str]


class PortalServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that carries its portal's site and state."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, PortalHandler)
        self.site = site
        self.state = ReplicaState()


class PortalHandler(BaseHTTPRequestHandler):
    server_version = "nianbao-replica/1.0"

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
        query = _flat(parse_qs(parts.query, keep_blank_values=True))
        if not parts.path.startswith(HOOKS):
            self.state.count(self.path, method)
        if method == "POST":
            query = {**query, **self._form()}
        verb = "GET" if method == "HEAD" else method
        routes = self._routes()
        route = routes.get((verb, parts.path))
        if route is not None:
            route(query)
            return
        if verb == "GET" and self._get_path(parts.path):
            return
        if allowed := self._allowed(parts.path, routes):
            self._send_text(405, "method not allowed\n", {"Allow": ", ".join(allowed)})
        else:
            self._send_page(_not_found(), status=404)

    def _routes(self) -> dict[tuple[str, str], Callable[[Query], None]]:
        routes: dict[tuple[str, str], Callable[[Query], None]] = {
            ("GET", MODULE_PATH): self._module,
            ("GET", DOWNFILE): self._downfile,
            ("GET", HOOKS + "stats"): lambda q: self._send_json(200, self.state.stats()),
            ("POST", HOOKS + "revise"): self._revise,
            ("POST", HOOKS + "reset"): self._reset,
        }
        # Each portal answers only the jpage variant its CMS version has.
        if self.site.portal.paging == "page":
            routes[("GET", pages.NEWER_PROXY)] = self._proxy_page
        else:
            routes[("POST", pages.OLDER_PROXY)] = self._proxy_range
        return routes

    def _allowed(self, path: str, routes: Iterable[tuple[str, str]]) -> list[str]:
        static = path in self.site.static or path in self.site.docs
        return sorted({m for m, p in routes if p == path} | ({"GET"} if static else set()))

    def _form(self) -> Query:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        return _flat(parse_qs(raw, keep_blank_values=True))

    def _get_path(self, path: str) -> bool:
        """Serves a static page, report page or attachment; False when there is none."""
        if path in self.site.static:
            self._send_page(self.site.static[path])
        elif path in self.site.docs:
            self._send_document(path)
        elif path.startswith(ATTACH) and (pdf := self.site.attachment(path[len(ATTACH) :])):
            self._send_page(pdf, conditional=True)
        else:
            return False
        return True

    def _send_document(self, key: str) -> None:
        extra, revised_at = self.state.revisions(key)
        self._send_page(self.site.document(key, extra, revised_at), conditional=True)

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
        self._send_page(self.site.proxy_page(page) if self._owns(q) else self.site.empty_proxy())

    def _proxy_range(self, q: Query) -> None:
        if not self._owns(q):
            self._send_page(self.site.empty_proxy())
            return
        start, end = _int(q.get("startrecord"), 1), _int(q.get("endrecord"), 0)
        self._send_page(self.site.proxy_range(start, end))

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

    def _reset(self, q: Query) -> None:
        self.state.reset()
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
