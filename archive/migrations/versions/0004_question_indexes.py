"""Indexes for the questions (missing, late, their evidence): see the issue-6 block of models.py.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DOCUMENTS = ["report_year", "publisher_id", "published_at", "written_date", "first_seen_at", "url"]
RUNS = ["portal", "status", "blocked", "finished_at"]
CAPTURES = ["outcome", "portal"]


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_report_year_covering", DOCUMENTS)
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_runs_" + "_".join(RUNS)), RUNS)
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_captures_" + "_".join(CAPTURES)), CAPTURES)


def downgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_captures_" + "_".join(CAPTURES)))
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_" + "_".join(RUNS)))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_report_year_covering")
