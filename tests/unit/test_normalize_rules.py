"""Normalisation rules: text, URLs, dates, ids and the articles row (no Beam)."""

import datetime as dt

import pytest

from tests.helpers import SEED_ARTICLE
from transforms.lib import dates, text, urls
from transforms.lib import normalize as articles
from transforms.lib.formats import parse_text_file, raw_record
from transforms.lib.records import Rejected

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_repair_text_fixes_mojibake_and_strips_controls():
    assert text.repair_text("donâ€™t\x00 stop") == "don’t stop"
    assert text.repair_text("e\u0301") == "é"  # NFC
    assert text.repair_text("“curly” stays") == "“curly” stays"


def test_paragraphs_from_lines_or_blank_lines():
    assert text.split_paragraphs("One.\nTwo.\n\n") == ["One.", "Two."]
    assert text.split_paragraphs("A hard\nwrapped para.\n\nNext  one.") == [
        "A hard wrapped para.",
        "Next one.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Login",
        "Log in",
        "Advertisement",
        "ADVERTISEMENT",
        "Subscribe",
        "Subscribe to our newsletter",
        "Share this article",
        "Share on Facebook",
        "We use cookies to improve your experience on our site.",
        "Accept all cookies",
        "Read more »",
        "Skip to main content",
    ],
)
def test_boilerplate_lines(line):
    assert text.is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "The minister will log in to the new system on Monday.",
        "Advertisement revenue fell by a third, the company said.",
        "Share prices rose.",
    ],
)
def test_article_sentences_are_not_boilerplate(line):
    assert not text.is_boilerplate(line)


def test_seed_loses_its_login_line():
    cleaned = text.clean_text(SEED_ARTICLE.read_text())
    assert not cleaned.endswith("Login")
    assert cleaned.endswith("for the Ukraine war.")
    assert "\n\n" in cleaned


def test_words_hash_and_language():
    assert text.count_words("Don't stop the U.S. economy, 2 times.") == 7
    assert text.content_hash("Hello   World") == text.content_hash("hello world")
    assert len(text.content_hash("x")) == 32
    assert text.detect_language(SEED_ARTICLE.read_text()) == "en"
    german = "Die Regierung in Berlin hat am Montag neue Regeln beschlossen."
    assert text.detect_language(german) == "de"
    assert text.detect_language("Too short") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.com:443/a?utm_source=x&id=2&fbclid=y#top",
            "https://www.example.com/a?id=2",
        ),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/x?b=2&a=1", "http://example.com:8080/x?a=1&b=2"),
        ("ftp://example.com/file", None),
        ("javascript:alert(1)", None),
        ("not a url", None),
        ("http://[::1", None),
        (None, None),
    ],
)
def test_canonical_url(url, expected):
    assert urls.canonical_url(url) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/feed.rss", True),
        ("  HTTP://example.com  ", True),
        ("ftp://example.com/feed.rss", False),
        ("file:///etc/passwd", False),
        ("feeds/city.xml", False),
        ("https://", False),
    ],
)
def test_is_http_url(value, expected):
    assert urls.is_http_url(value) is expected


def test_site_of():
    assert urls.site_of("https://www.bbc.co.uk/news/x") == "bbc.co.uk"
    assert urls.site_of(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T10:00:00+02:00", dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)),
        ("2024-03-01T10:00:00Z", dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)),
        ("Tue, 10 Jun 2003 04:00:00 GMT", dt.datetime(2003, 6, 10, 4, 0, tzinfo=dt.UTC)),
        ("2017-01-01 10:00:00", dt.datetime(2017, 1, 1, 10, 0, tzinfo=dt.UTC)),
        ("March 3, 2021", dt.datetime(2021, 3, 3, tzinfo=dt.UTC)),
        (1700000000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        (1700000000000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_published_to_utc(value, expected):
    assert dates.parse_published(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["3024-01-01", "1850-06-01", 1e15, -1e13])
def test_implausible_dates(value):
    with pytest.raises(dates.ImplausibleDate):
        dates.parse_published(value, now=NOW)


def test_unreadable_date():
    with pytest.raises(ValueError, match="unreadable"):
        dates.parse_published("the day after the storm", now=NOW)


def test_article_id_prefers_url_and_ignores_tracking():
    body = "Some article text about the harbour bridge reopening."
    a, _ = articles.normalize_article(
        raw_record("a", text=body, url="https://x.org/s?utm_source=a"), ingested_at=NOW
    )
    b, _ = articles.normalize_article(
        raw_record("b", text=body + " More.", url="https://x.org/s?fbclid=z#f"), ingested_at=NOW
    )
    c, _ = articles.normalize_article(raw_record("c", text=body), ingested_at=NOW)
    d, _ = articles.normalize_article(raw_record("d", text=body.upper()), ingested_at=NOW)
    assert a["article_id"] == b["article_id"]
    assert c["article_id"] != a["article_id"]
    assert c["article_id"] == d["article_id"]  # same text up to case and spacing
    assert len(a["article_id"]) == 16


def test_seed_article_row():
    raw = parse_text_file(SEED_ARTICLE.read_text(), str(SEED_ARTICLE))
    row, problems = articles.normalize_article(raw, ingested_at=NOW)
    assert problems == []
    assert row["title"] is None
    assert row["text"].startswith("North Korean dictator Kim Jong-un")
    assert not row["text"].endswith("Login")
    assert row["language"] == "en"
    assert row["published_at"] is None
    assert row["date"] == "2026-11-28"  # ingestion date when unpublished
    assert row["word_count"] > 700
    assert row["origin"] == str(SEED_ARTICLE)


def test_html_record_is_extracted():
    page = (
        "<html><head><title>T</title></head><body><nav>Home Login</nav><article>"
        "<h1>Budget passes</h1><p>The city council passed its budget on Tuesday after a long "
        "debate about school funding and road repairs in the northern districts.</p>"
        "<p>The mayor said the vote was a relief for everyone involved in the process.</p>"
        "</article></body></html>"
    )
    row, _ = articles.normalize_article(raw_record("p.html", html=page), ingested_at=NOW)
    assert "passed its budget" in row["text"]
    assert "Home Login" not in row["text"]


@pytest.mark.parametrize(
    "raw",
    [
        raw_record("e", text=""),
        raw_record("w", text=" \n\t \n "),
        raw_record("b", text="Advertisement\nLogin\n"),
    ],
)
def test_no_text_is_rejected(raw):
    with pytest.raises(Rejected) as caught:
        articles.normalize_article(raw, ingested_at=NOW)
    assert caught.value.error_type == "empty_text"


def test_scripts_and_styles_only_is_rejected():
    page = "<html><head><script>var a=1;</script><style>p{}</style></head><body></body></html>"
    with pytest.raises(Rejected) as caught:
        articles.normalize_article(raw_record("s.html", html=page), ingested_at=NOW)
    assert caught.value.error_type == "no_main_text"


def test_bad_date_keeps_the_article_and_reports_it():
    row, problems = articles.normalize_article(
        raw_record("f", text="Text of the article.", published="2999-01-01"), ingested_at=NOW
    )
    assert row["published_at"] is None
    assert [p.error_type for p in problems] == ["invalid_date"]


@pytest.mark.parametrize(
    "hostile", ["../../etc", "a/b", "x\ny", "2024-01-01/../../x", "date=..", "\x00"]
)
def test_partition_value_never_comes_from_input(hostile):
    row, _ = articles.normalize_article(
        raw_record("f", text="Body text here.", published=hostile, source=hostile, title=hostile),
        ingested_at=NOW,
    )
    assert row["date"] == "2026-11-28"


def test_published_date_partitions_in_utc():
    row, _ = articles.normalize_article(
        raw_record("f", text="Body.", published="2025-01-01T23:30:00-05:00"), ingested_at=NOW
    )
    assert row["date"] == "2025-01-02"
