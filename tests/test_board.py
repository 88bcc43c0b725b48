"""The board (questions.board) against questions.status, cell by cell and count by count, over
the crawled replica history on SQLite and PostgreSQL: every page of every view (three publishers
a page, so a view runs to many pages), each status filter, each kind, and a year range that
reaches years no document was archived for (their statuses are judged without cells).

The reference is questions.status's computed path (a cut after everything: the documents, not
the cells the board reads), so a board that read its cells wrongly could not agree with it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from questions_fixtures import History, history_of
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import session_scope
from archive.models import Document, Publisher
from archive.registry import PublisherSpec, sync_publishers
from archive.runs import finish_run, start_run
from questions import board as board_module
from questions.board import (
    STATUSES,
    Board,
    BoardQuery,
    BoardRow,
    Cell,
    Kept,
    Roster,
    build_board,
)
from questions.cache import AnswerCache
from questions.deadlines import DeadlineRules
from questions.status import missing, timeliness
from questions.tally import COUNTED, status_sets, year_status_sets

RULES = DeadlineRules()
AS_OF = date(2025, 2, 15)  # 2024's departments overdue, its governments not yet due
NEVER = datetime(2100, 1, 1, tzinfo=UTC)  # a cut after everything: the computed path
FIRST, LAST = 2011, 2025  # the replica's reports are of 2014-2024: some years have no cells
PAGE = 3


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "PAGE_SIZE", PAGE)


# What questions.status answers for a cell: (status, days late, evidence, url), None for a
# cell no answer lists (a report claiming a date by its deadline: on time).
Answer = tuple[str, int | None, str, str | None]


def reference(session: Session, portal: str) -> dict[tuple[str, int], Answer]:
    found: dict[tuple[str, int], Answer] = {}
    for year in range(FIRST, LAST + 1):
        for gap in missing(session, year, AS_OF, RULES, NEVER):
            if gap.portal == portal:
                found[(gap.publisher, year)] = (gap.status, None, gap.evidence, None)
        told = timeliness(session, year, RULES, NEVER)
        for late in told.late:
            if late.portal == portal:
                evidence = (
                    f"claims {late.published_at}, due {late.deadline}: {late.days_late} days late"
                )
                found[(late.publisher, year)] = ("late", late.days_late, evidence, late.url)
        for row in [*told.undated, *told.seen_in_time]:
            if row.portal == portal:
                days = 0 if row.status == "on_time" else None
                found[(row.publisher, year)] = (row.status, days, row.evidence, row.url)
    return found


def every_page(session: Session, q: BoardQuery) -> tuple[Board, list[BoardRow]]:
    cache = AnswerCache()
    first = build_board(session, q, RULES, AS_OF, cache)
    rows = list(first.rows)
    for page in range(2, first.pages + 1):
        shown = build_board(
            session, BoardQuery(**{**q.__dict__, "page": page}), RULES, AS_OF, cache
        )
        assert (shown.total, shown.pages, shown.counts) == (first.total, first.pages, first.counts)
        assert len(shown.rows) <= PAGE
        rows += shown.rows
    assert len(rows) == first.total
    assert [r.name for r in rows] == sorted(r.name for r in rows)  # by name, none twice
    assert len({r.name for r in rows}) == len(rows)
    return first, rows


def tally(rows: list[BoardRow], years: list[int]) -> dict[int, Counter[str]]:
    return {y: Counter(row.cells[y].status for row in rows) for y in years}


def same_counts(board: Board, rows: list[BoardRow]) -> None:
    for year, want in tally(rows, board.years).items():
        got = board.counts[year]
        assert {s: got[s] for s in STATUSES} == {s: want[s] for s in STATUSES}, year


@pytest.mark.parametrize("portal", ["taizhou", "tongxiang"])
def test_every_cell_and_count_is_questions_status(history: History, portal: str) -> None:
    with Session(history.engine) as session:
        want = reference(session, portal)
        board, rows = every_page(session, BoardQuery(portal, FIRST, LAST))
    statuses = Counter()
    for row in rows:
        for year, cell in row.cells.items():
            statuses[cell.status] += 1
            if not row.years[0] <= year <= row.years[1]:
                assert cell.status == "not_expected", (row.name, year)
                continue
            answer = want.get((row.name, year))
            if answer is None:
                assert cell.status == "on_time" and cell.report_id, (row.name, year, cell)
                continue
            status, days, evidence, url = answer
            assert (cell.status, cell.days_late, cell.evidence) == (status, days, evidence)
            assert url is None or cell.url == url
    # The replica's history holds most of the statuses; the board counts its own cells.
    assert {"on_time", "late", "missing", "not_yet_due"} <= set(statuses), statuses
    same_counts(board, rows)


@pytest.mark.parametrize("few", [2000, 0])  # a filter's page from its rows, or by the walk
@pytest.mark.parametrize("portal", ["taizhou", "tongxiang"])
def test_each_filter_keeps_the_publishers_with_such_a_cell(
    history: History, portal: str, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_module, "_FEW", few)
    monkeypatch.setattr(board_module, "_BATCH", 2)  # the walk goes on from batch to batch
    with Session(history.engine) as session:
        _, everyone = every_page(session, BoardQuery(portal, FIRST, LAST))
        kinds = sorted({row.kind for row in everyone})
        views = [(s, k) for s in STATUSES for k in [None, *kinds]]
        shown = 0
        for status, kind in views:
            q = BoardQuery(portal, FIRST, LAST, status, kind)
            board, rows = every_page(session, q)
            want = [
                row
                for row in everyone
                if (kind is None or row.kind == kind)
                and any(c.status == status for c in row.cells.values())
            ]
            assert [r.name for r in rows] == [r.name for r in want], (status, kind)
            assert [r.cells for r in rows] == [r.cells for r in want], (status, kind)
            same_counts(board, rows)
            shown += len(rows)
        assert shown > 0


@pytest.mark.parametrize("status", ["on_time", "late", "missing"])
def test_a_filters_page_past_its_last_shows_its_last(history: History, status: str) -> None:
    """`on_time` keeps all but a few (read as their complement), the others a set: either way a
    page past the last is the last page, whose rows end the filter's."""
    with Session(history.engine) as session:
        board, rows = every_page(session, BoardQuery("taizhou", FIRST, LAST, status))
        past = BoardQuery("taizhou", FIRST, LAST, status, page=board.pages + 5)
        last = build_board(session, past, RULES, AS_OF, AnswerCache())
    assert board.pages > 1
    assert (last.total, last.pages, last.counts) == (board.total, board.pages, board.counts)
    assert [r.name for r in last.rows] == [r.name for r in rows[(board.pages - 1) * PAGE :]]


def test_the_rosters_absent_and_a_filters_kept_publishers() -> None:
    """A publisher is absent in the years outside its own, the years it starts and ends kept;
    a filter kept as a complement counts what it keeps as a set would."""
    spans = ((1, 2015, 9999), (2, 0, 2016), (3, 2015, 2016), (4, 2017, 2017))
    roster = Roster(spans)
    for year in range(2013, 2020):
        want = {pid for pid, first, last in spans if not first <= year <= last}
        assert roster.absent(year) == want, year
    everyone, kept = set(range(1, 11)), {2, 3, 5}
    as_set, as_rest = Kept(kept, 3), Kept(everyone - kept, 3, but=True)
    for some in ({1, 2, 3}, {5}, set(), everyone):
        assert as_set.among(some) == as_rest.among(some) == len(some & kept)
    assert [pid for pid in everyone if pid in as_rest] == sorted(kept)


def test_a_year_range_is_its_years_cells(history: History) -> None:
    """A narrower range shows the same cells as the whole board, and counts only them."""
    with Session(history.engine) as session:
        _, everyone = every_page(session, BoardQuery("taizhou", FIRST, LAST))
        board, rows = every_page(session, BoardQuery("taizhou", 2019, 2021, "late"))
    years = range(2019, 2022)
    want = [r for r in everyone if any(r.cells[y].status == "late" for y in years)]
    assert [r.name for r in rows] == [r.name for r in want] != []
    for row, whole in zip(rows, want, strict=True):
        assert row.cells == {y: whole.cells[y] for y in years}
    same_counts(board, rows)
    assert isinstance(rows[0].cells[2019], Cell)


@pytest.mark.parametrize("first,last", [(FIRST, LAST), (2019, 2021), (2024, 2024)])
def test_the_status_sets_of_a_year_range_in_one_statement(
    history: History, first: int, last: int
) -> None:
    """PostgreSQL's one statement for a year range (questions.tally._PG_SETS) gives the sets the
    SQL built per year gives, for each kind; the filters over them are the board's cells."""
    with Session(history.engine) as session:
        _, everyone = every_page(session, BoardQuery("taizhou", first, last))
        for kind in [None, *sorted({row.kind for row in everyone})]:
            q = BoardQuery("taizhou", first, last, kind=kind)
            facts = board_module._facts(session, q, list(range(first, last + 1)), AS_OF, RULES)
            covered = [f for ok, f in facts.values() if ok]
            one = status_sets(session, covered, "taizhou", kind)
            assert one == year_status_sets(session, covered, "taizhou", kind), kind
            for year, status in [(f.year, s) for f in covered for s in COUNTED]:
                want = {
                    row.publisher_id
                    for row in everyone
                    if (kind is None or row.kind == kind) and row.cells[year].status == status
                }
                assert one.get((year, status), set()) == want, (kind, year, status)
        board, rows = every_page(session, BoardQuery("taizhou", first, last, "missing", kind))
    want = [
        r for r in everyone if r.kind == kind and "missing" in {c.status for c in r.cells.values()}
    ]
    assert [r.name for r in rows] == [r.name for r in want]
    same_counts(board, rows)


# A portal with every status the replica lacks: a report page deleted before capture (`gone`), a
# report page blocked by a challenge (`unreachable`), a dateless report seen by its deadline
# (`on_time`) and one seen after (`undated`), on a covered year (2020) and a year with no
# document (2021, judged without cells).
BASE = "http://xxgk.tx.gov.cn"
SYNTHETIC = [
    PublisherSpec("tongxiang", "桐乡市教育局", (), "department"),
    PublisherSpec("tongxiang", "桐乡市民政局", (), "department"),
    PublisherSpec("tongxiang", "桐乡市财政局", (), "department"),
    PublisherSpec("tongxiang", "桐乡市审计局", (), "department"),
    PublisherSpec("tongxiang", "桐乡市人民政府", (), "government"),
    PublisherSpec("tongxiang", "桐乡市新设局", (), "department", first_year=2021),
]


def fault(url: str, title: str, run_id: int, outcome: str) -> CaptureIn:
    return CaptureIn(
        portal="tongxiang", run_id=run_id, url=url, final_url=url,
        status=404 if outcome == "gone" else 200,
        headers=[("Content-Type", "text/html; charset=utf-8")], body=b"<html>x</html>",
        fetched_at=datetime(2021, 2, 10, 1, tzinfo=UTC), kind="article", outcome=outcome,
        listed_title=title,
    )  # fmt: skip


def test_gone_unreachable_and_dateless_cells(engine: Engine, store: BlobStore) -> None:
    with session_scope(engine) as session:
        sync_publishers(session, SYNTHETIC)
        run = start_run(session, "tongxiang", "nightly", at=datetime(2021, 2, 10, 0, tzinfo=UTC))
        finish_run(session, run, "ok", pages=10, at=datetime(2021, 2, 10, 2, tzinfo=UTC))
        art = f"{BASE}/art/2021/1/20/art_1229425520_30400"
        for n, (name, outcome) in enumerate([("教育局", "gone"), ("民政局", "blocked")]):
            title = f"桐乡市{name}2020年度政府信息公开工作报告"
            record_capture(session, store, fault(f"{art}{n}.html", title, run.id, outcome))
        ids = {name: pid for name, pid in session.execute(select(Publisher.name, Publisher.id))}
        for name, seen in (("桐乡市财政局", (2021, 1, 5)), ("桐乡市审计局", (2021, 3, 5))):
            at = datetime(*seen, tzinfo=UTC)
            session.add(
                Document(
                    portal="tongxiang", url=f"{BASE}/{name}", publisher_id=ids[name],
                    report_year=2020, first_seen_at=at, last_seen_at=at,
                )
            )  # fmt: skip
    as_of = date(2022, 6, 1)
    with Session(engine) as session:
        cells = {
            (row.name, year): cell
            for status in (None, *STATUSES)
            for row in build_board(
                session, BoardQuery("tongxiang", 2020, 2021, status), RULES, as_of, AnswerCache()
            ).rows
            for year, cell in row.cells.items()
        }
        board = build_board(
            session, BoardQuery("tongxiang", 2020, 2021), RULES, as_of, AnswerCache()
        )
        gone = build_board(
            session, BoardQuery("tongxiang", 2020, 2021, "gone"), RULES, as_of, AnswerCache()
        )
        q = BoardQuery("tongxiang", 2020, 2021)
        facts = board_module._facts(session, q, [2020, 2021], as_of, RULES)
        covered = [f for ok, f in facts.values() if ok]
        sets = status_sets(session, covered, "tongxiang", None)  # one statement on PostgreSQL
        assert sets == year_status_sets(session, covered, "tongxiang", None)
        assert {s for (_, s), ids in sets.items() if ids} >= {"gone", "unreachable", "undated"}
        want: dict[tuple[str, int], tuple[str, str]] = {}
        for year in (2020, 2021):
            for gap in missing(session, year, as_of, RULES, NEVER):
                want[(gap.publisher, year)] = (gap.status, gap.evidence)
            told = timeliness(session, year, RULES, NEVER)
            for row in [*told.undated, *told.seen_in_time]:
                want[(row.publisher, year)] = (row.status, row.evidence)
    got = {key: (cell.status, cell.evidence) for key, cell in cells.items() if key in want}
    assert got == want
    assert {k: s for k, (s, _) in got.items() if k[1] == 2020} == {
        ("桐乡市教育局", 2020): "gone",
        ("桐乡市民政局", 2020): "unreachable",
        ("桐乡市财政局", 2020): "on_time",  # no date, seen by the deadline
        ("桐乡市审计局", 2020): "undated",
        ("桐乡市人民政府", 2020): "missing",
    }
    assert cells[("桐乡市新设局", 2020)].status == "not_expected"
    assert {s for (_, y), (s, _) in got.items() if y == 2021} == {"missing"}  # no cells
    assert [r.name for r in gone.rows] == ["桐乡市教育局"]
    counts = board.counts[2020]
    assert {s: n for s, n in counts.items() if n} == {
        "gone": 1, "unreachable": 1, "on_time": 1, "undated": 1, "missing": 1, "not_expected": 1
    }  # fmt: skip
    assert gone.counts[2021] == Counter({"missing": 1, "on_time": 0})


# The index-only migrations, each with what it adds: 0010 the board's, 0011 `missing`'s.
_INDEX_MIGRATIONS = {
    "0010": {"ix_report_cells_board", "ix_publishers_board", "ix_publishers_limited"},
    "0011": {"ix_report_cells_gaps"},
}
_LATER_TABLES = {"run_tallies"}  # migration 0012's, gone below it


@pytest.mark.parametrize("revision", sorted(_INDEX_MIGRATIONS))
def test_index_migrations_add_indexes_only_and_go_back(engine: Engine, revision: str) -> None:
    """0010 and 0011 are indexes only: down to the one before, their indexes (and those of the
    later ones) go and every table stays (but the later ones'); up again they return."""
    from alembic import command
    from sqlalchemy import inspect

    from archive.db import alembic_config, upgrade

    def state() -> tuple[set[str], set[str]]:
        found = inspect(engine)
        tables = set(found.get_table_names())
        return tables, {
            ix["name"] or "" for t in ("report_cells", "publishers") for ix in found.get_indexes(t)
        }

    tables, head = state()
    added = set().union(*(ix for rev, ix in _INDEX_MIGRATIONS.items() if rev >= revision))
    assert added <= head
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, f"{int(revision) - 1:04d}")
    assert state() == (tables - _LATER_TABLES, head - added)
    upgrade(engine)
    assert state() == (tables, head)
