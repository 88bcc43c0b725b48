"""A hostile Hanweb portal on loopback: the faults of the real (and of a malicious) web, on demand.

Each fault class has a column of its own, `/<fault>/col/col1/index.html`, shaped as the Hanweb
spider expects (records embedded in a `<datastore>`), that lists a good report page and the faulty
URLs; so a crawl of one column meets exactly that fault, and shows whether the crawl goes on.
Nothing big is built in memory: the huge pages and the drip are streamed, the gzip bomb is one
1 KB deflate block repeated. The server counts every request by path (`hits`) and the bytes the
huge pages sent (`sent`), so a test can tell what the crawler fetched and where it stopped.

Example: ``with HostileServer() as hostile: crawl(hostile.url + "/gzip_bomb/col/col1/index.html")``
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from replica.narrative import figures_of, numbers_for, paragraphs
from replica.pdf import text_pdf

COLUMN = "/col/col1/index.html"
GOOD = "/art/2024/1/15/art_1_1.html"  # every column's good report, archived whatever the fault
PROXY = "/module/web/jpage/dataproxy.jsp"
EVIL = "nianbao-evil"  # in every hostile file name, so a test can look for such a file on disk
RECOVER_AFTER = 2  # `recover500` answers 500 this many times, then the page
HUGE_BYTES = 300 * 1024 * 1024  # the huge pages' length: far over any per-file limit
BOMB_MB = 4096  # the gzip bomb expands to 4 GiB of zeros, from about 4 MB
DRIP_SECONDS = 0.25  # the drip sends one byte this often
HANG_SECONDS = 60.0  # the longest a `timeout` answer holds its connection, if the client stays
NESTING = 100_000  # <div>s deep
CHUNK = 64 * 1024
HTML = "text/html; charset=utf-8"
GZIP = {"Content-Encoding": "gzip"}

# fault -> the record links its column adds to the good page (paths under /<fault>/).
FAULTS: dict[str, tuple[str, ...]] = {
    "error500": ("/bad/500.html",),
    "recover500": ("/bad/recover.html",),
    "reset": ("/bad/reset.html",),
    "timeout": ("/bad/hang.html",),
    "drip": ("/bad/drip.html",),
    "truncated": ("/bad/truncated.html",),
    "redirect_loop": ("/bad/loop-a.html",),
    "huge": ("/bad/huge.pdf", "/bad/huge-stream.html"),
    "gzip_bomb": ("/bad/bomb.html",),
    "nested_html": ("/bad/nested.html", "/bad/malformed.html"),
    "entity_expansion": (),  # its records come from a dataproxy answer with a billion laughs
    "external_entity": (),  # … with external entities (file:///etc/passwd, a loopback URL)
    "charset_lie": ("/bad/gbk.html",),
    "pdf_is_html": ("/bad/as-pdf.html", "/bad/links-pdf.html"),
    "evil_names": ("/bad/evil.html",),
    # Issue 12's crawl-time columns, crawled together by tests/test_hostile_crawl.py. `{local}`
    # is this server under the name localhost, `{other}` a second server on another port
    # (`elsewhere`, which counts what reaches it), `{numeric}` that one as 2130706433.
    "offsite_link": (
        "{local}/offsite_link/bad/via-localhost.html",
        "{other}/offsite_link/bad/other-port.html",
        "{numeric}/offsite_link/bad/numeric.html",
        "/bad/offsite-files.html",
    ),
    "offsite_redirect": (
        "/bad/to-localhost.html",
        "/bad/to-other.html",
        "/bad/to-numeric.html",
        "/bad/hop.html",
        "/bad/to-schemeless.html",
        "/bad/redirect-files.html",
    ),
    # Its column holds a record of 720 KB of unclosed <a href>; its report page a value of 720 KB
    # of `.pdf?` whose quote never closes.
    "unclosed_anchors": ("/bad/unclosed-href.html",),
    "many_headers": ("/bad/headers.html",),
    "huge_report": ("/bad/br.html",),
    "font_nesting": ("/bad/fonts.html",),
    "long_fields": (f"/bad/long-url.html?q={'x' * 3100}", "/bad/long-type.html"),
}
ISSUE12 = (
    "offsite_link",
    "offsite_redirect",
    "unclosed_anchors",
    "many_headers",
    "huge_report",
    "font_nesting",
    "long_fields",
)
UNCLOSED_BYTES = 720 * 1024
MANY_HEADERS = 200_000
BR_COUNT = 5_000_000  # `<br>x` five million times: 25 MB, over ten million nodes
FONT_PARAGRAPHS = 130
LONG_TYPE = HTML + "; " + "; ".join(f"x-param{i}=value" for i in range(20))  # over 255 chars
# Attachments of /offsite_link/bad/offsite-files.html: the same hosts, and two more spellings.
OFFSITE_FILES = (
    "{local}/offsite_link/bad/secret.pdf",
    "{other}/secret.pdf",
    "{numeric}/secret.pdf",
    "{hex}/secret.pdf",
    "{mapped}/secret.pdf",
)
# Where the redirect columns send the crawler: path -> Location.
OFFSITE_REDIRECTS = {
    "/bad/to-localhost.html": "{local}/offsite_redirect/bad/landed.html",
    "/bad/to-other.html": "{other}/landed.html",
    "/bad/to-numeric.html": "{numeric}/landed.html",
    "/bad/hop.html": "/offsite_redirect/bad/hop2.html",  # the same host first, then away
    "/bad/hop2.html": "{other}/hop.html",
    "/bad/to-schemeless.html": "//{other_netloc}/schemeless.html",
    "/bad/file.pdf": "{other}/file.pdf",
}
PROXY_FAULTS = ("entity_expansion", "external_entity")
SECOND = "/art/2024/1/16/art_1_2.html"  # the record the hostile dataproxy answers list

# Attachment links of `evil_names`: traversal and absolute names, raw and percent-encoded, and
# local files through the file: scheme (the `#` makes the link look like a PDF).
EVIL_LINKS = (
    f"/evil_names/module/download/downfile.jsp?classid=0&filename=../../../../../../tmp/{EVIL}-dotdot.pdf",
    f"/evil_names/module/download/downfile.jsp?classid=0&filename=/tmp/{EVIL}-absolute.pdf",
    f"/evil_names/module/download/downfile.jsp?classid=0&filename=..%2F..%2F..%2F..%2Ftmp%2F{EVIL}-encoded.pdf",
    f"/evil_names/module/download/downfile.jsp?classid=0&filename=..\\..\\..\\{EVIL}-windows.pdf",
    f"../../../../../../../tmp/{EVIL}-href.pdf",
    "/evil_names/module/download/downfile.jsp?classid=0&filename=to-file.pdf",  # 302 to file:
    "file:///etc/passwd#.pdf",
)


def report_page(title: str, links: tuple[str, ...] = ()) -> str:
    """A Hanweb article page of one annual report, its body in div#zoom (declared utf-8)."""
    files = "".join(f'<p>附件：<a href="{href}">统计表.pdf</a></p>\n' for href in links)
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f'<title>{title}</title><meta name="ArticleTitle" content="{title}">'
        '<meta name="PubDate" content="2024-01-15 10:00"></head><body>\n'
        '<div class="xxgk_top"><p>索引号: 330000000000/2024-00001 公开方式: 主动公开</p>'
        "<p>发布机构: 坏网市人民政府办公室 成文日期: 2024-01-15</p></div>\n"
        f'<div class="title">{title}</div>\n<div id="zoom">\n'
        "<p>本报告根据《中华人民共和国政府信息公开条例》编制。</p>\n<p>一、总体情况</p>\n"
        f"<p>2023年，本机关主动公开政府信息120条。</p>\n{files}</div></body></html>\n"
    )


def title_of(fault: str, n: int) -> str:
    return f"坏网市{2024 - n}年政府信息公开工作年度报告（{fault}）"


def _record(href: str, title: str) -> str:
    return f"<record><![CDATA[<li><a href='{href}' title='{title}'>{title}</a><span>2024-01-15</span></li>]]></record>\n"


def href_of(fault: str, path: str, hosts: dict[str, str]) -> str:
    """A link of a fault's column: a path under /<fault>/, or a URL on one of `hosts`."""
    return path.format(**hosts) if path.startswith("{") else f"/{fault}{path}"


def column_page(fault: str, hosts: dict[str, str]) -> bytes:
    """The fault's column: the good page and the fault's links; the XML faults' column points
    jpage at their dataproxy answer."""
    hrefs = [href_of(fault, path, hosts) for path in (GOOD, *FAULTS[fault])]
    records = "".join(_record(href, title_of(fault, n)) for n, href in enumerate(hrefs, 1))
    if fault == "unclosed_anchors":
        anchor = '<a href="/unclosed_anchors/bad/x.html">'
        unclosed = anchor * (UNCLOSED_BYTES // len(anchor))
        records = f"<record><![CDATA[<li>{unclosed}</li>]]></record>\n{records}"
    nextgroup = ""
    if fault in PROXY_FAULTS:
        query = "page=1&appid=1&webid=1&path=/&columnid=1&unitid=1&permissiontype=0"
        nextgroup = f'<nextgroup><![CDATA[<a href="/{fault}{PROXY}?{query}"></a>]]></nextgroup>\n'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开年报</title></head>'
        f'<body><div id="1"><script type="text/xml"><datastore>\n{nextgroup}'
        f"<recordset>\n{records}</recordset></datastore></script></div></body></html>\n"
    ).encode()


def laughs_doctype() -> tuple[str, str]:
    """The billion laughs (a DTD and the reference to expand): ten entities of ten references
    each, 10^9 'lol's if expanded."""
    lines = ['<!ENTITY lol0 "lol">']
    lines += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return "<!DOCTYPE datastore [\n" + "\n".join(lines) + "\n]>\n", "&lol9;"


def proxy_answer(fault: str, base: str) -> bytes:
    """A newer-jpage answer listing the second good page, under a hostile DTD."""
    if fault == "entity_expansion":
        doctype, use = laughs_doctype()
    else:
        doctype = (
            "<!DOCTYPE datastore [\n"
            '<!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
            f'<!ENTITY remote SYSTEM "{base}/external_entity/xxe-entity.xml">\n'
            f'<!ENTITY % dtd SYSTEM "{base}/external_entity/xxe-dtd.dtd">\n%dtd;\n]>\n'
        )
        use = "&passwd;&remote;"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<datastore>\n'
        f"<totalrecord>1</totalrecord>\n<totalpage>1</totalpage>\n<note>{use}</note>\n"
        f"<recordset>\n{_record(f'/{fault}{SECOND}', title_of(fault, 9))}</recordset>\n</datastore>\n"
    ).encode()


@cache
def gzip_bomb() -> bytes:
    """~4 MB of gzip that expands to BOMB_MB MiB: after a full flush the compressor's history is
    empty, so every further MiB of zeros compresses to the same ~1 KB block, repeated here. The
    trailer (CRC, length) is left off: a reader that gets that far has already lost."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = b"<html><body>" + bytes((1 << 20) - 12)
    head = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * (BOMB_MB - 1)


@cache
def br_page() -> bytes:
    """A report of 25 MB: `<br>x` five million times after its first paragraph."""
    body = "<p>一、总体情况</p>" + "<br>x" * BR_COUNT
    return report_page(title_of("huge_report", 2)).replace("<p>一、总体情况</p>", body).encode()


def font_report() -> tuple[bytes, dict[str, int]]:
    """A report pasted from Word: FONT_PARAGRAPHS paragraphs, each opening two `<font>` tags it
    never closes, its figures in the last ones; and the figures it states."""
    numbers = numbers_for("hostile|font_nesting", "government", 2023)
    texts = paragraphs(numbers, "坏网市人民政府办公室", "全市", None, "hostile|font_nesting")
    texts = ["（此段为空）"] * (FONT_PARAGRAPHS - len(texts)) + texts
    body = "".join(f'<p><font face="宋体">{text}<font size="3">' for text in texts)
    page = report_page(title_of("font_nesting", 2)).replace("<p>一、总体情况</p>", body)
    return page.encode(), figures_of(numbers)


def offsite_files_page(hosts: dict[str, str]) -> bytes:
    files = tuple(path.format(**hosts) for path in OFFSITE_FILES)
    return report_page(title_of("offsite_link", 5), files).encode()


def nested_page() -> bytes:
    body = "<div>" * NESTING + title_of("nested_html", 2) + "</div>" * NESTING
    return report_page(title_of("nested_html", 2)).replace("<p>一、总体情况</p>", body).encode()


def malformed_page() -> bytes:
    """Unclosed and crossed tags, a NUL, bytes that are no UTF-8, a comment and a script that
    never end."""
    return (
        b'<html><head><meta charset="utf-8"><title>\xe5\x9d\x8f</title><body><div id="zoom">'
        b"<p><table><tr><td>1<td><b><i>2</b></i></tr></p></table>\x00\xff\xfe\xc3"
        b'<a href="x.html title=unclosed>link</a></html><p>after the end<!-- never closed'
        b"<script>var s = '</div>"
    )


class HostileServer(ThreadingHTTPServer):
    """The hostile portal on one loopback port; a context manager that serves in a thread."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), HostileHandler)
        self.url = f"http://{host}:{self.server_address[1]}"
        self.elsewhere = Elsewhere(host)
        self.stopping = threading.Event()  # ends the drip when the server stops
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._thread: threading.Thread | None = None

    def add(self, what: str, path: str, n: int = 1) -> int:
        with self._lock:
            self._counts[what, path] += n
            return self._counts[what, path]

    def hits(self, path: str) -> int:
        """Requests for `path` so far."""
        return self.add("hits", path, 0)

    def hosts(self) -> dict[str, str]:
        """The other names and hosts the offsite columns link to (see FAULTS)."""
        port, other = self.server_address[1], self.elsewhere.server_address[1]
        return {
            "local": f"http://localhost:{port}",
            "other": f"http://127.0.0.1:{other}",
            "other_netloc": f"127.0.0.1:{other}",
            "numeric": f"http://2130706433:{other}",
            "hex": f"http://0x7f000001:{other}",
            "mapped": f"http://[::ffff:127.0.0.1]:{other}",
        }

    def sent(self, path: str) -> int:
        """Body bytes a streamed page got out before the client hung up."""
        return self.add("sent", path, 0)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler hanging up on a huge page or a drip is the point, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)

    def __enter__(self) -> HostileServer:
        gzip_bomb()  # built before the first request, so that it is not slow to answer
        self.elsewhere.__enter__()
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="hostile", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.elsewhere.__exit__(kind, exc, tb)


class Elsewhere(ThreadingHTTPServer):
    """Another host for the offsite columns to point at: answers every request with a small
    page and counts it; a crawl that stays on its portal's hosts leaves `requests` empty."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), ElsewhereHandler)
        self.requests: list[str] = []
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Elsewhere:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class ElsewhereHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: `requests` is the record."""

    def do_GET(self) -> None:
        cast(Elsewhere, self.server).requests.append(self.path)
        body = f"<html><body>secret of another host ({EVIL})</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HostileHandler(BaseHTTPRequestHandler):
    server_version = "nianbao-hostile/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: a cut body cannot poison another

    @property
    def hostile(self) -> HostileServer:
        return cast(HostileServer, self.server)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: `hits` is the record of requests."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        hit = self.hostile.add("hits", path)
        if path == "/robots.txt":
            self.send(b"User-agent: *\nDisallow:\n", "text/plain")
        elif EVIL in path or "downfile.jsp" in path:
            self.downfile(path)
        elif path.endswith(COLUMN) and path.count("/") == 4:
            self.send(column_page(path.split("/")[1], self.hostile.hosts()))
        else:
            fault, _, rest = path[1:].partition("/")
            route = self.routes().get("/" + rest)
            if fault not in FAULTS or route is None:
                self.send(b"<html><body>404</body></html>", status=404)
            else:
                route(fault, hit)

    def routes(self) -> dict[str, Callable[[str, int], None]]:
        def page(title: str, links: tuple[str, ...] = ()) -> None:
            self.send(report_page(title, links).encode())

        return {
            GOOD: lambda f, hit: page(title_of(f, 1)),
            SECOND: lambda f, hit: page(title_of(f, 9)),
            PROXY: lambda f, hit: self.send(proxy_answer(f, self.hostile.url), "text/xml"),
            "/bad/500.html": lambda f, hit: self.send(b"<html>500</html>", status=500),
            "/bad/recover.html": self.recover,
            "/bad/reset.html": lambda f, hit: self.reset(),
            "/bad/hang.html": lambda f, hit: self.hang(),
            "/bad/drip.html": lambda f, hit: self.drip(),
            "/bad/truncated.html": lambda f, hit: self.truncated(),
            "/bad/loop-a.html": lambda f, hit: self.redirect(f"/{f}/bad/loop-b.html"),
            "/bad/loop-b.html": lambda f, hit: self.redirect(f"/{f}/bad/loop-a.html"),
            "/bad/huge.pdf": lambda f, hit: self.stream(HUGE_BYTES, declared=True),
            "/bad/huge-stream.html": lambda f, hit: self.stream(HUGE_BYTES, declared=False),
            "/bad/bomb.html": lambda f, hit: self.send(gzip_bomb(), HTML, GZIP),
            "/bad/nested.html": lambda f, hit: self.send(nested_page()),
            "/bad/malformed.html": lambda f, hit: self.send(malformed_page()),
            # The header and the meta both say utf-8; the bytes are GBK.
            "/bad/gbk.html": lambda f, hit: self.send(report_page(title_of(f, 2)).encode("gbk")),
            "/bad/as-pdf.html": lambda f, hit: self.send(
                report_page(title_of(f, 2)).encode(), "application/pdf"
            ),
            "/bad/links-pdf.html": lambda f, hit: page(title_of(f, 3), (f"/{f}/bad/table.pdf",)),
            "/bad/table.pdf": lambda f, hit: self.send(
                b"<html><body><p>\xe6\x96\x87\xe4\xbb\xb6\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8</p></body></html>",
                "application/pdf",
            ),
            "/bad/evil.html": lambda f, hit: page(title_of(f, 2), EVIL_LINKS),
            **self.issue12_routes(),
        }

    def issue12_routes(self) -> dict[str, Callable[[str, int], None]]:
        hosts = self.hostile.hosts()

        def redirect(path: str) -> Callable[[str, int], None]:
            return lambda f, hit: self.redirect(OFFSITE_REDIRECTS[path].format(**hosts))

        return {
            "/bad/offsite-files.html": lambda f, hit: self.send(offsite_files_page(hosts)),
            "/bad/via-localhost.html": lambda f, hit: self.send(b"<html>secret</html>"),
            "/bad/secret.pdf": lambda f, hit: self.send(text_pdf(["secret"]), "application/pdf"),
            "/bad/landed.html": lambda f, hit: self.send(b"<html>secret</html>"),
            **{path: redirect(path) for path in OFFSITE_REDIRECTS},
            "/bad/redirect-files.html": lambda f, hit: self.send(
                report_page(title_of(f, 6), ("/offsite_redirect/bad/file.pdf",)).encode()
            ),
            "/bad/headers.html": lambda f, hit: self.many_headers(report_page(title_of(f, 2))),
            "/bad/br.html": lambda f, hit: self.send(br_page()),
            "/bad/fonts.html": lambda f, hit: self.send(font_report()[0]),
            "/bad/unclosed-href.html": lambda f, hit: self.send(
                report_page(title_of(f, 2))
                .replace("<p>一、总体情况</p>", '<p><a href="' + ".pdf?" * (UNCLOSED_BYTES // 5))
                .encode()
            ),
            "/bad/long-url.html": lambda f, hit: self.send(report_page(title_of(f, 2)).encode()),
            "/bad/long-type.html": lambda f, hit: self.send(
                report_page(title_of(f, 3)).encode(), LONG_TYPE
            ),
        }

    def many_headers(self, page: str) -> None:
        """A report page after MANY_HEADERS headers (an 11.7 MB row each, when stored whole)."""
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(body)))
        for n in range(MANY_HEADERS):
            self.send_header(f"X-Hostile-{n}", "v" * 40)
        self.end_headers()
        self.wfile.write(body)

    def send(
        self,
        body: bytes,
        content_type: str = HTML,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        length = {"Content-Length": str(len(body))}
        self.head(status, {"Content-Type": content_type, **length, **(headers or {})})
        self.wfile.write(body)

    def head(self, status: int, headers: dict[str, str]) -> None:
        """The status line and the headers; the body, if any, is the caller's to write."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def recover(self, fault: str, hit: int) -> None:
        if hit <= RECOVER_AFTER:
            self.send(b"<html>busy</html>", status=500)
        else:
            self.send(report_page(title_of(fault, 2)).encode())

    def reset(self) -> None:
        """A TCP reset: linger 0, then close, once the request has been read."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def hang(self) -> None:
        """Accept, read the request, never answer; wait for the client to give up."""
        self.connection.settimeout(HANG_SECONDS)
        with contextlib.suppress(OSError):
            while self.connection.recv(CHUNK):
                pass

    def drip(self) -> None:
        """A 200 that promises 4 KB and sends one byte every DRIP_SECONDS."""
        self.head(200, {"Content-Type": HTML, "Content-Length": "4096"})
        for _ in range(4096):
            if self.hostile.stopping.wait(DRIP_SECONDS):
                return
            self.wfile.write(b" ")

    def truncated(self) -> None:
        """Content-Length says 64 KB; 1 KB comes, then the connection closes."""
        self.head(200, {"Content-Type": HTML, "Content-Length": str(64 * 1024)})
        self.wfile.write(report_page("截断")[:1024].encode())

    def redirect(self, location: str) -> None:
        self.head(302, {"Location": location, "Content-Length": "0"})

    def stream(self, length: int, declared: bool) -> None:
        """`length` bytes of a fake PDF, written a chunk at a time until the client hangs up."""
        length_header = {"Content-Length": str(length)} if declared else {}
        self.head(200, {"Content-Type": "application/pdf" if declared else HTML, **length_header})
        path, chunk = urlsplit(self.path).path, b"%PDF-1.4\n" + bytes(CHUNK - 9)
        for _ in range(length // CHUNK):
            self.wfile.write(chunk)
            self.hostile.add("sent", path, CHUNK)

    def downfile(self, path: str) -> None:
        """A PDF for any evil name, with a Content-Disposition that carries the name too."""
        name = parse_qs(urlsplit(self.path).query).get("filename", [path])[0]
        if name == "to-file.pdf":
            self.redirect("file:///etc/passwd")
            return
        disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''..%2F..%2F{EVIL}-star.pdf"
        pdf = text_pdf(["Statistics attachment (hostile)", f"name: {name}"])
        self.send(pdf, "application/pdf", {"Content-Disposition": disposition})
