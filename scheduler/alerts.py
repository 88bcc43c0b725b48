"""Health evaluation and alerts: each unhealthy condition of a portal is sent once, through apprise.

Targets are apprise URLs from `[alerts] targets` (`mailto://…`, `json://host:port/path` webhooks,
`tgram://…`, `slack://…`, …) plus `log://`, which writes the alert to the scheduler's log.
Delivery is claimed in the database before sending, so two schedulers never both send one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from archive.db import session_scope
from ops.alerts import claim_undelivered, clear_alerts, raise_alert, unclaim
from ops.health import SCHEDULER, Health, HealthRules, Problem, portal_health

if TYPE_CHECKING:
    import apprise

log = logging.getLogger("nianbao.alerts")


class AlertTargetError(ValueError):
    """An `[alerts] targets` URL apprise does not understand."""


@cache
def _apprise() -> Any:
    """apprise, with nianbao's `log://` target registered; imported only by those who alert."""
    import apprise
    from apprise.decorators import notify

    @notify(on="log", name="nianbao log")
    def _to_log(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
        log.warning("ALERT %s: %s", title, body)
        return True

    return apprise


class Notifier:
    """One apprise instance per target, so one target failing does not hide the others."""

    def __init__(self, targets: Iterable[str]) -> None:
        self._targets: list[tuple[str, apprise.Apprise]] = []
        lib = _apprise()
        self._failure = lib.NotifyType.FAILURE
        for url in targets:
            one = lib.Apprise()
            if not one.add(url):
                raise AlertTargetError(f"[alerts] targets: apprise does not understand {url!r}")
            self._targets.append((url.split("://", 1)[0], one))

    def send(self, title: str, body: str) -> bool:
        """Send to every target; True when at least one took it (the others are logged)."""
        sent = False
        for scheme, target in self._targets:
            ok = bool(target.notify(body=body, title=title, notify_type=self._failure))
            if not ok:
                log.error("alert %r could not be delivered to a %s:// target", title, scheme)
            sent = sent or ok
        return sent


def check_portals(
    engine: Engine, portals: Iterable[str], rules: HealthRules, notifier: Notifier
) -> list[Health]:
    """Evaluate the portals, raise new conditions, clear gone ones, and send what is unsent."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        healths = [portal_health(session, portal, rules, now) for portal in portals]
        for health in healths:
            for problem in health.problems:
                if raise_alert(session, problem, now):
                    log.warning(
                        "%s is unhealthy (%s): %s", problem.subject, problem.rule, problem.detail
                    )
            for rule in clear_alerts(
                session, health.subject, {p.rule for p in health.problems}, now
            ):
                log.info("%s recovered from %s", health.subject, rule)
    deliver(engine, notifier)
    return healths


def deliver(engine: Engine, notifier: Notifier) -> int:
    """Send every active alert nobody has sent; an alert whose sending failed waits for the next
    check. Returns how many were sent."""
    with session_scope(engine) as session:
        claimed = [
            (a.subject, a.rule, a.detail) for a in claim_undelivered(session, datetime.now(UTC))
        ]
    sent = 0
    for subject, rule, detail in claimed:
        if notifier.send(_title(Problem(subject, rule, detail)), detail):
            sent += 1
            continue
        with session_scope(engine) as session:
            unclaim(session, subject, rule)
    return sent


def _title(problem: Problem) -> str:
    what = {
        "stale": "no successful crawl lately",
        "failing": "crawls keep failing",
        "empty": "the last crawl archived nothing",
        "heartbeat": "the scheduler stopped",
    }.get(problem.rule, problem.rule)
    subject = "scheduler" if problem.subject == SCHEDULER else f"portal {problem.subject}"
    return f"nianbao: {subject}: {what}"
