"""report_years and report_cells: the statuses kept as the archive changes (issue 16 item 5).

One cell per publisher x covered year (a year some document was archived for): the number of
report copies (documents not judged no report), the earliest date they claim with that copy,
the first seen copy that claims none, and the publisher's fields (archive.models.ReportCell). Triggers on `documents` and `publishers` keep them in
the transaction that writes, whoever writes (indexing, reparse, the registry's sync, a test):
- a document written: its year becomes covered (every publisher gets a cell of it), and the
  cells of its old and new (publisher, year) are recomputed from their documents;
- a publisher added: a cell for every covered year; removed: its cells go.
- a publisher changed: its fields in its cells.
A cell is recomputed by deleting it and inserting it again from its documents (its key holds
the claimed date). On PostgreSQL the publisher's row is locked first (FOR NO KEY UPDATE: no
lock-table slot, and documents' foreign-key checks still pass), then the documents are read in
statements of their own: two transactions writing copies of one report cannot count without
each other.
The cells are filled here from the documents already archived.

A SQLite batch migration that rebuilds `documents` or `publishers` drops these triggers: it must
create them again (`_sqlite_triggers` below; tests/test_status_cells.py checks they exist).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CLAIMED = "coalesce(substr(d.published_at, 1, 10), d.written_date)"
PUB = "portal, name, kind, first_year, last_year"
COLUMNS = (
    "year, claimed, publisher_id, reports, claimed_doc, published_at, seen, url, "
    f"undated_doc, undated_seen, undated_url, {PUB}"
)
_WATCHED = "publisher_id, report_year, not_report, published_at, written_date, first_seen_at"


def _refresh(pub: str, yr: str) -> str:
    """Cell (pub, yr) inserted from its documents (after it was deleted)."""
    same = f"d.publisher_id = {pub} AND d.report_year = {yr} AND d.not_report IS NULL"
    return (
        f"INSERT INTO report_cells ({COLUMNS}) SELECT {yr}, coalesce(cd.claimed, ''), pb.id, "
        f"(SELECT count(*) FROM documents d WHERE {same}), cd.id, cd.published_at, "
        "cd.first_seen_at, cd.url, ud.id, ud.first_seen_at, ud.url, "
        "pb.portal, pb.name, pb.kind, pb.first_year, pb.last_year FROM publishers pb "
        f"LEFT JOIN (SELECT d.id, {CLAIMED} AS claimed, d.published_at, d.first_seen_at, d.url "
        f"FROM documents d WHERE {same} AND {CLAIMED} IS NOT NULL "
        f"ORDER BY {CLAIMED}, d.id LIMIT 1) cd ON 1 = 1 "
        "LEFT JOIN (SELECT d.id, d.first_seen_at, d.url "
        f"FROM documents d WHERE {same} AND {CLAIMED} IS NULL "
        "ORDER BY d.first_seen_at, d.id LIMIT 1) ud ON 1 = 1 "
        f"WHERE pb.id = {pub} AND {yr} IS NOT NULL;"
    )


def _delete(pub: str, yr: str) -> str:
    return f"DELETE FROM report_cells WHERE publisher_id = {pub} AND year = {yr};"


def _grid(year: str, publishers: str, ignore: str) -> str:
    """Empty cells (no copy) of `publishers` for `year`."""
    return (
        f"INSERT {ignore} INTO report_cells (year, claimed, publisher_id, reports, {PUB}) "
        f"SELECT {year}, '', id, 0, {PUB} FROM publishers WHERE {publishers}"
    )


def _sqlite_cover(row: str) -> str:
    year = f"{row}.report_year"
    fresh = f"{year} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM report_years WHERE year = {year})"
    return (
        f"{_grid(year, fresh, 'OR IGNORE')}; INSERT OR IGNORE INTO report_years (year) "
        f"SELECT {year} WHERE {year} IS NOT NULL;"
    )


def _sqlite_cell(row: str) -> str:
    pub, yr = f"{row}.publisher_id", f"{row}.report_year"
    return f"{_delete(pub, yr)} {_refresh(pub, yr)}"


def _sqlite_triggers() -> list[str]:
    fields = ", ".join(f"{c} = NEW.{c}" for c in PUB.split(", "))
    return [
        "CREATE TRIGGER report_cells_doc_insert AFTER INSERT ON documents BEGIN "
        f"{_sqlite_cover('NEW')} {_sqlite_cell('NEW')} END",
        f"CREATE TRIGGER report_cells_doc_update AFTER UPDATE OF {_WATCHED} ON documents "
        f"BEGIN {_sqlite_cover('NEW')} {_sqlite_cell('OLD')} {_sqlite_cell('NEW')} END",
        "CREATE TRIGGER report_cells_doc_delete AFTER DELETE ON documents "
        f"BEGIN {_sqlite_cell('OLD')} END",
        "CREATE TRIGGER report_cells_pub_insert AFTER INSERT ON publishers BEGIN "
        f"INSERT OR IGNORE INTO report_cells (year, claimed, publisher_id, reports, {PUB}) "
        f"SELECT year, '', NEW.id, 0, NEW.portal, NEW.name, NEW.kind, NEW.first_year, "
        "NEW.last_year FROM report_years; END",
        f"CREATE TRIGGER report_cells_pub_update AFTER UPDATE OF {PUB} ON publishers BEGIN "
        f"UPDATE report_cells SET {fields} WHERE publisher_id = NEW.id; END",
        "CREATE TRIGGER report_cells_pub_delete AFTER DELETE ON publishers BEGIN "
        "DELETE FROM report_cells WHERE publisher_id = OLD.id; END",
    ]


_PG_FUNCTIONS = f"""
CREATE FUNCTION report_cell_refresh(pub integer, yr integer) RETURNS void AS $$
BEGIN
  IF pub IS NULL OR yr IS NULL THEN RETURN; END IF;
  PERFORM 1 FROM publishers WHERE id = pub FOR NO KEY UPDATE;
  {_delete("pub", "yr")}
  {_refresh("pub", "yr")}
END $$ LANGUAGE plpgsql;

CREATE FUNCTION report_year_cover(yr integer) RETURNS void AS $$
BEGIN
  IF yr IS NULL THEN RETURN; END IF;
  INSERT INTO report_years (year) VALUES (yr) ON CONFLICT DO NOTHING;
  IF FOUND THEN
    {_grid("yr", "true", "")} ON CONFLICT DO NOTHING;
  END IF;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION report_cells_doc() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM report_cell_refresh(OLD.publisher_id, OLD.report_year);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM report_year_cover(NEW.report_year);
    PERFORM report_cell_refresh(NEW.publisher_id, NEW.report_year);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION report_cells_pub() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_cells (year, claimed, publisher_id, reports, {PUB})
    SELECT year, '', NEW.id, 0, NEW.portal, NEW.name, NEW.kind, NEW.first_year, NEW.last_year
    FROM report_years ON CONFLICT DO NOTHING;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE report_cells SET ({PUB}) =
      (NEW.portal, NEW.name, NEW.kind, NEW.first_year, NEW.last_year)
    WHERE publisher_id = NEW.id;
  ELSE
    DELETE FROM report_cells WHERE publisher_id = OLD.id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER report_cells_doc_insert AFTER INSERT OR DELETE ON documents
  FOR EACH ROW EXECUTE FUNCTION report_cells_doc();
CREATE TRIGGER report_cells_doc_update AFTER UPDATE OF {_WATCHED} ON documents
  FOR EACH ROW EXECUTE FUNCTION report_cells_doc();
CREATE TRIGGER report_cells_pub AFTER INSERT OR DELETE OR UPDATE OF {PUB} ON publishers
  FOR EACH ROW EXECUTE FUNCTION report_cells_pub();
"""

_PG_DROP = [
    "DROP TRIGGER IF EXISTS report_cells_pub ON publishers",
    "DROP TRIGGER IF EXISTS report_cells_doc_update ON documents",
    "DROP TRIGGER IF EXISTS report_cells_doc_insert ON documents",
    "DROP FUNCTION IF EXISTS report_cells_pub()",
    "DROP FUNCTION IF EXISTS report_cells_doc()",
    "DROP FUNCTION IF EXISTS report_year_cover(integer)",
    "DROP FUNCTION IF EXISTS report_cell_refresh(integer, integer)",
]
_SQLITE_TRIGGERS = (
    "doc_insert",
    "doc_update",
    "doc_delete",
    "pub_insert",
    "pub_update",
    "pub_delete",
)
_SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS report_cells_doc_insert",
    "DROP TRIGGER IF EXISTS report_cells_doc_update",
    "DROP TRIGGER IF EXISTS report_cells_doc_delete",
    "DROP TRIGGER IF EXISTS report_cells_pub_insert",
    "DROP TRIGGER IF EXISTS report_cells_pub_update",
    "DROP TRIGGER IF EXISTS report_cells_pub_delete",
)

# The cells of the documents already archived: each (publisher, year)'s copies ranked, dated
# ones by (claimed, id), undated ones by (first seen, id); the first of each joined to the grid.
_FILL = f"""
WITH ranked AS (
  SELECT d.publisher_id, d.report_year, d.id, {CLAIMED} AS claimed, d.published_at,
         d.first_seen_at, d.url,
         count(*) OVER (PARTITION BY d.publisher_id, d.report_year) AS copies,
         row_number() OVER (
           PARTITION BY d.publisher_id, d.report_year, {CLAIMED} IS NULL
           ORDER BY {CLAIMED}, CASE WHEN {CLAIMED} IS NULL THEN d.first_seen_at END, d.id
         ) AS rank
  FROM documents d
  WHERE d.publisher_id IS NOT NULL AND d.report_year IS NOT NULL AND d.not_report IS NULL
), firsts AS (SELECT * FROM ranked WHERE rank = 1)
INSERT INTO report_cells ({COLUMNS})
SELECT y.year, coalesce(cd.claimed, ''), pb.id, coalesce(cd.copies, ud.copies, 0),
       cd.id, cd.published_at, cd.first_seen_at, cd.url, ud.id, ud.first_seen_at, ud.url,
       pb.portal, pb.name, pb.kind, pb.first_year, pb.last_year
FROM publishers pb CROSS JOIN report_years y
LEFT JOIN firsts cd
  ON cd.publisher_id = pb.id AND cd.report_year = y.year AND cd.claimed IS NOT NULL
LEFT JOIN firsts ud
  ON ud.publisher_id = pb.id AND ud.report_year = y.year AND ud.claimed IS NULL
"""


def upgrade() -> None:
    op.create_table(
        "report_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_report_years")),
    )
    op.create_table(
        "report_cells",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("claimed", sa.String(length=10), nullable=False),
        sa.Column("publisher_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("claimed_doc", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.String(length=16), nullable=True),
        sa.Column("seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("undated_doc", sa.Integer(), nullable=True),
        sa.Column("undated_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undated_url", sa.Text(), nullable=True),
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=True),
        sa.Column("last_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("year", "claimed", "publisher_id", name=op.f("pk_report_cells")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_report_cells_publisher_id_year"), "report_cells", ["publisher_id", "year"]
    )
    op.execute(
        "INSERT INTO report_years (year) SELECT DISTINCT report_year FROM documents "
        "WHERE report_year IS NOT NULL"
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
    op.drop_index(op.f("ix_report_cells_publisher_id_year"), table_name="report_cells")
    op.drop_table("report_cells")
    op.drop_table("report_years")
