"""`findings` over the archive of two crawls of the replica (questions_fixtures), on both backends:
exactly the changed, backdated, failing and copied reports the replica was built with."""

from __future__ import annotations

import pytest
from questions_fixtures import T1, History, history_of
from sqlalchemy.orm import Session

from questions.deadlines import DeadlineRules
from questions.findings import FindingRow, findings
from questions.reports import get_report
from questions.similarity import SAME_TEXT, resemblance
from replica.truth import load_truth

TRUTH = load_truth()
RULES = DeadlineRules()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> History:
    return history_of(request, tmp_path_factory)


@pytest.fixture(scope="module")
def found(history: History) -> list[FindingRow]:
    with Session(history.engine) as session:
        return findings(session, RULES)


def paths(rows: list[FindingRow], kind: str) -> set[str]:
    return {r.url.split("/", 3)[3] for r in rows if r.kind == kind}


def path(url: str) -> str:
    return url.lstrip("/")


def test_changed_after_publication(found: list[FindingRow]) -> None:
    assert paths(found, "changed") == {path(r.url) for r in TRUTH.reports if r.revised}
    assert all(r.detail == "2 versions of its text" for r in found if r.kind == "changed")


def test_backdated(found: list[FindingRow]) -> None:
    expected = {path(r.url) for r in TRUTH.reports if r.backdated}
    assert expected and paths(found, "backdated") == expected
    [row] = [r for r in found if r.kind == "backdated"]
    report = next(r for r in TRUTH.reports if r.backdated)
    assert f"its page claims {report.published_date}" in row.detail
    assert f"deadline {report.deadline}" in row.detail
    # The evidence is the crawl of the portal as it stood at T1, before the deadline.
    assert f"cleanly at {T1}" in row.evidence and "did not find it" in row.evidence


def test_failed_checks(found: list[FindingRow]) -> None:
    got = {(r.url.split("/", 3)[3], r.detail) for r in found if r.kind == "failed_check"}
    expected = {(path(r.url), rule) for r in TRUTH.reports for rule in r.failing_checks}
    assert got == expected


def test_copied_from_the_previous_year(found: list[FindingRow]) -> None:
    expected = {path(r.url) for r in TRUTH.reports if r.copied_from}
    assert expected and paths(found, "copied") == expected
    assert all("100% of its text is the" in r.detail for r in found if r.kind == "copied")


def test_findings_of_one_year_and_of_one_report(history: History) -> None:
    backdated = next(r for r in TRUTH.reports if r.backdated)
    revised = next(r for r in TRUTH.reports if r.revised)
    with Session(history.engine) as session:
        of_year = findings(session, RULES, year=backdated.year)
        assert [(r.kind, path(r.url.split("/", 3)[3])) for r in of_year] == [
            ("backdated", path(backdated.url))
        ]
        changed = next(r for r in findings(session, RULES) if r.kind == "changed")
        assert [r.kind for r in findings(session, RULES, report_id=changed.report_id)] == [
            "changed"
        ]
        detail = get_report(session, changed.report_id)
    assert detail is not None and len(detail.versions) == 2 and revised.url in changed.url
    [diff] = detail.diffs
    added = [line for line in diff.splitlines() if line.startswith("+") and "+++" not in line]
    assert added == ["+更正说明：经核查，本报告部分表述有误，现予更正（第1次更正）。"]


def test_the_threshold_separates_copies_from_honest_reports(history: History) -> None:
    """No honest pair of consecutive reports reaches SAME_TEXT; the copied one does."""
    with Session(history.engine) as session:
        scores = _consecutive_scores(session)
    copied = {path(r.url) for r in TRUTH.reports if r.copied_from}
    honest = [s for p, s in scores if p not in copied]
    assert max(honest) < SAME_TEXT - 0.1 and all(s >= SAME_TEXT for p, s in scores if p in copied)


def _consecutive_scores(session: Session) -> list[tuple[str, float]]:
    from sqlalchemy import select

    from archive.models import Document
    from questions.copies import latest_texts

    docs = session.execute(
        select(Document.id, Document.publisher_id, Document.report_year, Document.url)
    ).all()
    texts = latest_texts(session, [d[0] for d in docs])
    by_key = {(d[1], d[2]): d for d in docs if d[1] is not None}
    return [
        (d[3].split("/", 3)[3], resemblance(texts[d[0]], texts[prev[0]]))
        for d in docs
        if d[1] is not None and (prev := by_key.get((d[1], d[2] - 1)))
    ]
