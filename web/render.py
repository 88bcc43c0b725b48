"""HTML through Jinja2 (autoescaped), CSV (formulas neutralised) and JSON responses."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from archive.files import csv_cell, json_text, plain

HERE = Path(__file__).resolve().parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
STYLE = (HERE / "static" / "style.css").read_bytes()


def preload() -> None:
    """Compiles every template, at the app's start rather than in its first requests."""
    for name in ENV.list_templates():
        ENV.get_template(name)


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)


def json_response(data: Any, name: str) -> Response:
    body = json_text(data)
    return Response(body, media_type="application/json", headers=_inline(f"{name}.json"))


def csv_response(rows: Sequence[dict[str, Any]], fields: Sequence[str], name: str) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows({f: csv_cell(plain(row.get(f))) for f in fields} for row in rows)
    return Response(buffer.getvalue(), media_type="text/csv", headers=_inline(f"{name}.csv"))


def query_string(params: dict[str, Any]) -> str:
    """A query string of the parameters that are set."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _inline(filename: str) -> dict[str, str]:
    # The names are built from our own words and ids, never from archived text.
    return {"Content-Disposition": f'inline; filename="{filename}"'}


def web_link(url: str | None) -> bool:
    """Whether an archived URL may be a link: http(s) only (never javascript: or data:)."""
    return bool(url) and str(url).lower().startswith(("http://", "https://"))


ENV.globals["query_string"] = query_string
ENV.tests["web_link"] = web_link
