"""The Starlette app: read-only pages over the archive, each also as CSV and JSON.

Archived pages are hostile input: every value is escaped by Jinja2, a capture is shown as text
or in a sandboxed iframe whose response forbids every script (CSP `sandbox`, no allow-scripts),
blob URLs take only a sha256, and every response carries a CSP and X-Content-Type-Options.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.blobs import BlobMissing, BlobStore
from archive.db import reading_engine
from archive.models import AlertState, Blob, Capture, ReportCell, ReportYear, RunTally
from archive.runs import RUN_FIELDS, list_runs
from ops.health import HealthRules, portal_health, scheduler_health
from parsers import ParseError, decode_html
from questions.board import BOARD_FIELDS, STATUSES, BoardQuery, board_records, build_board
from questions.cache import AnswerCache, fingerprint
from questions.deadlines import DeadlineRules
from questions.export import FIGURE_FIELDS as FIGURE_VALUE_FIELDS
from questions.figures import figure_number, figure_values, known_keys
from web import render
from web.figures import chart
from web.report import CAPTURE_FIELDS, FIGURE_FIELDS, capture_row, figure_records, report_json
from web.report import report_page as build_report_page
from web.search import SEARCH_FIELDS, search

_log = logging.getLogger(__name__)
SHA256 = re.compile(r"[0-9a-f]{64}")
CHARSET = re.compile(r"[A-Za-z0-9_.:-]{1,32}")  # a label fit for a Content-Type header
SOURCE_LIMIT = 1_000_000  # characters of an archived page's source shown as text
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# What an archived page is served with, inside the iframe: no script, nothing fetched.
CAPTURE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
HEALTH_FIELDS = (
    "subject", "healthy", "last_success", "last_run", "last_status", "failed_in_a_row", "problems",
)  # fmt: skip
RUN_PAGE_FIELDS = (*RUN_FIELDS, "finding")


@dataclass(frozen=True)
class WebConfig:
    database_url: str
    store: BlobStore
    rules: DeadlineRules
    portals: tuple[str, ...]
    as_of: Callable[[], date]  # today in Asia/Shanghai, unless a test fixes it
    health: HealthRules = HealthRules()  # `[alerts]` and `[scheduler]`'s thresholds


class BadRequest(ValueError):
    """A query parameter out of range: a 400 page naming it."""


class SecurityHeaders:
    """Every response: a CSP (the page's, unless the route set its own) and nosniff."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add)


def create_app(config: WebConfig) -> Starlette:
    engine = reading_engine(config.database_url)
    answers = AnswerCache()
    render.preload()

    @contextmanager
    def reading() -> Iterator[Session]:
        with Session(engine) as session:
            try:
                yield session
            finally:
                session.rollback()

    def board(request: Request) -> Response:
        q = _board_query(request, config)
        with reading() as session:
            data = build_board(session, q, config.rules, config.as_of(), answers)
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            return render.json_response(board_records(data), "board")
        if fmt == "csv":
            return render.csv_response(board_records(data), BOARD_FIELDS, "board")
        return render.page(
            "board.html",
            board=data,
            statuses=STATUSES,
            portals=config.portals,
            as_of=config.as_of(),
        )

    def report(request: Request) -> Response:
        report_id = request.path_params["report_id"]
        with reading() as session:
            data = build_report_page(session, report_id, config.rules)
        if data is None:
            return _not_found(f"no report {report_id}")
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            return render.json_response(report_json(data), f"report-{report_id}")
        if fmt == "csv":
            return render.csv_response(figure_records(data), FIGURE_FIELDS, f"report-{report_id}")
        return render.page("report.html", p=data, statuses=STATUSES)

    def capture(request: Request) -> Response:
        capture_id = request.path_params["capture_id"]
        with reading() as session:
            row = capture_row(session, capture_id)
        if row is None:
            return _not_found(f"no capture {capture_id}")
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            return render.json_response(row, f"capture-{capture_id}")
        if fmt == "csv":
            return render.csv_response([row], CAPTURE_FIELDS, f"capture-{capture_id}")
        source = _source_text(config.store, row)
        text, length = source if source else (None, 0)
        return render.page("capture.html", c=row, source=text, length=length, limit=SOURCE_LIMIT)

    def capture_view(request: Request) -> Response:
        """The archived bytes for the sandboxed iframe: HTML under CAPTURE_CSP, else text."""
        with reading() as session:
            cap = session.get(Capture, request.path_params["capture_id"])
            sha, encoding, kind = (
                (cap.sha256, cap.encoding, cap.detected_type) if cap else (None,) * 3
            )
        body = _blob(config.store, sha)
        if body is None:
            return _not_found("no archived body for this capture")
        media = "text/html" if kind in (None, "html") else "text/plain"
        headers = {"Content-Security-Policy": CAPTURE_CSP, "X-Frame-Options": "SAMEORIGIN"}
        charset = encoding if encoding and CHARSET.fullmatch(encoding) else "utf-8"
        return Response(body, headers=headers, media_type=f"{media}; charset={charset}")

    def blob(request: Request) -> Response:
        """A blob's exact bytes as a download; the URL names a sha256 and nothing else."""
        sha = request.path_params["sha"]
        if not SHA256.fullmatch(sha):
            return _not_found("a blob is named by its sha256: 64 lowercase hex digits")
        with reading() as session:
            known = session.scalar(select(Blob.sha256).where(Blob.sha256 == sha))
        body = _blob(config.store, known)
        if body is None:
            return _not_found(f"no blob {sha}")
        headers = {"Content-Disposition": f'attachment; filename="{sha}"'}
        return Response(body, media_type="application/octet-stream", headers=headers)

    def runs(request: Request) -> Response:
        portal = request.query_params.get("portal") or None
        if portal is not None and portal not in config.portals:
            raise BadRequest(f"unknown portal {portal!r}")
        with reading() as session:
            rows = list_runs(session, portal=portal, limit=200)
            health = _health(session, config, portal)
            alerts = session.scalars(
                select(AlertState).where(AlertState.active).order_by(AlertState.raised_at)
            ).all()
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            return render.json_response([_pick(r, RUN_FIELDS) for r in rows], "runs")
        if fmt == "csv":
            return render.csv_response([_pick(r, RUN_FIELDS) for r in rows], RUN_FIELDS, "runs")
        return render.page(
            "runs.html",
            runs=rows,
            fields=RUN_PAGE_FIELDS,
            portal=portal,
            portals=config.portals,
            health=health,
            alerts=alerts,
        )

    def health_data(request: Request) -> Response:
        """`nianbao runs --health --format json|csv`'s rows (exit status aside)."""
        with reading() as session:
            rows = _health(session, config, None)
        if request.path_params["fmt"] == "csv":
            return render.csv_response(rows, HEALTH_FIELDS, "health")
        return render.json_response(rows, "health")

    def search_page(request: Request) -> Response:
        text = (request.query_params.get("q") or "").strip()[:200]
        with reading() as session:
            rows = search(session, text) if text else []
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            return render.json_response(rows, "search")
        if fmt == "csv":
            return render.csv_response(rows, SEARCH_FIELDS, "search")
        return render.page("search.html", q=text, rows=rows)

    def figure(request: Request) -> Response:
        params = request.query_params
        key = params.get("key") or None
        portal = params.get("portal") or None
        if portal is not None and portal not in config.portals:
            raise BadRequest(f"unknown portal {portal!r}")
        first = _int(params.get("from"), 0, "from") or None
        last = _int(params.get("to"), 0, "to") or None
        years = (first or 1990, last or 2100) if first or last else None
        with reading() as session:
            keys = known_keys(session)
            rows = figure_values(session, key, portal=portal, years=years) if key else []
        fmt = request.path_params.get("fmt")
        if fmt == "json":
            data = [_pick(r, FIGURE_VALUE_FIELDS) for r in rows]
            return render.json_response(
                [{**d, "value": figure_number(d["value"])} for d in data], "figure"
            )
        if fmt == "csv":
            data = [_pick(r, FIGURE_VALUE_FIELDS) for r in rows]
            return render.csv_response(data, FIGURE_VALUE_FIELDS, "figure")
        query = {"key": key, "portal": portal, "from": first, "to": last}
        return render.page(
            "figure.html",
            key=key,
            keys=keys,
            portal=portal,
            portals=config.portals,
            first=first,
            last=last,
            params=query,
            c=chart(rows) if rows else None,
        )

    def style(_request: Request) -> Response:
        return Response(render.STYLE, media_type="text/css; charset=utf-8")

    def home(_request: Request) -> Response:
        return RedirectResponse("/board", status_code=303)

    routes = [
        Route("/", home),
        Route("/style.css", style),
        Route("/figure", figure),
        Route("/figure.{fmt:str}", figure),
        Route("/board", board),
        Route("/board.{fmt:str}", board),
        Route("/report/{report_id:int}", report),
        Route("/report/{report_id:int}.{fmt:str}", report),
        Route("/capture/{capture_id:int}", capture),
        Route("/capture/{capture_id:int}.{fmt:str}", capture),
        Route("/capture/{capture_id:int}/view", capture_view),
        Route("/blob/{sha:str}", blob),
        Route("/runs", runs),
        Route("/runs.{fmt:str}", runs),
        Route("/health.{fmt:str}", health_data),
        Route("/search", search_page),
        Route("/search.{fmt:str}", search_page),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={BadRequest: _bad_request, 404: _not_found_handler},
        lifespan=_disposing(engine),
    )
    app.add_middleware(SecurityHeaders)
    return app


def _disposing(engine: Engine) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        _warm(engine)
        _settle()
        yield
        engine.dispose()

    return lifespan


def _warm(engine: Engine) -> None:
    """Start-up opens the pool's connection and reads what every board request reads first:
    the archive's fingerprint, and a row of each table the board's answers come from. The first
    request then does not pay for the connection, the dialect's first-connect queries and the
    database's first look at each table: 40-60 ms of every first view at 100,000 publishers on
    PostgreSQL (bench/web_bench.py). An archive that cannot be read now is said by the request
    that needs it, as it would be without this."""
    try:
        with Session(engine) as session:
            fingerprint(session)
            for column in (ReportYear.year, ReportCell.year, RunTally.portal):
                session.execute(select(column).limit(1)).all()
    except SQLAlchemyError as exc:
        _log.info("start-up could not read the archive yet: %s", str(exc).splitlines()[0])


def _settle() -> None:
    """Once the app is built: what start-up made (modules, compiled templates, the app) lives as
    long as the process, so it is collected now and then frozen out of the collector's view.
    Otherwise the first request that allocates much (a board at 100,000 publishers) pays for a
    full collection walking all of it, about a fifth of that request."""
    gc.collect()
    gc.freeze()


def _board_query(request: Request, config: WebConfig) -> BoardQuery:
    params = request.query_params
    portal = params.get("portal") or (config.portals[0] if config.portals else "")
    if portal not in config.portals:
        raise BadRequest(f"unknown portal {portal!r}; known: {', '.join(config.portals)}")
    last = _int(params.get("to"), config.as_of().year - 1, "to")
    first = _int(params.get("from"), last - 11, "from")
    if not 1990 <= first <= last <= 2100 or last - first > 40:
        raise BadRequest("years: from ≤ to, within 1990–2100, at most 40 years")
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    kind = params.get("kind") or None
    if kind is not None and kind not in ("department", "government", "township"):
        raise BadRequest(f"unknown kind {kind!r}")
    page = _int(params.get("page"), 1, "page")
    if (fmt := request.path_params.get("fmt")) and fmt not in ("json", "csv"):
        raise BadRequest(f"unknown format {fmt!r}: json or csv")
    return BoardQuery(portal, first, last, status, kind, max(page, 1))


def _int(text: str | None, default: int, name: str) -> int:
    if not text:
        return default
    if not re.fullmatch(r"\d{1,6}", text):
        raise BadRequest(f"{name} must be a number, not {text[:40]!r}")
    return int(text)


def _health(session: Session, config: WebConfig, portal: str | None) -> list[dict[str, Any]]:
    """`nianbao runs --health --format json`'s rows: each portal, then the scheduler."""
    now = datetime.now(UTC)
    portals = [portal] if portal else list(config.portals)
    found = [portal_health(session, p, config.health, now) for p in portals]
    found.append(scheduler_health(session, config.health, now))
    return [
        {
            **_pick(h, HEALTH_FIELDS[:1] + HEALTH_FIELDS[2:-1]),
            "healthy": h.healthy,
            "problems": "; ".join(f"{p.rule}: {p.detail}" for p in h.problems),
        }
        for h in found
    ]


def _pick(row: object, fields: tuple[str, ...]) -> dict[str, object]:
    return {f: getattr(row, f) for f in fields}


def _blob(store: BlobStore, sha: str | None) -> bytes | None:
    if sha is None or not SHA256.fullmatch(sha):
        return None
    try:
        return store.get(sha)
    except BlobMissing:
        return None


def _source_text(store: BlobStore, row: dict[str, Any]) -> tuple[str, int] | None:
    """The archived page's source, decoded, to be shown escaped (its first SOURCE_LIMIT
    characters, and its length); None for a file or no body."""
    if row.get("detected_type") not in (None, "html"):
        return None
    body = _blob(store, row.get("sha256"))
    if body is None:
        return None
    try:
        text = decode_html(body, row.get("encoding")).text
    except ParseError as exc:
        return f"(the bytes could not be decoded: {exc})", 0
    return text[:SOURCE_LIMIT], len(text)


def _bad_request(_request: Request, exc: Exception) -> Response:
    return render.page("error.html", 400, message=str(exc))


def _not_found(message: str) -> Response:
    return render.page("error.html", 404, message=message)


def _not_found_handler(_request: Request, _exc: Exception) -> Response:
    return _not_found("no such page")
