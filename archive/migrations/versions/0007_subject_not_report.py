"""documents.subject, documents.not_report and captures.not_report (issue 13).

documents.subject: whose report it is, as its title or opening names it (publisher_label stays
the page's 发布机构, who posted it). captures.not_report: why a page was judged no report (a
通知, a 图解, a 解读, an evaluation, a news item…): kept as kind `other`, with its reason;
documents.not_report the same for a page once archived as a report and judged otherwise since
(a re-parse): `reports` no longer lists it, `show` says why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("not_report", sa.Text(), nullable=True))
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_report", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_column("not_report")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("not_report")
        batch_op.drop_column("subject")
