"""Capture outcomes (blocked, gone, not_modified, type_mismatch, ...) and run outcome counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OUTCOMES = ("ok", "not_modified", "blocked", "gone", "error", "type_mismatch", "too_large")


def upgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(sa.Column("detected_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("finding", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("listed_title", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_captures_outcome"),
            f"outcome IN ({', '.join(repr(o) for o in OUTCOMES)})",
        )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        for name in ("gone", "not_modified", "listing_records"):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        for name in ("listing_records", "not_modified", "gone"):
            batch_op.drop_column(name)
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_captures_outcome"), type_="check")
        for name in ("listed_title", "finding", "detected_type", "outcome"):
            batch_op.drop_column(name)
