"""Publication dates: zones, range limits and the errors they give (no Beam)."""

import datetime as dt

import pytest

from transforms.lib import dates
from transforms.lib.normalize import normalize_article

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def _raw(published) -> dict:
    return {
        "origin": "f",
        "text": "Text of the article.",
        "published": published,
        "url": None,
        "title": None,
        "authors": None,
        "source": None,
    }


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "Fri, 31 Dec 9999 23:00:00 -0500",
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        pytest.param(10**30, id="10**30"),
        pytest.param(-(10**30), id="-10**30"),
        pytest.param(10**400, id="10**400"),
        float("inf"),
        -float("inf"),
        1e308,
    ],
)
def test_dates_out_of_range_are_implausible_not_overflow(value):
    with pytest.raises(dates.ImplausibleDate):
        dates.parse_published(value, now=NOW)


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-01:00", pytest.param(10**400, id="10**400"), float("nan")]
)
def test_an_out_of_range_date_keeps_the_article_with_invalid_date(value):
    row, problems = normalize_article(_raw(value), ingested_at=NOW)
    assert row["published_at"] is None
    assert [p.error_type for p in problems] == ["invalid_date"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 10 Jun 2003 04:00:00 PST", dt.datetime(2003, 6, 10, 12, 0, tzinfo=UTC)),
        ("2003-06-10 04:00 PST", dt.datetime(2003, 6, 10, 12, 0, tzinfo=UTC)),
        ("2003-06-10T04:00:00 PDT", dt.datetime(2003, 6, 10, 11, 0, tzinfo=UTC)),
        ("June 10, 2003 4:00 PM EDT", dt.datetime(2003, 6, 10, 20, 0, tzinfo=UTC)),
        ("10 Jun 2003 04:00 CST", dt.datetime(2003, 6, 10, 10, 0, tzinfo=UTC)),
        ("10 Jun 2003 04:00 MDT", dt.datetime(2003, 6, 10, 10, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00 CET", dt.datetime(2003, 6, 10, 3, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00 CEST", dt.datetime(2003, 6, 10, 2, 0, tzinfo=UTC)),
        ("10 June 2003 04:00 BST", dt.datetime(2003, 6, 10, 3, 0, tzinfo=UTC)),
        ("2003-06-10 09:00 JST", dt.datetime(2003, 6, 10, 0, 0, tzinfo=UTC)),
        ("2003-06-10 10:00 AEST", dt.datetime(2003, 6, 10, 0, 0, tzinfo=UTC)),
        ("2003-06-10 10:00 ACST", dt.datetime(2003, 6, 10, 0, 30, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00:00 UT", dt.datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00:00 Z", dt.datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00:00 pst", dt.datetime(2003, 6, 10, 12, 0, tzinfo=UTC)),
        # A numeric offset wins over the name in a comment.
        ("Tue, 10 Jun 2003 04:00:00 -0300 (BRT)", dt.datetime(2003, 6, 10, 7, 0, tzinfo=UTC)),
        # RFC 2822 §3.3: -0000 is UTC with the sender's zone unknown.
        ("Tue, 10 Jun 2003 04:00:00 -0000", dt.datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
        # In news, "GMT+3" means three hours ahead of UTC (dateutil alone reads it the POSIX way).
        ("2003-06-10 04:00 GMT+3", dt.datetime(2003, 6, 10, 1, 0, tzinfo=UTC)),
        ("2003-06-10 04:00 UTC-05:00", dt.datetime(2003, 6, 10, 9, 0, tzinfo=UTC)),
    ],
)
def test_zone_names_are_read_as_their_offsets(text, expected):
    assert dates.parse_published(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 10 Jun 2003 04:00:00 XYZ",
        "2003-06-10 04:00 IST",  # India, Ireland or Israel
        "June 10, 2003 4:00 PM ET",  # EST or EDT
        "Tue, 10 Jun 2003 04:00:00 M",  # a military letter (RFC 2822: unreliable)
        "2003-06-10 04:00 BRST",
    ],
)
def test_unknown_zone_names_are_refused_not_read_as_utc(text):
    with pytest.raises(dates.UnknownTimeZone, match="unknown time zone"):
        dates.parse_published(text, now=NOW)
    row, problems = normalize_article(_raw(text), ingested_at=NOW)
    assert row["published_at"] is None
    assert [p.error_type for p in problems] == ["invalid_date"]
    assert "unknown time zone" in problems[0].message


def test_the_machines_own_zone_names_do_not_change_the_reading(monkeypatch):
    # dateutil reads a name in time.tzname as the local zone; ours never does.
    monkeypatch.setattr("time.tzname", ("XYZ", "XYZ"))
    with pytest.raises(dates.UnknownTimeZone):
        dates.parse_published("2003-06-10 04:00 XYZ", now=NOW)


def test_offsets_of_a_day_or_more_are_unreadable():
    with pytest.raises(dates.UnreadableDate):
        dates.parse_published("2003-06-10 04:00 +2500", now=NOW)


def test_long_text_is_not_read_as_a_date():
    with pytest.raises(dates.UnreadableDate):
        dates.parse_published("10 June 2003 " + "and " * 100, now=NOW)
