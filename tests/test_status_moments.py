"""The moments `late` and `missing` show, read raw as each database gives them
(archive.clock.shanghai): SQLite's naive UTC text, PostgreSQL's aware datetimes, and the naive
UTC timestamps archive.cells asks PostgreSQL for. Each is the moment `astimezone` gives, in the
one Asia/Shanghai zone object, whatever side of the epoch or of a day it falls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from archive.clock import SHANGHAI, shanghai, shanghai_from_naive, shanghai_from_text

MOMENTS = [
    datetime(2024, 1, 31, 15, 59, 59, 999999),  # the last moment of a deadline day in Shanghai
    datetime(2024, 1, 31, 16, 0),
    datetime(2020, 2, 28, 20, 30, 0, 123456),  # into a leap day
    datetime(1969, 12, 31, 23, 59, 59, 1),  # before the epoch the arithmetic counts from
]


@pytest.mark.parametrize("utc", MOMENTS, ids=str)
def test_every_raw_form_reads_as_the_same_moment_in_shanghai(utc: datetime) -> None:
    expected = utc.replace(tzinfo=UTC).astimezone(SHANGHAI)
    forms = [
        utc.isoformat(" "),  # SQLite's text
        utc,  # a naive UTC timestamp
        utc.replace(tzinfo=UTC),
        utc.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=-5))),  # another zone
    ]
    for form in forms:
        got = shanghai(form)
        assert (got, got.isoformat(), got.tzinfo) == (expected, expected.isoformat(), SHANGHAI)


@pytest.mark.parametrize("utc", MOMENTS, ids=str)
def test_the_readers_chosen_per_dialect_read_as_shanghai_does(utc: datetime) -> None:
    expected = shanghai(utc)
    for got in (shanghai_from_text(utc.isoformat(" ")), shanghai_from_naive(utc)):
        assert (got, got.isoformat(), got.tzinfo) == (expected, expected.isoformat(), SHANGHAI)
