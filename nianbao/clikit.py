"""What every `nianbao` subcommand shares: the lazy settings/archive context, options, output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import alembic_config, make_engine, session_scope, upgrade
from archive.registry import registry_in_sync, sync_publishers
from nianbao.errors import NianbaoError, UsageError
from nianbao.output import FORMATS, render
from nianbao.settings import Settings, load_settings

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
    "copies",  # the other URLs of a report published more than once (questions.copies)
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
        """A session on the migrated archive with the publisher registry in sync: for commands
        that write (crawl, reparse, schedule, demo, archive upgrade). Creates the archive."""
        engine = make_engine(self.settings.archive.database_url)
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                sync_publishers(session, self.settings.publishers)
                yield session
        finally:
            engine.dispose()

    @contextmanager
    def reading(self, registry: bool = True) -> Iterator[Session]:
        """A session on an existing archive at the code's migrations, for commands that only
        read: it creates, migrates and syncs nothing, so it reads while a crawl writes. With
        `registry`, for answers that depend on the publisher registry, a note on stderr when
        the archive's registry is not the settings' (a crawl or `archive upgrade` syncs it)."""
        url = self.settings.archive.database_url
        absent = missing_sqlite_file(url)
        if absent is not None:
            raise NianbaoError(
                f"no archive at {absent} (database_url); "
                "`nianbao crawl` or `nianbao archive upgrade` creates it"
            )
        engine = make_engine(url)
        try:
            with session_scope(engine) as session:
                check_migrations(session)
                if registry and not registry_in_sync(session, self.settings.publishers):
                    click.echo(STALE_REGISTRY, err=True)
                yield session
        finally:
            engine.dispose()

    def store(self) -> BlobStore:
        return BlobStore(self.settings.archive.blob_dir)


pass_ctx = click.make_pass_decorator(Context)
STALE_REGISTRY = (
    "nianbao: note: the archive's publisher registry differs from the settings' [[publishers]]; "
    "`nianbao archive upgrade` brings it in line"
)


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names when it does not exist (a read must not create it)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # make_engine names a malformed URL
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # a URI filename; sqlite opens it as its query says
    path = Path(database).expanduser()
    return None if path.is_file() else path


def check_migrations(session: Session) -> None:
    """A one-line error unless the archive is at the migrations this code was written for."""
    current = set(MigrationContext.configure(session.connection()).get_current_heads())
    scripts = ScriptDirectory.from_config(alembic_config())
    heads = set(scripts.get_heads())
    if current == heads:
        return
    if not current:
        raise NianbaoError(
            "the archive database has no nianbao tables; "
            "`nianbao crawl` or `nianbao archive upgrade` creates them"
        )
    known = {rev.revision for rev in scripts.walk_revisions()}
    if not current <= known:
        raise NianbaoError(
            f"the archive is at migration {', '.join(sorted(current))}, which this nianbao does "
            "not know: it was written by a newer version"
        )
    raise NianbaoError(
        f"the archive is at migration {', '.join(sorted(current))}, behind this nianbao's "
        f"{', '.join(sorted(heads))}: run `nianbao archive upgrade` (or a crawl) first"
    )


def emit(
    rows: list[dict[str, Any]], fields: tuple[str, ...], fmt: str, title: str | None = None
) -> None:
    """Print rows in the chosen format."""
    click.echo(render(rows, fields, fmt, title))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
