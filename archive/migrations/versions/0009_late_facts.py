"""The indexes `late` reads its candidate cells from on PostgreSQL (issue 16 item 5).

See the issue-16 block at the end of archive.models: ix_report_cells_late holds, in the key's
order, every column `late` reads of a cell whose URL fits a btree row; ix_report_cells_late_rest
finds the cells beyond it (a longer URL) and those with a dateless copy. On SQLite, whose table is
clustered by the key already, both are declared empty. No table is rebuilt: the triggers of
migration 0008 stand.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXED_URL = 1500  # archive.models.INDEXED_URL when written: a migration keeps its own copy
# Literal predicates (INDEXED_URL written out): no SQL is built from strings (test_sql_literals).
URL_FITS = "octet_length(url) <= 1500"
URL_BEYOND_OR_DATELESS = "octet_length(url) > 1500 OR undated_doc IS NOT NULL"
NEVER_ON_SQLITE = sa.text("claimed IS NULL")  # never true: the column is NOT NULL
LATE_COLUMNS = [
    "publisher_id",
    "portal",
    "name",
    "kind",
    "published_at",
    "seen",
    "url",
    "undated_seen",
]


def upgrade() -> None:
    op.create_index(
        "ix_report_cells_late",
        "report_cells",
        ["year", "claimed"],
        postgresql_include=LATE_COLUMNS,
        postgresql_where=sa.text(URL_FITS),
        sqlite_where=NEVER_ON_SQLITE,
    )
    op.create_index(
        "ix_report_cells_late_rest",
        "report_cells",
        ["year", "claimed"],
        postgresql_where=sa.text(URL_BEYOND_OR_DATELESS),
        sqlite_where=NEVER_ON_SQLITE,
    )


def downgrade() -> None:
    op.drop_index("ix_report_cells_late_rest", table_name="report_cells")
    op.drop_index("ix_report_cells_late", table_name="report_cells")
