"""Load `settings.toml` once and build the typed view each package reads.

Unknown keys are rejected by name: a typo such as `downlod_delay` would otherwise silently fall
back to a default, and for politeness settings that default matters.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cssselect import GenericTranslator, SelectorError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from archive.config import ArchiveConfig
from archive.deadlines import DeadlineRules
from archive.registry import PublisherSpec
from crawler.config import FAMILIES, AnnualReportModule, CrawlerConfig, PortalConfig
from crawler.hosts import BadHost, HostPolicy, internal_address, offsite_starts
from nianbao.errors import SettingsError
from scheduler.config import AlertsConfig, ScheduleError, SchedulerConfig, cron_trigger, zone

KINDS = ("department", "government", "township")
_YEARS = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})\s*$")

# Each section's allowed keys and their types; the single source of truth for validation.
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "archive": {"database_url": str, "blob_dir": str},
    "crawler": {
        "user_agent": str,
        "download_delay": (int, float),
        "obey_robots_txt": bool,
        "timeout_seconds": (int, float),
        "retries": int,
        "autothrottle": bool,
        "retry_backoff_seconds": (int, float),
        "max_file_mb": (int, float),
        "overlap": int,
        "portal_timeout_minutes": (int, float),
        "portals_per_process": int,
    },
    "scheduler": {
        "nightly": str,
        "timezone": str,
        "jitter_seconds": int,
        "misfire_grace_hours": (int, float),
        "timeout_hours": (int, float),
        "log_dir": str,
        "heartbeat_stale_minutes": (int, float),
        "batch_seconds": (int, float),
        "jobs": int,
        "overrides": dict,
    },
    "alerts": {"targets": list, "stale_days": (int, float), "failed_runs": int},
    "deadlines": {"before_2019": dict, "from_2019": dict},
    "portals": {
        "id": str,
        "name": str,
        "family": str,
        "base_url": str,
        "entry_points": list,
        "annual_report": dict,
        "download_delay": (int, float),
        # Crawler quirks per portal (crawler.config.PortalConfig).
        "overlap": int,
        "max_file_mb": (int, float),
        "record_selector": str,
        "article_pattern": str,
        "next_page_pattern": str,
        "allowed_hosts": list,
    },
    "publishers": {
        "portal": str,
        "name": str,
        "aliases": list,
        "kind": str,
        "unit_code": str,
        "years": str,
    },
    "annual_report": {"path": str, "areas": list, "years": str},
}
# Every number a setting may hold: (least, most, whether the least itself is allowed). NaN and
# infinities fail every range: `download_delay = inf` hung a crawl, `max_file_mb = inf` crashed
# the worker, `timeout_seconds = nan` was blamed on the portal (issue 12).
_HOUR, _DAY = 3600, 86_400
_CRAWL_RANGES: dict[str, tuple[float, float, bool]] = {
    "download_delay": (0, _HOUR, True),
    "timeout_seconds": (0, _HOUR, False),
    "retries": (0, 100, True),
    "retry_backoff_seconds": (0, _HOUR, True),
    "max_file_mb": (0, 4096, False),
    "overlap": (0, 1_000_000, True),
}
_RANGES: dict[str, dict[str, tuple[float, float, bool]]] = {
    "crawler": {
        **_CRAWL_RANGES,
        "portal_timeout_minutes": (0, 7 * 24 * 60, False),
        "portals_per_process": (1, 10_000, True),
    },
    "portals": _CRAWL_RANGES,
    "scheduler": {
        "jitter_seconds": (0, _DAY, True),
        "misfire_grace_hours": (0, 24 * 366, True),
        "timeout_hours": (0, 24 * 366, False),
        "heartbeat_stale_minutes": (0, 60 * 24 * 366, False),
        "batch_seconds": (0, _HOUR, True),
        "jobs": (0, 1024, True),
    },
    "alerts": {"stale_days": (0, 10_000, False), "failed_runs": (1, 10_000, True)},
}
# A portal id names files (`<id>.warc.gz`, the scheduler's `<id>-….log`) and URLs' keys: no
# separators, no dots, nothing a path could climb out of its directory with.
PORTAL_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
DATABASE_BACKENDS = ("sqlite", "postgresql")
# Directories a blob store or log directory must never be, nor be under: the store writes
# 256 folders into its root, and a mistyped "/" or "/etc" would be written into as is.
_SYSTEM_ROOTS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run",
                 "/sbin", "/sys", "/usr")  # fmt: skip
_SYSTEM_DIRS = ("/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp", "/var")
_REQUIRED = {
    "portals": ("id", "family", "base_url", "entry_points"),
    "publishers": ("portal", "name", "kind"),
    "annual_report": ("path", "areas", "years"),
}


@dataclass(frozen=True)
class Settings:
    """Every package's view of one settings file."""

    path: Path
    archive: ArchiveConfig
    crawler: CrawlerConfig
    scheduler: SchedulerConfig
    deadlines: DeadlineRules
    portals: tuple[PortalConfig, ...]
    publishers: tuple[PublisherSpec, ...]
    alerts: AlertsConfig = AlertsConfig()

    def portal(self, portal_id: str) -> PortalConfig:
        """The portal with this id, or a SettingsError that lists the known ones."""
        for portal in self.portals:
            if portal.id == portal_id:
                return portal
        known = ", ".join(p.id for p in self.portals) or "none"
        raise SettingsError(f"unknown portal {portal_id!r} (known: {known})")


def default_settings_path() -> Path:
    """`settings.toml` in the working directory, else the copy shipped with the package."""
    shipped = Path(str(resources.files("nianbao").joinpath("settings.toml")))
    # A wheel carries the file inside the package; a source checkout keeps it at the top.
    for candidate in (Path("settings.toml"), shipped, shipped.parent.parent / "settings.toml"):
        if candidate.is_file():
            return candidate
    return shipped


def load_settings(path: str | Path | None = None) -> Settings:
    """Read, validate and type one settings file; `NIANBAO_DATABASE_URL` overrides the database."""
    chosen = Path(path or os.environ.get("NIANBAO_CONFIG") or default_settings_path())
    try:
        # utf-8-sig: editors on Windows start a UTF-8 file with a BOM, which TOML allows.
        raw = tomllib.loads(chosen.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SettingsError(f"settings file not found: {chosen}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {chosen}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{chosen}: invalid TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables by recursion.
        raise SettingsError(f"{chosen}: invalid TOML: nested too deeply") from None
    return parse_settings(raw, chosen)


def parse_settings(raw: dict[str, Any], path: Path) -> Settings:
    """Build `Settings` from an already-parsed TOML document."""
    _check_keys(raw, set(_SCHEMA) - {"annual_report"}, str(path))
    archive = _archive(_section(raw, "archive"))
    portal_rows = _rows(raw, "portals")
    for i, row in enumerate(portal_rows):
        _portal_id(row["id"], i)
    portals = tuple(_portal(row, i) for i, row in enumerate(portal_rows))
    _unique([p.id for p in portals], "portals.id")
    portal_ids = {p.id for p in portals}
    publishers = tuple(
        _publisher(row, i, portal_ids) for i, row in enumerate(_rows(raw, "publishers"))
    )
    _unique([f"{p.portal}/{p.name}" for p in publishers], "publishers (portal, name)")
    return Settings(
        path=path,
        archive=archive,
        crawler=_crawler(_section(raw, "crawler")),
        scheduler=_scheduler(_section(raw, "scheduler"), portal_ids),
        deadlines=_deadlines(_section(raw, "deadlines")),
        portals=portals,
        publishers=publishers,
        alerts=_alerts(_section(raw, "alerts")),
    )


def parse_years(text: str, where: str = "years") -> tuple[int, int]:
    """`"2013-2017"` → (2013, 2017); a single year `"2017"` → (2017, 2017)."""
    text = text.strip()
    match = _YEARS.match(text) or re.match(r"^(\d{4})$", text)
    if not match:
        raise SettingsError(f"{where}: expected a year range like 2013-2017, got {text!r}")
    first, last = int(match.group(1)), int(match.groups()[-1])
    if not 1990 <= first <= last <= 2100:
        raise SettingsError(f"{where}: year range {text!r} is out of order or out of bounds")
    return first, last


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise SettingsError(
                f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
            )


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise SettingsError(f"[{name}] must be a table")
    _validate(table, name, f"[{name}]")
    return table


def _rows(raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
    rows = raw.get(name, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SettingsError(f"[[{name}]] must be an array of tables")
    for i, row in enumerate(rows):
        where = f"[[{name}]] #{i + 1}"
        _validate(row, name, where)
        missing = [k for k in _REQUIRED.get(name, ()) if k not in row]
        if missing:
            raise SettingsError(f"{where}: missing key {missing[0]!r}")
    return rows


def _validate(table: dict[str, Any], schema: str, where: str) -> None:
    types = _SCHEMA[schema]
    _check_keys(table, set(types), where)
    for key, value in table.items():
        expected = types[key]
        # bool is an int subclass: `retries = true` must not pass as a number.
        if isinstance(value, bool) and expected is not bool:
            raise SettingsError(f"{where}: {key} must be {_type_name(expected)}, got a boolean")
        if not isinstance(value, expected):
            raise SettingsError(f"{where}: {key} must be {_type_name(expected)}, got {value!r}")
        if key in _RANGES.get(schema, {}):
            _in_range(value, _RANGES[schema][key], f"{where}: {key}")


def _in_range(value: Any, bounds: tuple[float, float, bool], what: str) -> None:
    least, most, least_allowed = bounds
    above = value >= least if least_allowed else value > least
    if not (math.isfinite(value) and above and value <= most):
        floor = f"{least} or more" if least_allowed else f"more than {least}"
        raise SettingsError(f"{what} must be {floor}, up to {most}, got {value!r}")


def _portal_id(value: str, index: int) -> None:
    if not PORTAL_ID.fullmatch(value):
        raise SettingsError(
            f"[[portals]] #{index + 1}: id {value!r} must be 1 to 63 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit (it names files and directories)"
        )


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        bool: "true or false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    first = expected[0] if isinstance(expected, tuple) else expected
    return names.get(first, first.__name__)


def _archive(table: dict[str, Any]) -> ArchiveConfig:
    env = os.environ.get("NIANBAO_DATABASE_URL")
    url = env or table.get("database_url", "sqlite:///data/nianbao.db")
    _database_url(url, "NIANBAO_DATABASE_URL" if env else "[archive] database_url")
    blob_dir = Path(table.get("blob_dir", "data/blobs"))
    _not_a_system_dir(blob_dir, "[archive] blob_dir")
    # A non-empty blob_dir that is not a store is accepted: the store only adds `ab/cd/<sha256>`
    # files under it and never deletes, renames over or reads anything else, so what was there
    # is not harmed; telling a store from "not a store" would mean listing the directory on
    # every command. The roots and system directories, where a slip does harm, are refused.
    return ArchiveConfig(database_url=url, blob_dir=blob_dir)


def _database_url(url: str, where: str) -> None:
    """SQLite or PostgreSQL; another backend (`mysql://`) would fail later with a traceback."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        return  # not a URL at all: archive.db.make_engine names it when the archive is opened
    if backend not in DATABASE_BACKENDS:
        raise SettingsError(
            f"{where}: {backend!r} databases are not supported "
            f"(use sqlite:///path/to/nianbao.db or postgresql://…)"
        )


def _not_a_system_dir(path: Path, where: str) -> None:
    """Refuse the file system root and system directories (or folders under those)."""
    absolute = Path(os.path.abspath(path.expanduser()))
    resolved = absolute.resolve()
    for candidate in {absolute, resolved}:
        if (
            str(candidate) in _SYSTEM_DIRS
            or candidate == Path.home()
            or any(candidate.is_relative_to(root) for root in _SYSTEM_ROOTS)
        ):
            raise SettingsError(
                f"{where}: {str(path)!r} is the root, a home or a system directory; "
                "choose a directory of its own such as data/blobs"
            )


def _scheduler(table: dict[str, Any], portal_ids: set[str]) -> SchedulerConfig:
    where = "[scheduler]"
    if "log_dir" in table:
        _not_a_system_dir(Path(table["log_dir"]), f"{where} log_dir")
    overrides = dict(table.get("overrides", {}))
    for portal, expr in overrides.items():
        if portal not in portal_ids:
            raise SettingsError(f"{where} overrides: unknown portal {portal!r}")
        if not isinstance(expr, str):
            raise SettingsError(f'{where} overrides.{portal} must be a cron string or "off"')
    config = SchedulerConfig(
        **{k: v for k, v in table.items() if k not in ("log_dir", "overrides")},
        log_dir=Path(table.get("log_dir", "data/logs")),
        overrides=MappingProxyType(overrides),
    )
    try:
        zone(config.timezone)
        for portal in ("", *overrides):
            expr = config.cron_for(portal) if portal else config.nightly
            if expr is not None:
                cron_trigger(expr, config.timezone)
    except ScheduleError as exc:
        raise SettingsError(f"{where} {exc}") from None
    return config


def _alerts(table: dict[str, Any]) -> AlertsConfig:
    where = "[alerts]"
    targets = _strings(table.get("targets", ["log://"]), f"{where} targets")
    bad = [t for t in targets if "://" not in t]
    if bad:
        raise SettingsError(f"{where} targets: {bad[0]!r} is not a notification URL (scheme://…)")
    return AlertsConfig(targets=targets, **{k: v for k, v in table.items() if k != "targets"})


def _deadlines(table: dict[str, Any]) -> DeadlineRules:
    before = table.get("before_2019", {"all": "03-31"})
    after = table.get(
        "from_2019", {"department": "01-31", "township": "01-31", "government": "03-31"}
    )
    for era, rules in (("before_2019", before), ("from_2019", after)):
        for kind, month_day in rules.items():
            if kind not in (*KINDS, "all"):
                raise SettingsError(f"[deadlines] {era}: unknown publisher kind {kind!r}")
            if not isinstance(month_day, str) or not re.fullmatch(
                r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", month_day
            ):
                raise SettingsError(f"[deadlines] {era}.{kind}: expected MM-DD, got {month_day!r}")
    try:
        # DeadlineRules checks each month-day is a real day of every year: "02-30" is refused,
        # and so is "02-29", which most years lack (the rule would have no deadline then).
        return DeadlineRules(before_2019=dict(before), from_2019=dict(after))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _portal(row: dict[str, Any], index: int) -> PortalConfig:
    where = f"[[portals]] {row['id']!r}"
    if row["family"] not in FAMILIES:
        raise SettingsError(
            f"{where}: unknown family {row['family']!r} (known: {', '.join(FAMILIES)})"
        )
    if not re.match(r"^https?://[^/\s]+", row["base_url"]):
        raise SettingsError(f"{where}: base_url must be an http(s) URL, got {row['base_url']!r}")
    entry_points = _strings(row["entry_points"], f"{where} entry_points")
    module = _annual_report(row["annual_report"], where) if "annual_report" in row else None
    if not entry_points and module is None:
        raise SettingsError(f"{where}: needs entry_points or an annual_report module")
    _crawl_quirks(row, where)
    portal = PortalConfig(
        id=row["id"],
        name=row.get("name", row["id"]),
        family=row["family"],
        base_url=row["base_url"].rstrip("/"),
        entry_points=entry_points,
        annual_report=module,
        download_delay=row.get("download_delay"),
        overlap=row.get("overlap"),
        max_file_mb=row.get("max_file_mb"),
        record_selector=row.get("record_selector"),
        article_pattern=row.get("article_pattern"),
        next_page_pattern=row.get("next_page_pattern"),
        allowed_hosts=_strings(row.get("allowed_hosts", []), f"{where} allowed_hosts"),
    )
    _check_hosts(portal, where)
    return portal


def _check_hosts(portal: PortalConfig, where: str) -> None:
    """allowed_hosts readable, every start on the portal's hosts (crawler.hosts); a warning on
    stderr for a base_url on a private or link-local address (loopback is the replicas')."""
    try:
        HostPolicy.for_portal(portal)
    except BadHost as exc:
        raise SettingsError(f"{where}: base_url or allowed_hosts: {exc}") from None
    if offsite := offsite_starts(portal):
        raise SettingsError(
            f"{where}: entry point {offsite[0]!r} is not on the portal's hosts "
            "(base_url's, or one listed in allowed_hosts)"
        )
    if (address := internal_address(portal.base_url)) is not None:
        print(
            f"warning: {where}: base_url is on the private or link-local address {address}",
            file=sys.stderr,
        )


def _crawler(table: dict[str, Any]) -> CrawlerConfig:
    _crawl_quirks(table, "[crawler]")
    return CrawlerConfig(**table)


def _crawl_quirks(table: dict[str, Any], where: str) -> None:
    """Patterns that compile, and what the generic family cannot do without (limits: _RANGES)."""
    if table.get("family") == "generic" and "article_pattern" not in table:
        raise SettingsError(f"{where}: the generic family needs article_pattern")
    for key in ("article_pattern", "next_page_pattern"):
        if key in table:
            try:
                re.compile(table[key])
            except re.error as exc:
                raise SettingsError(f"{where}: {key} is not a valid regex: {exc}") from None
    if "record_selector" in table:
        try:
            GenericTranslator().css_to_xpath(table["record_selector"])
        except SelectorError as exc:
            raise SettingsError(
                f"{where}: record_selector is not a valid CSS selector: {exc}"
            ) from None


def _annual_report(table: dict[str, Any], where: str) -> AnnualReportModule:
    _validate(table, "annual_report", f"{where} annual_report")
    missing = [k for k in _REQUIRED["annual_report"] if k not in table]
    if missing:
        raise SettingsError(f"{where} annual_report: missing key {missing[0]!r}")
    first, last = parse_years(table["years"], f"{where} annual_report.years")
    areas = _strings(table["areas"], f"{where} annual_report.areas")
    return AnnualReportModule(path=table["path"], areas=areas, first_year=first, last_year=last)


def _publisher(row: dict[str, Any], index: int, portal_ids: set[str]) -> PublisherSpec:
    where = f"[[publishers]] {row['name']!r}"
    if row["portal"] not in portal_ids:
        raise SettingsError(f"{where}: unknown portal {row['portal']!r}")
    if row["kind"] not in KINDS:
        raise SettingsError(f"{where}: kind must be one of {', '.join(KINDS)}, got {row['kind']!r}")
    first, last = parse_years(row["years"], f"{where} years") if "years" in row else (None, None)
    return PublisherSpec(
        portal=row["portal"],
        name=row["name"],
        aliases=_strings(row.get("aliases", []), f"{where} aliases"),
        kind=row["kind"],
        unit_code=row.get("unit_code"),
        first_year=first,
        last_year=last,
    )


def _strings(values: list[Any], where: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise SettingsError(f"{where}: expected a list of non-empty strings")
    return tuple(values)


def _unique(values: list[str], where: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise SettingsError(f"{where}: duplicate {value!r}")
        seen.add(value)
