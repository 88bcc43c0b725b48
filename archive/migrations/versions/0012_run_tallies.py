"""run_tallies: the crawl runs of each portal counted as they are written (issue 16 item 5).

One row per (portal, status, blocked): how many runs, the first and last to finish, the newest
id (archive.models.RunTally). The evidence of a search (questions.evidence.searches) read every
run a portal ever had at each question: at a run a night, a national archive gains a million
runs a year, and `missing` would slow with every night. Triggers on `crawl_runs` keep the
tallies in the transaction that writes a run, whoever writes it (start, finish, a half-run closed
as failed, a test): the tallies of the run's old and new (portal, status, blocked) are counted
again from their runs, a range of ix_crawl_runs_portal_status_blocked_finished_at. On PostgreSQL
a transaction-scoped advisory lock per portal comes first, so two transactions writing runs of
one portal count one after the other, each seeing the other's run.
The tallies are filled here from the runs already recorded.

A SQLite batch migration that rebuilds `crawl_runs` drops these triggers: it must create them
again (`_sqlite_triggers` below; tests/test_run_tallies.py checks they exist at head).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "portal, status, blocked, runs, first_finished, last_finished, last_id"
COUNTED = "portal, status, blocked, count(*), min(finished_at), max(finished_at), max(id)"
GROUP = "portal, status, blocked"


def _count(portal: str, status: str, blocked: str) -> str:
    """The tally of one group inserted from its runs (after it was deleted); none when empty."""
    return (
        f"INSERT INTO run_tallies ({COLUMNS}) SELECT {COUNTED} FROM crawl_runs "
        f"WHERE portal = {portal} AND status = {status} AND blocked = {blocked} GROUP BY {GROUP};"
    )


def _delete(portal: str, status: str, blocked: str) -> str:
    return (
        "DELETE FROM run_tallies "
        f"WHERE portal = {portal} AND status = {status} AND blocked = {blocked};"
    )


def _sqlite_refresh(row: str) -> str:
    group = (f"{row}.portal", f"{row}.status", f"{row}.blocked")
    return f"{_delete(*group)} {_count(*group)}"


def _sqlite_triggers() -> list[str]:
    return [
        "CREATE TRIGGER run_tallies_insert AFTER INSERT ON crawl_runs "
        f"BEGIN {_sqlite_refresh('NEW')} END",
        "CREATE TRIGGER run_tallies_update AFTER UPDATE OF portal, status, blocked, finished_at "
        f"ON crawl_runs BEGIN {_sqlite_refresh('OLD')} {_sqlite_refresh('NEW')} END",
        "CREATE TRIGGER run_tallies_delete AFTER DELETE ON crawl_runs "
        f"BEGIN {_sqlite_refresh('OLD')} END",
    ]


_PG_FUNCTIONS = f"""
CREATE FUNCTION run_tally_refresh(p text, s text, b integer) RETURNS void AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('run_tallies ' || p));
  {_delete("p", "s", "b")}
  {_count("p", "s", "b")}
END $$ LANGUAGE plpgsql;

CREATE FUNCTION run_tallies_run() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM run_tally_refresh(OLD.portal, OLD.status, OLD.blocked);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM run_tally_refresh(NEW.portal, NEW.status, NEW.blocked);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER run_tallies_insert AFTER INSERT OR DELETE ON crawl_runs
  FOR EACH ROW EXECUTE FUNCTION run_tallies_run();
CREATE TRIGGER run_tallies_update AFTER UPDATE OF portal, status, blocked, finished_at
  ON crawl_runs FOR EACH ROW EXECUTE FUNCTION run_tallies_run();
"""

_FILL = f"INSERT INTO run_tallies ({COLUMNS}) SELECT {COUNTED} FROM crawl_runs GROUP BY {GROUP}"
_PG_DROP = [
    "DROP TRIGGER IF EXISTS run_tallies_update ON crawl_runs",
    "DROP TRIGGER IF EXISTS run_tallies_insert ON crawl_runs",
    "DROP FUNCTION IF EXISTS run_tallies_run()",
    "DROP FUNCTION IF EXISTS run_tally_refresh(text, text, integer)",
]
_SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS run_tallies_insert",
    "DROP TRIGGER IF EXISTS run_tallies_update",
    "DROP TRIGGER IF EXISTS run_tallies_delete",
)


def upgrade() -> None:
    op.create_table(
        "run_tallies",
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("blocked", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("first_finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("portal", "status", "blocked", name=op.f("pk_run_tallies")),
    )
    op.execute(_FILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTIONS)
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_DROP:
            op.execute(statement)
    else:
        for statement in _SQLITE_DROPS:
            op.execute(statement)
    op.drop_table("run_tallies")
