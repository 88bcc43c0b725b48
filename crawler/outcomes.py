"""What a fetch turned out to be, decided from its status and its bytes, never from its URL.

`blocked` (an anti-bot challenge) and `gone` (a deleted page) are evidence about a portal, never a
missing report; `type_mismatch` is a link to `x.pdf` that answered with something else (an HTML
error page, say), recorded as what it is and never archived as the report's attachment.
`unanswered` names a fetch that ended in an error instead (a timeout, a reset, a limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from parsers.sniff import sniff_type

DOCUMENT_TYPES = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et"})
# What an attachment may legitimately be: some reports keep their tables only in an image.
ATTACHMENT_TYPES = DOCUMENT_TYPES | {"image", "zip", "ole"}
_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_EXTENSION = re.compile(r"\.([a-z]{2,4})$", re.I)

# Anti-bot challenge pages seen in front of government portals. Each marker is a name only those
# pages carry: WZWS (网站卫士, "wzws_cid"/"WZWS_CONFIRM_PREFIX_LABEL" scripts), 加速乐 (jiasule's
# __jsl_clearance cookie script), Aliyun WAF (acw_sc__v2), Ruishu (`$_ts` bootstraps, 412).
CHALLENGE_MARKERS = (b"wzws", b"__jsl_clearance", b"acw_sc__v2", b"$_ts=", b"$_ts[")
# Statuses a challenge answers with, when it carries a script rather than the page (portals.md).
CHALLENGE_STATUSES = frozenset({202, 403, 412, 418, 521})
_CHALLENGE_MAX = 64 * 1024  # a challenge is a small page; a report mentioning "wzws" is not one
_REFRESH = re.compile(
    rb"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*['"]?([^"'>\s]+)""",
    re.I,
)
_GONE_PAGE_MAX = 8 * 1024
PAGE_KINDS = frozenset({"article", "module", "attachment"})
TOO_LARGE = "larger than the size limit per file; not kept"
BOMB = "decompresses past the size limit per file (a compression bomb?); not kept"


@dataclass(frozen=True)
class Outcome:
    """A fetch's classification, with the type its bytes are and what was odd about it."""

    outcome: str
    detected_type: str | None = None
    finding: str | None = None


def detect_type(body: bytes) -> str:
    """The type the bytes are: pdf, doc(x), xls(x), ppt(x), image, rtf, zip, ole, html, xml,
    json, text or binary (the one sniffer, parsers.sniff, which the parsers read by too)."""
    return sniff_type(body)


def claimed_type(url: str, content_type: str | None) -> str | None:
    """The document type a link's URL (path or `filename=`) or Content-Type promises, if any."""
    parts = urlsplit(url)
    names = [
        parts.path,
        *(v for k, v in parse_qsl(parts.query) if k.lower() in ("filename", "file")),
    ]
    for name in names:
        match = _EXTENSION.search(name)
        if match and match.group(1).lower() in DOCUMENT_TYPES:
            return match.group(1).lower()
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return _CONTENT_TYPES.get(mime)


def is_challenge(status: int, body: bytes) -> bool:
    """An anti-bot challenge page instead of the page asked for."""
    if len(body) > _CHALLENGE_MAX:
        return False
    lowered = body.lower()
    if any(marker in lowered for marker in CHALLENGE_MARKERS):
        return True
    return status in CHALLENGE_STATUSES and b"<script" in lowered


def gone_target(url: str, final_url: str, status: int, body: bytes) -> str | None:
    """Where a deleted page sends its reader (a parent folder), or None when it is not deleted.

    TRS answers a deleted document with a meta refresh to its folder; others redirect there or
    answer 404/410 where the report used to be.
    """
    if status in (404, 410):
        return f"HTTP {status}"
    if final_url != url and _is_parent(url, final_url):
        return f"redirected to {final_url}"
    if status == 200 and len(body) <= _GONE_PAGE_MAX and b"efresh" in body:
        match = _REFRESH.search(body)
        if match:
            target = urljoin(final_url, match.group(1).decode("latin-1"))
            if _is_parent(final_url, target):
                return f"meta refresh to {target}"
    return None


def _is_parent(url: str, target: str) -> bool:
    page, parent = urlsplit(url), urlsplit(target)
    if page.netloc != parent.netloc:
        return False
    folder = re.sub(r"(?:index|default)\.s?html?$", "", parent.path) or "/"
    return folder.endswith("/") and page.path.startswith(folder) and page.path != parent.path


def classify(
    *,
    kind: str,
    url: str,
    final_url: str,
    status: int,
    body: bytes | None,
    content_type: str | None,
    validators_sent: bool,
) -> Outcome:
    """The outcome of one fetch of a page of `kind` (listing, article, module, attachment, ...)."""
    if status == 304:
        if validators_sent:
            return Outcome("not_modified")
        return Outcome("error", finding="304 Not Modified to a request that sent no validator")
    data = body or b""
    detected = detect_type(data) if data else None
    if is_challenge(status, data):
        return Outcome("blocked", detected, f"anti-bot challenge page (HTTP {status})")
    if kind in PAGE_KINDS and (gone := gone_target(url, final_url, status, data)):
        return Outcome("gone", detected, f"deleted: {gone}")
    if status >= 400 or status < 200:
        return Outcome("error", detected, f"HTTP {status}")
    if kind == "attachment":
        return _attachment(url, content_type, detected)
    return Outcome("ok", detected, _served_as(content_type, detected))


def _served_as(content_type: str | None, detected: str | None) -> str | None:
    """What is odd about a page whose Content-Type names a document type its bytes are not (an
    HTML page served as a PDF): it is kept and read as what its bytes are."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    claimed = _CONTENT_TYPES.get(mime)
    if claimed and detected and claimed != detected:
        return f"served as {mime}, but the bytes are {detected}"
    return None


def _attachment(url: str, content_type: str | None, detected: str | None) -> Outcome:
    claimed = claimed_type(url, content_type)
    if detected in ATTACHMENT_TYPES:
        if claimed and claimed != detected and {claimed, detected} != {"wps", "doc"}:
            return Outcome("ok", detected, f"linked as {claimed}, but the bytes are {detected}")
        return Outcome("ok", detected)
    what = f"linked as {claimed}" if claimed else "linked as an attachment"
    return Outcome("type_mismatch", detected, f"{what}, but the bytes are {detected or 'empty'}")


class OffsiteRefused(IgnoreRequest):
    """A request or a redirect to a host outside the portal's (crawler.middlewares), never
    sent; `response` is the redirect when it was one."""

    def __init__(self, message: str, response: Response | None = None) -> None:
        super().__init__(message)
        self.response = response


def unanswered(error: BaseException) -> Outcome | None:
    """The outcome of a request that got no usable answer (after its retries), from the error it
    ended with; None when robots.txt forbade it (never sent: not an error).

    A limit that cut a response is named in the finding, so nothing is dropped silently.
    """
    message = str(error)
    if isinstance(error, HttpError):  # a 3xx Scrapy would not follow (to file:///etc/passwd, say)
        location = (error.response.headers.get("Location") or b"").decode("latin-1")
        to = f" to {location}" if location else ""
        return Outcome("error", finding=f"HTTP {error.response.status}{to}: not followed")
    if isinstance(error, IgnoreRequest):
        if "robots.txt" in message:
            return None
        if "decompression" in message:  # HttpCompressionMiddleware past DOWNLOAD_MAXSIZE
            return Outcome("too_large", finding=f"{BOMB}: {message}")
        if "redirections" in message:  # RedirectMiddleware past REDIRECT_MAX_TIMES
            return Outcome("error", finding=f"redirect loop: {message}")
        return Outcome("error", finding=f"refused: {message}")
    # A server that did not (fully) answer: "no answer: " first, then how it failed.
    if isinstance(error, DownloadTimeoutError):  # the whole download, a slow drip included
        return Outcome("error", finding=f"no answer: timed out: {message}")
    if isinstance(error, ResponseDataLossError):
        return Outcome("error", finding=f"no answer: truncated short of Content-Length: {message}")
    if isinstance(error, DownloadCancelledError) and "max size" in message:
        return Outcome("too_large", finding=f"{TOO_LARGE}: {message}")
    if isinstance(error, UnsupportedURLSchemeError | NotSupported):
        return Outcome("error", finding=f"refused: not an http(s) URL: {message}")
    return Outcome("error", finding=f"no answer: {type(error).__name__}: {message}")
