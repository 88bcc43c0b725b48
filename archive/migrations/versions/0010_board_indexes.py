"""Indexes for the web board at 100,000 publishers (issue 17): indexes only, nothing else.

- ix_report_cells_board: a portal's cells of one year in claimed order, with every column a
  status test reads (questions.tally), so the board's counts and status filters are index-only
  range scans (a year's dates after its earliest deadline, and its '') instead of reading the
  year's wide cells (the primary key has no portal and reads the whole row);
- ix_publishers_board: a portal's publishers of one kind by name: a page of a kind filter, and
  the kind's count, index-only;
- ix_publishers_limited (partial: the publishers created or merged away, a few): the publishers
  that did not exist in some year, for the counts of `not_expected`, without reading the rest.

Created with plain CREATE INDEX (no batch rebuild, so migration 0008's triggers stay).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CELLS = [
    "portal", "year", "claimed", "kind", "reports", "undated_seen", "undated_doc",
    "first_year", "last_year", "publisher_id",
]  # fmt: skip
PUBLISHERS = ["portal", "kind", "name"]
LIMITED = ["portal", "kind", "first_year", "last_year"]
LIFE = "first_year IS NOT NULL OR last_year IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_report_cells_board", "report_cells", CELLS)
    op.create_index("ix_publishers_board", "publishers", PUBLISHERS)
    where = sa.text(LIFE)
    op.create_index(
        "ix_publishers_limited", "publishers", LIMITED, sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    op.drop_index("ix_publishers_limited", table_name="publishers")
    op.drop_index("ix_publishers_board", table_name="publishers")
    op.drop_index("ix_report_cells_board", table_name="report_cells")
