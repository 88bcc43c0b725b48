"""Alert state: each unhealthy condition (a subject and a rule) raises one alert, not one per run.

A condition is raised once, claimed for delivery once (compare-and-set, so two schedulers never
both send it), and cleared when it is gone, after which it may be raised again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.db import insert_if_absent, rowcount
from archive.models import AlertState
from ops.health import Problem


def raise_alert(session: Session, problem: Problem, now: datetime) -> bool:
    """Mark a condition active; True only when it was not active already (alert once)."""
    values = {
        "subject": problem.subject,
        "rule": problem.rule,
        "active": True,
        "detail": problem.detail,
        "raised_at": now,
    }
    if insert_if_absent(session, AlertState, values):
        return True
    reopened = (
        update(AlertState)
        .where(
            AlertState.subject == problem.subject,
            AlertState.rule == problem.rule,
            AlertState.active.is_(False),
        )
        .values(
            active=True, detail=problem.detail, raised_at=now, cleared_at=None, notified_at=None
        )
    )
    return rowcount(session, reopened) == 1


def clear_alerts(session: Session, subject: str, still: set[str], now: datetime) -> list[str]:
    """Conditions of `subject` no longer present are cleared; returns their rules."""
    active = session.scalars(
        select(AlertState).where(AlertState.subject == subject, AlertState.active.is_(True))
    ).all()
    cleared = [a for a in active if a.rule not in still]
    for alert in cleared:
        alert.active, alert.cleared_at = False, now
    session.flush()
    return [a.rule for a in cleared]


def claim_undelivered(session: Session, now: datetime) -> list[AlertState]:
    """Active alerts nobody has sent yet, claimed for sending by a compare-and-set."""
    waiting = session.scalars(
        select(AlertState).where(AlertState.active.is_(True), AlertState.notified_at.is_(None))
    ).all()
    claimed = []
    for alert in waiting:
        stmt = (
            update(AlertState)
            .where(
                AlertState.subject == alert.subject,
                AlertState.rule == alert.rule,
                AlertState.notified_at.is_(None),
            )
            .values(notified_at=now)
        )
        if rowcount(session, stmt):
            claimed.append(alert)
    return claimed


def unclaim(session: Session, subject: str, rule: str) -> None:
    """A delivery failed: leave the alert waiting, so the next evaluation sends it again."""
    rowcount(
        session,
        update(AlertState)
        .where(AlertState.subject == subject, AlertState.rule == rule)
        .values(notified_at=None),
    )
