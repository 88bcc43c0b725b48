"""What a test asks the database about itself, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import Engine, text


def trigger_names(engine: Engine) -> set[str]:
    """The names of the triggers the migrations made (not PostgreSQL's internal ones)."""
    if engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    with engine.connect() as conn:
        return set(conn.scalars(text(query)))
