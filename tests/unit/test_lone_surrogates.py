"""Lone surrogates ("\\ud83d", half an emoji) at every way into newsbeam (no Beam).

A string holding one cannot be written as UTF-8: Beam's coder and pyarrow both
raise, and a single one failed whole runs. Each entry point must hand on text
that encodes.
"""

import datetime as dt

import pytest

from transforms.lib import feeds, html, records, text


def _encodes(value: str) -> bool:
    value.encode("utf-8")
    return True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cut \ud83d here", "cut \ufffd here"),
        ("\udc80\udcff", "\ufffd\ufffd"),
        ("\ud83d\ude00", "\U0001f600"),  # a pair left as two code points is joined
        ("\ude00\ud83d", "\ufffd\ufffd"),  # the wrong order is no pair
        ("plain é 😀", "plain é 😀"),
    ],
)
def test_replace_lone_surrogates(value, expected):
    assert text.replace_lone_surrogates(value) == expected


def test_text_clean_up_never_leaves_a_surrogate():
    assert (
        text.clean_text("The council met \ud83d on Monday.") == "The council met \ufffd on Monday."
    )
    assert text.clean_line(" Title \udc80 ") == "Title \ufffd"
    assert text.content_hash("a \ud83d b")  # hashes, does not raise


def _feed(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Cut" + body + b"</title><link>http://x.example/a</link>"
        b"<description>" + body + b" The story.</description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (b"&#xD83D;", "\ufffd"),  # feedparser's fallback parser raised on these,
        (b"&#55357;", "\ufffd"),  # and the whole feed was lost
        (b"&#x110000;", "\ufffd"),
        (b"&#99999999999;", "\ufffd"),
        (b"&#xD83D;&#xDE00;", "\U0001f600"),  # UTF-16 written as two references
        (b"<![CDATA[<b>&#xd83d;</b>]]>", "\ufffd"),
    ],
)
def test_feed_character_references_to_surrogates_keep_the_feed(reference, expected):
    [record], _feed_info = feeds.parse_feed(_feed(reference), feed_url=None, origin="f.xml")
    assert expected in record["title"] and expected in record["text"]
    assert all(_encodes(v) for v in record.values() if isinstance(v, str))


def test_html_with_a_lone_surrogate_keeps_the_text_after_it():
    # lxml silently dropped everything after the surrogate.
    assert html.fragment_to_text("<p>before \ud83d after</p>") == "before \ufffd after"
    page = "<html><body><article><p>" + "The council met \ud83d on Monday. " * 20
    extracted = html.extract_article(page + "</p></article></body></html>")["text"]
    assert extracted.count("on Monday") == 20 and "\ufffd" in extracted


def test_an_errors_row_quoting_a_surrogate_can_be_written():
    row = records.error_row(
        stage="normalize",
        origin="f.jsonl#1",
        error_type="invalid_date",
        message="kept without a date: unknown string format: \ud83d",
        excerpt="\udc80 excerpt",
        ingested_at=dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
    )
    assert row["message"].endswith("format: \\ud83d")
    assert row["excerpt"] == "\\udc80 excerpt"
