"""The index `missing` reads a year's publishers without a report from (issue 16 item 5).

See the issue-16 blocks at the end of archive.models: ix_report_cells_gaps holds, on PostgreSQL,
the cells with no report copy (claimed '' and reports 0) by year, portal and name, with every
column `missing` reads (archive.cells.without_report), so a year's few thousand are read from the
index alone, not from thousands of table pages. On SQLite, whose table is clustered by (year,
claimed, publisher) already, it is declared empty. No table is rebuilt: the triggers of
migration 0008 stand.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GAP = "claimed = '' AND reports = 0"
NEVER_ON_SQLITE = sa.text("claimed IS NULL")  # never true: the column is NOT NULL


def upgrade() -> None:
    op.create_index(
        "ix_report_cells_gaps",
        "report_cells",
        ["year", "portal", "name"],
        postgresql_include=["publisher_id", "kind", "first_year", "last_year"],
        postgresql_where=sa.text(GAP),
        sqlite_where=NEVER_ON_SQLITE,
    )


def downgrade() -> None:
    op.drop_index("ix_report_cells_gaps", table_name="report_cells")
