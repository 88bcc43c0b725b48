"""SQLAlchemy models of the archive: raw captures, crawl runs, the registry, documents and versions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names, so that migrations can address them on every backend (SQLite batch
# mode rebuilds tables and needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_KINDS = ("nightly", "backfill", "manual")
RUN_STATUSES = ("running", "ok", "failed")
CAPTURE_KINDS = ("robots", "listing", "article", "module", "attachment", "other")
PUBLISHER_KINDS = ("department", "government", "township")
# What a fetch turned out to be (crawler.outcomes decides): `blocked` (an anti-bot challenge) and
# `gone` (a deleted page) are evidence about a portal, never a missing report.
CAPTURE_OUTCOMES = (
    "ok", "not_modified", "blocked", "gone", "error", "type_mismatch", "too_large",
)  # fmt: skip


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite keeps no zone, so it is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the archive stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def url_sha256(url: str) -> str:
    """The key a URL is indexed by: PostgreSQL's btree takes no row over ~2.7 KB, and a page's
    URL has no such limit. A hash no one can collide on purpose (md5 could be)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _url_key(context: DefaultExecutionContext) -> str:
    return url_sha256(context.get_current_parameters()["url"])


def _one_of(column: str, values: tuple[str, ...]) -> str:
    # The values are our own constants, never user input.
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Blob(Base):
    """One stored body, addressed by the sha256 of its exact bytes."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime]


class CrawlRun(Base):
    """One crawl of one portal: every run leaves a row, whatever its outcome."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(_one_of("kind", RUN_KINDS), name="kind"),
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        Index(None, "portal", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    portal: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    pages: Mapped[int] = mapped_column(default=0)
    new_reports: Mapped[int] = mapped_column(default=0)
    new_versions: Mapped[int] = mapped_column(default=0)
    blocked: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    finding: Mapped[str | None] = mapped_column(Text)
    # Crawl outcome counts (migration 0003): deleted pages met, 304s, and the records the 年报
    # listing yielded, which the next run of the same kind compares with to notice a layout change.
    gone: Mapped[int] = mapped_column(default=0, server_default="0")
    not_modified: Mapped[int] = mapped_column(default=0, server_default="0")
    listing_records: Mapped[int] = mapped_column(default=0, server_default="0")


class Capture(Base):
    """One HTTP fetch: what was asked, what came back, and which blob holds the bytes."""

    __tablename__ = "captures"
    __table_args__ = (
        CheckConstraint(_one_of("kind", CAPTURE_KINDS), name="kind"),
        CheckConstraint(_one_of("outcome", CAPTURE_OUTCOMES), name="outcome"),
        Index(None, "portal", "url_sha256"),
        Index(None, "run_id"),
        Index(None, "document_id"),
        Index(None, "indexed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    portal: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    headers: Mapped[list[Any]]
    fetched_at: Mapped[datetime]
    # NULL when the response had no body (a 304, a HEAD).
    sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # Unbounded (migration 0006): a server may send any header, and the page is still a page.
    content_type: Mapped[str | None] = mapped_column(Text)
    # The charset the body was decoded with (text bodies only), so the text can be re-derived.
    encoding: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    parent_url: Mapped[str | None] = mapped_column(Text)
    # Set by indexing: when the capture was parsed, and the document it turned out to be.
    indexed_at: Mapped[datetime | None]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # What the fetch turned out to be (migration 0003): one of CAPTURE_OUTCOMES; the type the bytes
    # are (pdf, docx, html, ...), whatever the URL or Content-Type claimed; what was odd about it;
    # and the title the listing gave the link, so a page gone before it was captured can be named.
    outcome: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    detected_type: Mapped[str | None] = mapped_column(String(16))
    finding: Mapped[str | None] = mapped_column(Text)
    listed_title: Mapped[str | None] = mapped_column(Text)
    # Migration 0006: the URL's index key (url_sha256()), filled from `url` on insert; and why
    # indexing could not read the capture ("<kind>: <message>": a parser failure, a missing
    # blob, a value the database refused), so that the capture is indexed and the pass goes on.
    url_sha256: Mapped[str] = mapped_column(String(64), default=_url_key)
    index_error: Mapped[str | None] = mapped_column(Text)
    # Migration 0007: why indexing judged the page no report (parsers.classify: a 通知, a 图解,
    # a 解读, an evaluation, a news item…), "other: <reason>"; NULL for a report or a file.
    not_report: Mapped[str | None] = mapped_column(Text)


class Publisher(Base):
    """A registered publisher of one portal (from `[[publishers]]`)."""

    __tablename__ = "publishers"
    __table_args__ = (
        UniqueConstraint("portal", "name"),
        CheckConstraint(_one_of("kind", PUBLISHER_KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    aliases: Mapped[list[Any]]
    kind: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    # The years the publisher existed (agencies merge and split); NULL means open-ended.
    first_year: Mapped[int | None]
    last_year: Mapped[int | None]


class Document(Base):
    """One report page of one portal; its fields mirror its latest version."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("portal", "url_sha256"),
        # Serves both `missing` (publisher and year equal) and `late` (all documents of one year).
        Index(None, "report_year", "publisher_id"),
        Index(None, "publisher_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    url_sha256: Mapped[str] = mapped_column(String(64), default=_url_key)  # as captures'
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("publishers.id"))
    # As the page states them, of any length (migration 0006; PostgreSQL refused the report).
    publisher_label: Mapped[str | None] = mapped_column(Text)
    # Migration 0007: whose report it is, as its title or opening names it; the registry matches
    # it first (a government's report posted by its office is the government's).
    subject: Mapped[str | None] = mapped_column(Text)
    # Migration 0007: set when the page's latest capture was judged no report (a re-parse with a
    # better classifier): "other: <reason>"; such a document is not listed as a report.
    not_report: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    report_year: Mapped[int | None]
    index_no: Mapped[str | None] = mapped_column(Text)
    written_date: Mapped[str | None] = mapped_column(String(10))
    # ISO text as the page states it, Asia/Shanghai local: 'YYYY-MM-DDTHH:MM' or 'YYYY-MM-DD'.
    published_at: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    template: Mapped[str | None] = mapped_column(String(64))
    # An attachment (a scanned PDF) no text engine could read: its figures await OCR.
    needs_ocr: Mapped[bool] = mapped_column(default=False, server_default=false())


class DocumentVersion(Base):
    """One distinct text snapshot of a document, with the capture it was first seen in."""

    __tablename__ = "document_versions"
    __table_args__ = (Index(None, "document_id", "seen_at"), Index(None, "capture_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(Text)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata")
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(32))
    parser_version: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(64))


class Figure(Base):
    """One figure of one version; the value is the exact decimal as text, never a float."""

    __tablename__ = "figures"
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict[str, Any]]


class Check(Base):
    """One consistency check the parser ran on one version."""

    __tablename__ = "checks"
    __table_args__ = (Index(None, "version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    rule: Mapped[str] = mapped_column(String(128))
    ok: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A file linked from a report page, kept as the capture that fetched it."""

    __tablename__ = "attachments"
    __table_args__ = (Index(None, "document_id"), Index(None, "capture_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    url: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    content_type: Mapped[str | None] = mapped_column(Text)


# --- Scheduling, leases, backfills and health -------------------------------------------------
# Written by the scheduler, the crawl lease and the backfill runner (ops.leases,
# ops.backfill, ops.health); the crawl tables above never depend on them.

SCHEDULED_OUTCOMES = ("running", "ok", "failed", "skipped", "interrupted", "lost", "missed")
CELL_STATUSES = ("pending", "running", "done", "failed")
# Tables that live in the archive database but belong to a library, not to these models:
# APScheduler's SQLAlchemyJobStore creates its own. Migrations and `alembic check` ignore them.
EXTERNAL_TABLES = frozenset({"scheduler_jobs"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: a table the database has that another library owns is not ours."""
    return not (type_ == "table" and reflected and compare_to is None and name in EXTERNAL_TABLES)


class PortalLease(Base):
    """Who is crawling a portal now; a crawl takes it, so two crawls never run on one portal."""

    __tablename__ = "portal_leases"
    portal: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))  # a random token per holder
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ScheduledCrawl(Base):
    """One crawl the scheduler started: the slot it was for, its exit code and its log file."""

    __tablename__ = "scheduled_crawls"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", SCHEDULED_OUTCOMES), name="outcome"),
        Index(None, "portal", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[int | None]
    log_path: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    scheduler: Mapped[str] = mapped_column(String(255))  # host:pid of the scheduler


class SchedulerHeartbeat(Base):
    """One scheduler process, beating every minute: a stale beat means the schedule stopped."""

    __tablename__ = "scheduler_heartbeats"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # host:pid
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    mode: Mapped[str] = mapped_column(String(16))  # forever | once
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]


class BackfillCell(Base):
    """One (publisher, year) of a backfill plan, and how far its crawl got."""

    __tablename__ = "backfill_cells"
    __table_args__ = (
        UniqueConstraint("portal", "publisher", "year"),
        CheckConstraint(_one_of("status", CELL_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    publisher: Mapped[str] = mapped_column(String(255))
    year: Mapped[int]
    # What crawl covers the cell: "listing" (the 年报 column) or "module:<unit code>".
    source: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    claimed_by: Mapped[str | None] = mapped_column(String(255))  # host:pid while running
    updated_at: Mapped[datetime]


class AlertState(Base):
    """One alert condition of one subject (a portal): raised once, notified once, cleared."""

    __tablename__ = "alert_states"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[bool]
    detail: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]


# Issue 6 (the questions: missing, late and their evidence): indexes that answer them from the
# index alone, measured in bench/questions_bench.py (100,000 publishers x 15 years).
# - Documents by (year, publisher) with the dates `late` judges by: it scans one year of the
#   index. It carried the URL too until migration 0006 (never reading the table), but a URL over
#   ~2.7 KB made the row too large for PostgreSQL's btree and the page was lost: `late` reads
#   the URL from the table now. `missing` keeps probing the narrower (report_year, publisher_id).
# - Runs by (portal, status, blocked, finished_at): the evidence of a search, grouped without a sort.
# - Captures by (outcome, portal): the few deleted (`gone`) pages among millions of captures.
Index(
    "ix_documents_report_year_covering",
    Document.report_year,
    Document.publisher_id,
    Document.published_at,
    Document.written_date,
    Document.first_seen_at,
)
Index(None, CrawlRun.portal, CrawlRun.status, CrawlRun.blocked, CrawlRun.finished_at)
Index(None, Capture.outcome, Capture.portal)


class RunTally(Base):
    """The crawl runs of one portal with one status and one count of challenge pages met: how
    many, the first and last to finish, and the newest. Kept by migration 0012's triggers on
    crawl_runs, whoever writes a run; the evidence of a search (questions.evidence) reads these
    few rows per portal instead of every run the portal ever had (a run a night, for years)."""

    __tablename__ = "run_tallies"
    portal: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    blocked: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    runs: Mapped[int]
    first_finished: Mapped[datetime | None]
    last_finished: Mapped[datetime | None]
    last_id: Mapped[int]


# Issue 16: the statuses kept as the archive changes, so `missing` and `late` read one year of
# cells instead of judging every publisher at each question (bench/questions_bench.py). Database
# triggers (migration 0008) keep them: any write to documents or publishers, by indexing,
# reparse, the registry's sync or anything else, refreshes the cells it touches in the same
# transaction. A SQLite batch migration that rebuilds `documents` or `publishers` drops their
# triggers and must create them again (tests/test_status_cells.py checks they exist at head).


class ReportYear(Base):
    """A report year the cells cover: a document of it was archived."""

    __tablename__ = "report_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class ReportCell(Base):
    """One publisher x covered year: how many report copies it has (documents not judged no
    report); its earliest claimed date (发布时间's day, else 成文日期; '' when no copy claims one)
    with that copy's 发布时间, first sight and URL; the first seen copy claiming no date; and the
    publisher's fields. Facts, not verdicts: the deadlines are settings, applied at each question.
    Keyed (year, claimed, publisher): on SQLite the table is clustered by it, so a year's
    missing (claimed '', no copy) and late candidates (claimed after a deadline) lie together."""

    __tablename__ = "report_cells"
    __table_args__ = (Index(None, "publisher_id", "year"), {"sqlite_with_rowid": False})
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claimed: Mapped[str] = mapped_column(String(10), primary_key=True)
    publisher_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reports: Mapped[int]
    claimed_doc: Mapped[int | None]
    published_at: Mapped[str | None] = mapped_column(String(16))
    seen: Mapped[datetime | None]
    url: Mapped[str | None] = mapped_column(Text)
    undated_doc: Mapped[int | None]
    undated_seen: Mapped[datetime | None]
    undated_url: Mapped[str | None] = mapped_column(Text)
    portal: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    first_year: Mapped[int | None]
    last_year: Mapped[int | None]


# Issue 16: `late` on PostgreSQL read its candidate cells from the table, where a year's cells
# lie scattered (the cells were filled publisher by publisher, and each write moves one): 17,000
# cells cost 22,000 page reads, five times the bare indexed query. The first index holds, in
# the key's order, every column `late` reads of a cell (archive.cells.dated), so they are read
# from the index alone. Its rows stop at URLs of INDEXED_URL bytes (a btree row is at most ~2.7
# KB: migration 0006 lost a page to one); the second index finds the few cells beyond it, and
# those with a dateless copy. SQLite's table is clustered by (year, claimed, publisher) already:
# there both indexes are empty (`claimed` is never NULL), declared so that one model describes
# both databases (`alembic check` compares neither INCLUDE nor WHERE).
INDEXED_URL = 1500
_NEVER_ON_SQLITE = text("claimed IS NULL")


def url_indexed(indexed: bool = True) -> ColumnElement[bool]:
    """Whether a cell's URL fits the rows of ix_report_cells_late (or not)."""
    length = func.octet_length(ReportCell.url)
    limit: ColumnElement[int] = literal_column(str(INDEXED_URL))
    return length <= limit if indexed else length > limit


Index(
    "ix_report_cells_late",
    ReportCell.year,
    ReportCell.claimed,
    postgresql_include=[
        "publisher_id",
        "portal",
        "name",
        "kind",
        "published_at",
        "seen",
        "url",
        "undated_seen",
    ],
    postgresql_where=url_indexed(),
    sqlite_where=_NEVER_ON_SQLITE,
)
Index(
    "ix_report_cells_late_rest",
    ReportCell.year,
    ReportCell.claimed,
    postgresql_where=or_(url_indexed(False), ReportCell.undated_doc.is_not(None)),
    sqlite_where=_NEVER_ON_SQLITE,
)
# Issue 16 (migration 0011): a year's publishers with no report copy (`missing`: claimed '' and
# no copy) read from the index alone. On PostgreSQL the year's cells lie scattered in the table
# (7,000 cells cost 6,500 page reads at 150,000 publishers); SQLite's clustered table holds them
# together already, so there the index is empty. The predicate is written as literals
# (archive.cells.without_report): a bound parameter would not match a partial index.
_GAP = text("claimed = '' AND reports = 0")
Index(
    "ix_report_cells_gaps",
    ReportCell.year,
    ReportCell.portal,
    ReportCell.name,
    postgresql_include=["publisher_id", "kind", "first_year", "last_year"],
    postgresql_where=_GAP,
    sqlite_where=_NEVER_ON_SQLITE,
)
# Issue 17 (migration 0010): the web board's counts, status filters and pages at 100,000
# publishers, index-only (questions.board, questions.tally).
Index(
    "ix_report_cells_board",
    ReportCell.portal, ReportCell.year, ReportCell.claimed, ReportCell.kind, ReportCell.reports,
    ReportCell.undated_seen, ReportCell.undated_doc, ReportCell.first_year, ReportCell.last_year,
    ReportCell.publisher_id,
)  # fmt: skip
Index("ix_publishers_board", Publisher.portal, Publisher.kind, Publisher.name)
_LIMITED = or_(Publisher.first_year.is_not(None), Publisher.last_year.is_not(None))
Index(
    "ix_publishers_limited",
    Publisher.portal, Publisher.kind, Publisher.first_year, Publisher.last_year,
    sqlite_where=_LIMITED, postgresql_where=_LIMITED,
)  # fmt: skip
