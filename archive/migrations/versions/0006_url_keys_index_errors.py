"""URLs indexed by their sha256, Content-Type unbounded, captures.index_error (issue 12).

PostgreSQL's btree refuses an index row over ~2.7 KB: a longer URL (or a Content-Type over 255
characters) made the capture's write fail. The (portal, url) indexes become (portal, url_sha256),
the covering index of `late` drops the URL, and content_type (and a page's 发布机构 and 索引号,
which made its report fail) become text. `index_error` records why indexing could not read a
capture (a parser failure, a missing blob, a refused value).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:40:00.000000
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COVERING = "ix_documents_report_year_covering"
COVERED = ["report_year", "publisher_id", "published_at", "written_date", "first_seen_at"]
BACKFILL_ROWS = 5000
# A page's 发布机构 and 索引号, of any length: PostgreSQL refused a report whose were too long.
PAGE_TEXT = [("publisher_label", 255), ("index_no", 128)]


def upgrade() -> None:
    for table in ("captures", "documents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("url_sha256", sa.String(length=64), nullable=True))
        _backfill(table)
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index_error", sa.Text(), nullable=True))
        batch_op.alter_column("url_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("content_type", existing_type=sa.String(length=255), type_=sa.Text())
        batch_op.drop_index(batch_op.f("ix_captures_portal_url"))
        batch_op.create_index(
            batch_op.f("ix_captures_portal_url_sha256"), ["portal", "url_sha256"], unique=False
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.alter_column("url_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_documents_portal_url"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_portal_url_sha256"), ["portal", "url_sha256"]
        )
        batch_op.drop_index(COVERING)
        batch_op.create_index(COVERING, COVERED)
        for column, length in PAGE_TEXT:
            batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text())
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("content_type", existing_type=sa.String(length=255), type_=sa.Text())


def _backfill(table: str) -> None:
    """Fill url_sha256 as archive.models.url_sha256 does (SQLite has no sha256 in SQL)."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("url", sa.Text))
    keyed = sa.table(table, sa.column("id", sa.Integer), sa.column("url_sha256", sa.String))
    if bind.dialect.name == "postgresql":
        digest = sa.func.sha256(sa.func.convert_to(sa.column("url", sa.Text), "UTF8"))
        op.execute(sa.update(keyed).values(url_sha256=sa.func.encode(digest, "hex")))
        return
    update = (
        sa.update(keyed)
        .where(keyed.c.id == sa.bindparam("row_id"))
        .values(url_sha256=sa.bindparam("key"))
    )
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rows.c.id, rows.c.url)
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BACKFILL_ROWS)
        ).all()
        if not batch:
            return
        keys = [{"row_id": i, "key": _sha256(u)} for i, u in batch]
        bind.execute(update, keys)
        last = batch[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("content_type", existing_type=sa.Text(), type_=sa.String(length=255))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for column, length in PAGE_TEXT:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length))
        batch_op.drop_index(COVERING)
        batch_op.create_index(COVERING, [*COVERED, "url"])
        batch_op.drop_constraint(batch_op.f("uq_documents_portal_url_sha256"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_documents_portal_url"), ["portal", "url"])
        batch_op.drop_column("url_sha256")
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_captures_portal_url_sha256"))
        batch_op.create_index(batch_op.f("ix_captures_portal_url"), ["portal", "url"], unique=False)
        batch_op.alter_column("content_type", existing_type=sa.Text(), type_=sa.String(length=255))
        batch_op.drop_column("index_error")
        batch_op.drop_column("url_sha256")


def _sha256(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
