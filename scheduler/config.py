"""Typed view of the `[scheduler]` settings section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchedulerConfig:
    """When nightly crawls run: a cron expression in a timezone, spread by jitter."""

    nightly: str = "30 2 * * *"
    timezone: str = "Asia/Shanghai"
    jitter_seconds: int = 600
