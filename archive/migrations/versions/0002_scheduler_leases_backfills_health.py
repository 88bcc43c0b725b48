"""Scheduler tables: portal leases, scheduled crawls, heartbeats, backfill cells, alert states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:58:31.358850
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_states",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject", "rule", name=op.f("pk_alert_states")),
    )
    op.create_table(
        "portal_leases",
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("portal", name=op.f("pk_portal_leases")),
    )
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_heartbeats")),
    )
    op.create_table(
        "backfill_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("publisher", sa.String(length=255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')",
            name=op.f("ck_backfill_cells_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_backfill_cells_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_cells")),
        sa.UniqueConstraint(
            "portal", "publisher", "year", name=op.f("uq_backfill_cells_portal_publisher_year")
        ),
    )
    op.create_table(
        "scheduled_crawls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("log_path", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("scheduler", sa.String(length=255), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('running', 'ok', 'failed', 'skipped', 'interrupted', 'lost', 'missed')",
            name=op.f("ck_scheduled_crawls_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_scheduled_crawls_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_crawls")),
    )
    with op.batch_alter_table("scheduled_crawls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduled_crawls_portal_started_at"),
            ["portal", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_crawls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_crawls_portal_started_at"))

    op.drop_table("scheduled_crawls")
    op.drop_table("backfill_cells")
    op.drop_table("scheduler_heartbeats")
    op.drop_table("portal_leases")
    op.drop_table("alert_states")
