"""Deadlines, and the missing / late statuses on both sides of each rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.models import Document, Publisher
from archive.registry import PublisherSpec, sync_publishers
from archive.runs import finish_run, start_run
from questions.deadlines import DeadlineRules, NoDeadlineRule, deadline_for
from questions.reports import LateRow, late, missing

RULES = DeadlineRules(
    before_2019={"all": "03-31"},
    from_2019={"department": "01-31", "township": "01-31", "government": "03-31"},
)
SEEN = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("year", "kind", "deadline"),
    [
        (2013, "township", date(2014, 3, 31)),
        (2018, "department", date(2019, 3, 31)),  # the 2007 rule up to report year 2018
        (2018, "government", date(2019, 3, 31)),
        (2019, "department", date(2020, 1, 31)),  # the 2019 rule from report year 2019
        (2019, "township", date(2020, 1, 31)),
        (2019, "government", date(2020, 3, 31)),
        (2024, "department", date(2025, 1, 31)),
    ],
)
def test_deadline_for(year: int, kind: str, deadline: date) -> None:
    assert deadline_for(RULES, year, kind) == deadline
    assert deadline_for(DeadlineRules(), year, kind) == deadline  # the defaults are the law


def test_deadline_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="month-day"):
        DeadlineRules(before_2019={"all": "3/31"})
    with pytest.raises(ValueError):
        DeadlineRules(from_2019={"department": "02-30"})
    with pytest.raises(NoDeadlineRule):
        deadline_for(DeadlineRules(from_2019={"government": "03-31"}), 2019, "department")


PUBLISHERS = [
    PublisherSpec("tongxiang", "桐乡市经济和信息化局", ("市经信局",), "department"),
    PublisherSpec("tongxiang", "桐乡市商务局", ("市商务局",), "department"),
    PublisherSpec("tongxiang", "桐乡市人民政府", ("市政府办公室",), "government"),
    PublisherSpec("tongxiang", "桐乡市梧桐街道", (), "township", first_year=2020),
    PublisherSpec("tongxiang", "桐乡市旧机构", (), "department", last_year=2016),
    PublisherSpec("taizhou", "台州市人民政府", (), "government"),
]


def add_report(
    session: Session,
    publisher: str,
    year: int,
    url: str,
    published_at: str | None,
    written_date: str | None = None,
) -> None:
    pub = session.query(Publisher).filter_by(name=publisher).one()
    session.add(
        Document(
            portal=pub.portal,
            url=url,
            publisher_id=pub.id,
            publisher_label=pub.name,
            title=f"{pub.name}{year}年度政府信息公开工作报告",
            report_year=year,
            published_at=published_at,
            written_date=written_date,
            first_seen_at=SEEN,
            last_seen_at=SEEN,
        )
    )


def add_run(session: Session, portal: str, status: str, finished: datetime) -> None:
    run = start_run(session, portal, "nightly", at=finished - timedelta(minutes=10))
    finish_run(session, run, status, pages=10, at=finished)


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """Two portals: tongxiang crawled fine once, taizhou only ever blocked."""
    with session_scope(engine) as s:
        sync_publishers(s, PUBLISHERS)
        add_run(s, "tongxiang", "failed", datetime(2024, 4, 30, 18, 40, tzinfo=UTC))
        add_run(s, "tongxiang", "ok", datetime(2024, 5, 1, 18, 40, tzinfo=UTC))
        add_run(s, "taizhou", "failed", datetime(2024, 5, 1, 18, 45, tzinfo=UTC))
        # 2018, the 2007 rule, everybody by 2019-03-31: 经信局 on the deadline day (and a later
        # copy, which does not make it late), 商务局 one day late (and republished later).
        add_report(s, "桐乡市经济和信息化局", 2018, "http://tx/a1", "2019-03-31T17:00")
        add_report(s, "桐乡市经济和信息化局", 2018, "http://tx/a2", "2019-06-01T09:00")
        add_report(s, "桐乡市商务局", 2018, "http://tx/b1", "2019-05-01T08:00")
        add_report(s, "桐乡市商务局", 2018, "http://tx/b2", "2019-04-01T10:00")
        # 2019, the 2019 rule, departments by 2020-01-31 and governments by 2020-03-31: 经信局 on
        # the deadline day, 商务局 one day late, 桐乡 on time, 台州 late by its 成文日期 alone.
        add_report(s, "桐乡市经济和信息化局", 2019, "http://tx/a3", "2020-01-31")
        add_report(s, "桐乡市商务局", 2019, "http://tx/b3", "2020-02-01T08:00")
        add_report(s, "桐乡市人民政府", 2019, "http://tx/c3", "2020-03-31T16:02")
        add_report(s, "台州市人民政府", 2019, "http://tz/d3", None, "2020-04-02")
    return engine


def test_late_2018_follows_the_2007_rule(archive: Engine) -> None:
    with session_scope(archive) as session:
        rows = late(session, 2018, RULES)
    assert rows == [
        LateRow(
            portal="tongxiang",
            publisher="桐乡市商务局",
            kind="department",
            year=2018,
            deadline=date(2019, 3, 31),
            published_at="2019-04-01T10:00",
            first_seen_at=SEEN,
            days_late=1,
            url="http://tx/b2",
        )
    ]
    assert rows[0].first_seen_at.utcoffset() == timedelta(hours=8)


def test_late_2019_follows_the_2019_rule(archive: Engine) -> None:
    with session_scope(archive) as session:
        rows = {
            (r.publisher, r.deadline, r.published_at, r.days_late)
            for r in late(session, 2019, RULES)
        }
    assert rows == {
        ("桐乡市商务局", date(2020, 1, 31), "2020-02-01T08:00", 1),
        ("台州市人民政府", date(2020, 3, 31), "2020-04-02", 2),  # judged by 成文日期
    }


def test_missing_with_evidence(archive: Engine) -> None:
    with session_scope(archive) as session:
        rows = missing(session, 2018, date(2019, 6, 1), RULES)
    by_name = {r.publisher: r for r in rows}
    # The township did not exist yet in 2018, the old agency no more: neither is expected.
    assert set(by_name) == {"桐乡市人民政府", "台州市人民政府"}
    gov = by_name["桐乡市人民政府"]
    assert (gov.status, gov.kind, gov.deadline) == ("missing", "government", date(2019, 3, 31))
    assert "2 runs" in gov.evidence and "1 ok" in gov.evidence and "1 failed" in gov.evidence
    assert "2024-05-01T02:40" in gov.evidence and "2024-05-02T02:40" in gov.evidence  # Shanghai
    tz = by_name["台州市人民政府"]
    assert tz.status == "unreachable" and "1 failed" in tz.evidence


def test_missing_on_both_sides_of_the_deadline(archive: Engine) -> None:
    with session_scope(archive) as session:
        on_day = missing(session, 2018, date(2019, 3, 31), RULES)
        after = missing(session, 2018, date(2019, 4, 1), RULES)
        dept_2019 = missing(session, 2020, date(2021, 2, 1), RULES)
    assert {r.status for r in on_day} == {"not_yet_due"}  # the deadline day is still on time
    assert {r.publisher: r.status for r in after}["桐乡市人民政府"] == "missing"
    statuses = {r.publisher: r.status for r in dept_2019}
    assert statuses["桐乡市经济和信息化局"] == "missing"  # departments were due 2021-01-31
    assert statuses["桐乡市梧桐街道"] == "missing"  # so were townships
    assert statuses["桐乡市人民政府"] == "not_yet_due"  # governments only by 2021-03-31


def test_portal_never_crawled_is_unreachable(engine: Engine) -> None:
    with session_scope(engine) as session:
        sync_publishers(session, [PUBLISHERS[0]])
        [row] = missing(session, 2019, date(2021, 1, 1), RULES)
    assert row.status == "unreachable" and "no crawl" in row.evidence


def test_empty_archive_has_nothing_late(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert late(session, 2019, RULES) == []
        assert missing(session, 2019, date(2021, 1, 1), RULES) == []
