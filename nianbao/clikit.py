"""What every `nianbao` subcommand shares: the lazy settings/archive context, options, output."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.db import alembic_config, make_engine, reading_engine, session_scope, upgrade
from archive.registry import registry_in_sync, sync_publishers
from nianbao.errors import NianbaoError, SettingsError, UsageError
from nianbao.output import FORMATS, render, to_json
from nianbao.settings import Settings, load_settings, parse_years

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
BOM_KEY = "nianbao.bom"
F = TypeVar("F", bound=Callable[..., Any])


def _keep_bom(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[BOM_KEY] = value
    return value


def format_option(command: F) -> F:
    """`--format table|csv|json` (passed as `fmt`) and `--bom` (kept for `emit`)."""
    command = click.option(
        "--bom",
        is_flag=True,
        expose_value=False,
        callback=_keep_bom,
        help="With --format csv: start with a UTF-8 byte order mark, so Excel reads the "
        "Chinese text right.",
    )(command)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table: as wide as the terminal, long cells cut with …; csv and json: every value "
        "whole.",
    )(command)


def parse_year_range(text: str) -> tuple[int, int]:
    """`--years 2013-2017` (or one year); anything else is a one-line usage error."""
    try:
        return parse_years(text, "--years")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def year_option(command: F) -> F:
    return click.option(
        "--year",
        metavar="YEAR",
        callback=lambda _c, _p, v: None if v is None else year_type(v),
        help="Report year, e.g. 2019.",
    )(command)


def years_option(help_text: str = "A year range such as 2013-2017.") -> Callable[[F], F]:
    return click.option(
        "--years",
        metavar="A-B",
        callback=lambda _c, _p, v: None if v is None else parse_year_range(v),
        help=help_text,
    )


def year_options(required: bool) -> Callable[[F], F]:
    """`--year Y` or `--years A-B` (one of them when `required`); see `years_of`."""
    where = "one of them is needed" if required else "optional"

    def decorate(command: F) -> F:
        return year_option(years_option(f"A year range such as 2019-2023 ({where}).")(command))

    return decorate


def years_of(
    year: int | None, years: tuple[int, int] | None, command: str, required: bool = True
) -> list[int]:
    """The years asked for by `--year` or `--years`, oldest first."""
    if year is not None and years is not None:
        raise UsageError(f"{command} takes --year or --years, not both")
    if year is not None:
        return [year]
    if years is not None:
        return list(range(years[0], years[1] + 1))
    if required:
        raise UsageError(f"{command} needs --year or --years, e.g. --year 2019")
    return []


def _check_portal(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.find_object(Context).settings.portal(value)  # type: ignore[union-attr]
    return value


portal_option = click.option(
    "--portal",
    metavar="PORTAL",
    callback=_check_portal,
    help="Only this portal (its id in settings.toml).",
)


def date_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        name,
        name.lstrip("-").replace("-", "_"),
        metavar="DATE",
        callback=lambda _c, _p, v: None if v is None else date_type(v),
        help=help_text,
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
        engine = reading_engine(url)
        try:
            with session_scope(engine) as session:
                check_migrations(session)
                if registry and not registry_in_sync(session, self.settings.publishers):
                    click.echo(STALE_REGISTRY, err=True)
                yield session
        finally:
            engine.dispose()

    def warn_unregistered(self, portal: str | None) -> bool:
        """True, with a warning on stderr, when `portal` has no registered publishers: then
        nobody can be missing or late there, and an empty answer would mislead."""
        if portal is None or any(p.portal == portal for p in self.settings.publishers):
            return False
        click.echo(
            f"nianbao: warning: portal {portal!r} has no registered publishers "
            "([[publishers]] in the settings): nobody can be missing or late there",
            err=True,
        )
        return True

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
    """Print rows in the chosen format (with a BOM when the command was given --bom)."""
    context = click.get_current_context(silent=True)
    bom = bool(context and context.meta.get(BOM_KEY))
    click.echo(render(rows, fields, fmt, title, bom=bom))


def emit_json(data: Any) -> None:
    """Print one JSON document: moments in +08:00, numbers (exact decimals too) as numbers."""
    click.echo(to_json(data))
