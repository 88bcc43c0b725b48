"""`missing`, `late`, copies and the registry over an archive built by crawling the replica portals
at two moments (questions_fixtures), on both backends, checked against the replica's truth."""

from __future__ import annotations

import datetime as dt

import pytest
from questions_fixtures import T1, History, history_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Document
from archive.registry import PublisherRegistry
from questions.deadlines import DeadlineRules
from questions.publishers import registry_rows, unmatched_labels
from questions.reports import get_report, list_reports
from questions.status import late, missing
from replica.truth import load_truth

TRUTH = load_truth()
RULES = DeadlineRules()
YEARS = range(TRUTH.first_year, TRUTH.last_year + 1)


def rule_deadline(year: int, kind: str) -> dt.date:
    """The law, restated here rather than imported: the 2007 rule up to report year 2018."""
    if year <= 2018 or kind == "government":
        return dt.date(year + 1, 3, 31)
    return dt.date(year + 1, 1, 31)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


def url_of(history: History, path: str, portal: str) -> str:
    return next(p.base_url for p in history.settings.portals if p.id == portal) + path


def test_both_crawls_ran_and_the_first_saw_the_portal_as_it_stood(history: History) -> None:
    assert [s.status for s in history.first + history.second] == ["ok"] * 3
    early = TRUTH.as_of(T1)
    with Session(history.engine) as session:
        first_seen = dict(session.execute(select(Document.url, Document.first_seen_at)).all())
    at_t1 = dt.datetime.fromisoformat(T1).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    seen_then = {url for url, seen in first_seen.items() if seen < at_t1 + dt.timedelta(hours=1)}
    expected = {url_of(history, r.url, r.portal) for r in early.reports_of("taizhou")}
    assert seen_then == expected and len(expected) < len(TRUTH.reports_of("taizhou"))


def test_missing_lists_exactly_the_truth_every_year_with_evidence(history: History) -> None:
    wrong = []
    with Session(history.engine) as session:
        for year in YEARS:
            rows = missing(session, year, dt.date(2026, 1, 1), RULES)
            got = {(r.portal, r.publisher) for r in rows}
            if got != TRUTH.expected_missing(year):
                wrong.append((year, got ^ TRUTH.expected_missing(year)))
            for r in rows:
                assert r.status == "missing" and "last clean search: run" in r.evidence, r
    assert wrong == []


def test_late_lists_exactly_the_truth_every_year_with_both_dates(history: History) -> None:
    with Session(history.engine) as session:
        for year in YEARS:
            rows = late(session, year, RULES)
            assert {(r.portal, r.publisher): r.days_late for r in rows} == TRUTH.expected_late(
                year
            ), year
            for r in rows:
                report = TRUTH.report(r.portal, r.publisher, year)
                assert report is not None and report.copy_of is None
                assert (r.published_at, r.deadline.isoformat()) == (
                    report.published_at,
                    report.deadline,
                )
                assert r.url == url_of(history, report.url, report.portal)


@pytest.mark.parametrize(("portal", "publisher", "year"), sorted(
    (p, n, y) for y in YEARS for p, n in TRUTH.expected_missing(y)
))  # fmt: skip
def test_missing_on_both_sides_of_its_deadline(
    history: History, portal: str, publisher: str, year: int
) -> None:
    kind = next(p.kind for p in TRUTH.publishers if p.key == (portal, publisher))
    deadline = rule_deadline(year, kind)
    with Session(history.engine) as session:
        on_day = missing(session, year, deadline, RULES)
        after = missing(session, year, deadline + dt.timedelta(days=1), RULES)
    assert _status(on_day, portal, publisher) == ("not_yet_due", deadline)  # the day is on time
    assert _status(after, portal, publisher) == ("missing", deadline)


def _status(rows: list, portal: str, publisher: str) -> tuple[str, dt.date]:  # type: ignore[type-arg]
    row = next(r for r in rows if (r.portal, r.publisher) == (portal, publisher))
    return row.status, row.deadline


def test_the_edges_of_the_two_rules(history: History) -> None:
    with Session(history.engine) as session:
        late_2018 = {r.publisher: r.days_late for r in late(session, 2018, RULES)}
        late_2019 = {r.publisher: r.days_late for r in late(session, 2019, RULES)}
        not_due = missing(session, 2019, dt.date(2020, 1, 31), RULES)
    # A department's 2018 report on 2019-03-31: on time under the 2007 rule (the 2019 rule would
    # have made it 59 days late).
    assert TRUTH.report("tongxiang", "桐乡市教育局", 2018).published_date == "2019-03-31"  # type: ignore[union-attr]
    assert "桐乡市教育局" not in late_2018 and late_2018 == {}
    # A department's 2019 report was due January 31: one day after is one day late, on it is not.
    assert late_2019["桐乡市经济和信息化局"] == 1 and "桐乡市商务局" not in late_2019
    assert {(r.publisher, r.status) for r in not_due} == {("桐乡市教育局", "not_yet_due")}


def test_a_republished_copy_is_one_report_with_its_copy_listed(history: History) -> None:
    copy = next(r for r in TRUTH.reports if r.copy_of)
    with Session(history.engine) as session:
        rows = [
            r
            for r in list_reports(session, portal=copy.portal, year=copy.year)
            if r.publisher == copy.publisher
        ]
        assert [(r.url, r.copies) for r in rows] == [
            (
                url_of(history, copy.copy_of or "", copy.portal),
                (url_of(history, copy.url, copy.portal),),
            )  # fmt: skip
        ]
        copy_id = session.scalar(
            select(Document.id).where(Document.url == url_of(history, copy.url, copy.portal))
        )
        assert copy_id is not None
        detail = get_report(session, copy_id)
        assert detail is not None and detail.copy_of == rows[0].id
        # The copy alone is 20 days late; the report is not, its first copy was on time.
        assert copy.days_late == 20
        assert copy.publisher not in {r.publisher for r in late(session, copy.year, RULES)}


def test_an_alias_matches_a_short_label(history: History) -> None:
    short = next(r for r in TRUTH.reports if r.publisher_label == "经信局")
    with Session(history.engine) as session:
        doc = session.scalars(
            select(Document).where(Document.url == url_of(history, short.url, short.portal))
        ).one()
        found = PublisherRegistry.load(session).explain_document(doc)
        detail = get_report(session, doc.id)
    assert found is not None and (found.entry.name, found.by, found.text) == (
        "桐乡市经济和信息化局",
        "alias",
        "经信局",
    )
    assert detail is not None and detail.matched == "桐乡市经济和信息化局, by alias '经信局' in its 发布机构"  # fmt: skip


def test_labels_matching_no_publisher_are_listed(history: History) -> None:
    outsiders = [r for r in TRUTH.reports if not r.registered]
    with Session(history.engine) as session:
        rows = unmatched_labels(session)
        registry = registry_rows(session)
    assert [(r.portal, r.label, r.reports, r.years, r.matched_to) for r in rows] == [
        ("tongxiang", "市发改局", len(outsiders), tuple(r.year for r in outsiders), None)
    ]
    assert {(r.portal, r.name) for r in registry} == {
        p.key for p in TRUTH.publishers if p.registered
    }
    counts = {(r.portal, r.name): r.reports for r in registry}
    assert counts[("taizhou", "台州市民政局")] == len(
        [r for r in TRUTH.reports if r.key == ("taizhou", "台州市民政局")]
    )
