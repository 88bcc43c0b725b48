"""Typed views of the `[scheduler]` and `[alerts]` settings sections, and their triggers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from ops.health import HealthRules

OFF = "off"
# crontab numbers days of the week from Sunday (0 or 7); APScheduler 3 from Monday (0).
_DOW = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat", 7: "sun"}


class ScheduleError(ValueError):
    """A cron expression or time zone that cannot be scheduled; the message is one line."""


@dataclass(frozen=True)
class SchedulerConfig:
    """When nightly crawls run: a cron expression in a timezone, spread by jitter.

    `nightly` is a 5-field crontab (minute hour day month weekday) or, for tests and unusual
    setups, 6 fields with seconds first. `overrides` maps a portal id to its own expression or
    "off". A run late by up to `misfire_grace_hours` (the scheduler was down) still runs, once.
    """

    nightly: str = "30 2 * * *"
    timezone: str = "Asia/Shanghai"
    jitter_seconds: int = 600
    misfire_grace_hours: float = 6.0
    timeout_hours: float = 6.0
    # Jobs fired within this many seconds of the first are crawled as one batch (one
    # `nianbao crawl --jobs N` for all of them); `jobs` is that N, 0 for the number of cores.
    batch_seconds: float = 10.0
    jobs: int = 0
    log_dir: Path = Path("data/logs")
    heartbeat_stale_minutes: float = 5.0
    overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    enqueue: bool = False  # put each due portal on the [queue] for the workers, not crawl it here

    def cron_for(self, portal: str) -> str | None:
        """The expression that schedules `portal`, or None when it is switched off."""
        expr = self.overrides.get(portal, self.nightly)
        return None if expr.strip().lower() == OFF else expr

    def trigger_for(self, portal: str) -> CronTrigger | None:
        expr = self.cron_for(portal)
        return None if expr is None else cron_trigger(expr, self.timezone, self.jitter_seconds)

    @property
    def misfire_grace_seconds(self) -> int:
        """APScheduler's `misfire_grace_time`: whole seconds, at least one."""
        return max(1, round(self.misfire_grace_hours * 3600))


@dataclass(frozen=True)
class AlertsConfig:
    """Where alerts go (apprise URLs, plus `log://` and `log:///path/file.log`) and when."""

    targets: tuple[str, ...] = ("log://",)
    stale_days: float = 3.0
    failed_runs: int = 3


def health_rules(scheduler: SchedulerConfig, alerts: AlertsConfig) -> HealthRules:
    """The thresholds `runs --health` and the scheduler's alerts share."""
    return HealthRules(
        stale_days=alerts.stale_days,
        failed_runs=alerts.failed_runs,
        heartbeat_stale=timedelta(minutes=scheduler.heartbeat_stale_minutes),
    )


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {name!r}") from None


def cron_trigger(expr: str, timezone: str, jitter_seconds: int = 0) -> CronTrigger:
    """A trigger for a 5-field crontab, or 6 fields with seconds first (`*/10 * * * * *`)."""
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ScheduleError(f"cron expression {expr!r} must have 5 fields (or 6 with seconds)")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekday(weekday),
            timezone=zone(timezone),
            jitter=jitter_seconds or None,
        )
    except ValueError as exc:
        raise ScheduleError(f"cron expression {expr!r}: {exc}") from None


def _weekday(text: str) -> str:
    """crontab day numbers and ranges as names ("1-5" → mon..fri); other forms pass through."""
    items: list[str] = []
    for item in text.split(","):
        match = re.fullmatch(r"(\d)(?:-(\d))?", item.strip())
        if match is None:
            items.append(item)
            continue
        first, last = int(match[1]), int(match[2] or match[1])
        if last > 7 or first > last:
            raise ScheduleError(f"day of week {item!r} is not a crontab day or range (0-7)")
        items += [_DOW[day] for day in range(first, last + 1)]
    return ",".join(dict.fromkeys(items))
