"""What every `nianbao` subcommand shares: the lazy settings/archive context, options, output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import make_engine, session_scope, upgrade
from archive.registry import sync_publishers
from nianbao.errors import UsageError
from nianbao.output import FORMATS, render
from nianbao.settings import Settings, load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT_FIELDS = (
    "id",
    "portal",
    "publisher",
    "year",
    "title",
    "url",
    "index_no",
    "written_date",
    "published_at",
    "first_seen_at",
    "template",
    "versions",
    "captures",
    "copies",  # the other URLs of a report published more than once (archive.copies)
)
MISSING_FIELDS = ("portal", "publisher", "kind", "year", "deadline", "status", "evidence")
LATE_FIELDS = (
    "portal",
    "publisher",
    "kind",
    "year",
    "deadline",
    "published_at",
    "first_seen_at",
    "days_late",
    "url",
)
RUN_FIELDS = (
    "id",
    "kind",
    "portal",
    "started_at",
    "finished_at",
    "status",
    "pages",
    "new_reports",
    "errors",
)

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)


def year_type(text: str) -> int:
    """A report year such as 2019; anything else is a one-line usage error."""
    if not re.fullmatch(r"\d{4}", text.strip()) or not 1990 <= int(text) <= 2100:
        raise UsageError(f"malformed year {text!r}: expected four digits such as 2019")
    return int(text)


def date_type(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"malformed date {text!r}: expected YYYY-MM-DD") from None


def today() -> date:
    """Today where the deadlines are set: Asia/Shanghai."""
    return datetime.now(SHANGHAI).date()


class Context:
    """Lazily loaded settings and archive, shared by the subcommands of one invocation."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the migrated archive with the publisher registry in sync."""
        engine = make_engine(self.settings.archive.database_url)
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                sync_publishers(session, self.settings.publishers)
                yield session
        finally:
            engine.dispose()

    def store(self) -> BlobStore:
        return BlobStore(self.settings.archive.blob_dir)


pass_ctx = click.make_pass_decorator(Context)


def emit(
    rows: list[dict[str, Any]], fields: tuple[str, ...], fmt: str, title: str | None = None
) -> None:
    """Print rows in the chosen format."""
    click.echo(render(rows, fields, fmt, title))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
