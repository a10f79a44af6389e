"""Feed parsing, page merging and feed state merging: pure functions, no network, no Beam."""

import datetime as dt
import time

import pytest

from tests.helpers import SEEDS, evaldata
from transforms.lib.feeds import (
    entry_key,
    merge_feed_state,
    page_text_wins,
    parse_feed,
    settle_updates,
    state_update,
    with_page,
)
from transforms.lib.formats import RAW_FIELDS
from transforms.lib.records import Rejected
from transforms.lib.settings import DEFAULT_LIMITS

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def _parse(data: bytes, **options):
    return parse_feed(data, feed_url=options.pop("feed_url", None), origin="feed", **options)


def _records(outcomes):
    return [o for o in outcomes if isinstance(o, dict)]


def _rss(items: str, channel: str = "<title>Desk</title>") -> bytes:
    return f'<rss version="2.0"><channel>{channel}{items}</channel></rss>'.encode()


# ---------------------------------------------------------------- the seed feeds


def test_rss2_seed_entries_become_records_with_utc_dates():
    outcomes, info = _parse((SEEDS / "005_city_desk_rss2.xml").read_bytes())
    records = _records(outcomes)
    assert all(set(r) == set(RAW_FIELDS) and r["html"] is None for r in records)
    assert [(r["text_source"], r["published"], r["authors"]) for r in records] == [
        ("feed_content", dt.datetime(2025, 1, 14, 7, 30, tzinfo=UTC), ["Maria Lindqvist"]),
        ("feed_summary", dt.datetime(2025, 1, 13, 16, 5, tzinfo=UTC), ["Tomas Berg"]),
        ("feed_summary", dt.datetime(2025, 1, 12, 12, 0, tzinfo=UTC), []),
    ]
    tram = records[0]
    assert tram["origin"] == "feed#citydesk-2025-0114-tram"
    assert tram["url"] == "https://citydesk.example.com/2025/01/14/tram-line"
    assert tram["title"] == "Council approves new tram line to the harbour"
    assert (tram["source"], tram["language"]) == ("Kessington City Desk", "en")
    assert "said Councillor Dana Whitfield" in tram["text"]
    assert "trackRead" not in tram["text"]  # scripts in content are dropped
    assert records[1]["text"] == (
        "The central library will open on Sundays from February, the city announced."
    )
    assert (info["version"], info["skipped"], len(info["entry_ids"])) == ("rss20", 0, 3)


def test_atom_seed_resolves_relative_links_and_prefers_content():
    records = _records(_parse((SEEDS / "006_valley_science_atom.xml").read_bytes())[0])
    assert [(r["url"], r["text_source"], r["published"]) for r in records] == [
        (
            "https://science.example.org/notes/comet-brightens",
            "feed_content",
            dt.datetime(2025, 2, 4, 10, 15, tzinfo=UTC),
        ),
        (
            "https://science.example.org/notes/open-day",
            "feed_summary",
            dt.datetime(2025, 2, 3, 22, 0, tzinfo=UTC),
        ),
    ]
    assert records[0]["title"] == "Comet C/2025 A1 brightens"  # an HTML title, as text
    assert records[0]["authors"] == ["Priya Raman"]
    assert {r["source"] for r in records} == {"Valley Science Notes"}


def test_rss1_seed_reads_dublin_core_dates_and_creators():
    (record,) = _records(_parse((SEEDS / "007_harbour_rss1.xml").read_bytes())[0])
    assert record["published"] == dt.datetime(2025, 3, 14, 7, 0, tzinfo=UTC)
    assert record["authors"] == ["Harbour Authority"]
    assert record["source"] == "Harbour Authority Notices"
    assert record["url"] == "https://harbour.example.net/notices/2025-031"


def test_every_seed_feed_describes_itself():
    feeds = sorted(SEEDS.glob("00[5-7]_*.xml"))
    assert len(feeds) == 3
    for path in [*feeds, SEEDS / "subscriptions.opml"]:
        head = path.read_text()[:2000]
        assert "Description:" in head and "Expect:" in head, path.name


# ---------------------------------------------------------------- parsing rules


def test_relative_links_resolve_against_the_feed_url():
    data = _rss("<item><title>T</title><link>/news/1</link><description>Body</description></item>")
    (record,) = _records(_parse(data, feed_url="https://desk.example.com/feeds/all.rss")[0])
    assert record["url"] == "https://desk.example.com/news/1"


def test_source_falls_back_to_the_feed_domain():
    data = _rss(
        "<item><link>https://www.desk.example.com/1</link><description>B</description></item>", ""
    )
    (record,) = _records(_parse(data, feed_url="https://www.desk.example.com/rss")[0])
    assert record["source"] == "desk.example.com"


def test_entries_seen_before_are_skipped():
    data = _rss(
        "<item><guid>a</guid><description>one</description></item>"
        "<item><guid>b</guid><description>two</description></item>"
    )
    outcomes, info = _parse(data, seen_ids={"a"})
    assert [r["text"] for r in _records(outcomes)] == ["two"]
    assert (info["entry_ids"], info["skipped"]) == (["a", "b"], 1)


def test_entry_keys_are_the_id_else_the_link_else_a_content_hash():
    assert entry_key({"id": " x ", "link": "l"}) == "x"
    assert entry_key({"link": "https://a.example/1"}) == "https://a.example/1"
    hashed = entry_key({"title": "T", "summary": "S"})
    assert hashed.startswith("sha256:") and hashed == entry_key({"title": "T", "summary": "S"})


def test_an_entry_without_text_title_or_link_is_rejected_and_the_rest_kept():
    data = _rss(
        "<item><guid isPermaLink='false'>x-1</guid></item>"
        "<item><description>Body</description></item>"
    )
    outcomes, _info = _parse(data)
    assert isinstance(outcomes[0], Rejected) and outcomes[0].error_type == "empty_entry"
    assert outcomes[0].origin == "feed#x-1"
    assert outcomes[1]["origin"] == "feed#1"


def test_a_headline_only_entry_is_an_article_about_its_headline():
    data = _rss("<item><title>Mayor resigns</title><link>https://desk.example.com/1</link></item>")
    (record,) = _records(_parse(data)[0])
    assert (record["text"], record["text_source"]) == ("Mayor resigns", "feed_title")
    assert record["url"] == "https://desk.example.com/1"


def test_an_entry_with_a_link_only_is_kept_for_the_page_fetch():
    data = _rss("<item><link>https://desk.example.com/1</link></item>")
    (record,) = _records(_parse(data)[0])
    assert (record["text"], record["url"]) == ("", "https://desk.example.com/1")


def test_an_unparsable_date_is_passed_on_as_text():
    data = _rss("<item><description>B</description><pubDate>sometime soon</pubDate></item>")
    (record,) = _records(_parse(data)[0])
    assert record["published"] == "sometime soon"


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        (b"<rss version='2.0'><channel><title>broken", "malformed_feed"),
        (b"<html><body><p>Not a feed</p></body></html>", "malformed_feed"),
        (b"just some words", "malformed_feed"),
        (b"", "malformed_feed"),
        (_rss(""), "empty_feed"),
    ],
)
def test_a_feed_with_nothing_readable_is_rejected(data, error_type):
    with pytest.raises(Rejected) as caught:
        _parse(data)
    assert caught.value.error_type == error_type


def test_utf16_feeds_are_read():
    data = (
        (SEEDS / "007_harbour_rss1.xml")
        .read_text()
        .replace('encoding="utf-8"', 'encoding="utf-16"')
    )
    (record,) = _records(_parse(data.encode("utf-16"))[0])
    assert record["title"] == "North pier closed for dredging"


# ---------------------------------------------------------------- safety


def test_bytes_naming_a_local_file_are_parsed_as_bytes_not_opened(tmp_path):
    local = tmp_path / "local.xml"
    local.write_bytes((SEEDS / "007_harbour_rss1.xml").read_bytes())
    with pytest.raises(Rejected) as caught:
        _parse(str(local).encode())
    assert caught.value.error_type == "malformed_feed"
    with pytest.raises(Rejected):
        _parse(b"https://desk.example.com/feed.rss")


def test_external_entities_are_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = (
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        "<rss version='2.0'><channel><title>T</title>"
        "<item><description>&xxe;</description></item></channel></rss>"
    ).encode()
    with pytest.raises(Rejected) as caught:
        _parse(data)
    assert caught.value.error_type == "unsafe_xml"
    assert "TOP SECRET" not in caught.value.message


def test_short_literal_entities_are_still_allowed():
    data = (
        b'<!DOCTYPE rss [\n  <!ENTITY org "Kessington">\n]>\n'
        b"<rss version='2.0'><channel><title>T</title>"
        b"<item><description>News from &org;</description></item></channel></rss>"
    )
    (record,) = _records(_parse(data)[0])
    assert record["text"] == "News from Kessington"


@pytest.mark.evaldata
def test_xml_attack_files_finish_fast_and_never_hang():
    folder = evaldata("xml_attacks", "xmltestdata")
    for path in sorted(folder.glob("*.xml")):
        started = time.monotonic()
        try:
            outcomes, _info = _parse(path.read_bytes())
            assert outcomes, path.name
        except Rejected as reject:
            assert reject.error_type in {"unsafe_xml", "malformed_feed", "empty_feed"}, path.name
        assert time.monotonic() - started < 2, path.name


@pytest.mark.evaldata
def test_feedparser_corpus_yields_records_or_rejects_and_never_crashes():
    root = evaldata("feedparser_tests", "tests")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".xml", ".json"})
    with_records = 0
    for path in files:
        try:
            outcomes, _info = _parse(path.read_bytes())
        except Rejected:
            continue
        assert outcomes, path  # entries become records or rejects, never nothing
        assert all(isinstance(o, dict | Rejected) for o in outcomes)
        with_records += any(isinstance(o, dict) for o in outcomes)
    print(f"\nfeedparser corpus: {with_records} of {len(files)} files yield articles")
    assert with_records > 300


# ---------------------------------------------------------------- state


def test_state_updates_merge_and_keep_the_most_recent_ids():
    state = {
        "f": {"etag": "old", "last_modified": "m", "seen_ids": ["a", "b", "c"], "checked_at": "t0"}
    }
    unchanged = state_update("f", etag="old", last_modified="m", seen_ids=[], checked_at=NOW)
    assert merge_feed_state(state, [unchanged])["f"]["seen_ids"] == ["a", "b", "c"]
    newer = state_update(
        "f", etag="new", last_modified=None, seen_ids=["b", "d", "e"], checked_at=NOW
    )
    merged = merge_feed_state(state, [newer], max_seen_ids=4)
    assert merged["f"]["seen_ids"] == ["c", "b", "d", "e"]
    assert (merged["f"]["etag"], merged["f"]["last_modified"]) == ("new", None)
    assert state["f"]["seen_ids"] == ["a", "b", "c"]  # the input is not changed


# ---------------------------------------------------------------- page text


def test_page_text_wins_only_when_clearly_longer():
    assert page_text_wins("", "Page text.")
    assert page_text_wins("A teaser.", "A teaser. And the whole story after it.")
    assert not page_text_wins("x" * 100, "y" * 110)
    assert not page_text_wins("Feed text.", "")


def test_with_page_replaces_text_and_fills_only_missing_fields():
    record = {
        "text": "Teaser.",
        "text_source": "feed_summary",
        "title": "Feed title",
        "authors": [],
    }
    page = {
        "text": "The whole story, much longer than the teaser.",
        "title": "Page title",
        "authors": ["A"],
    }
    assert with_page(record, page) == {
        "text": "The whole story, much longer than the teaser.",
        "text_source": "page",
        "title": "Feed title",
        "authors": ["A"],
    }
    assert record["text"] == "Teaser."  # the record itself is left as it was


@pytest.mark.parametrize(
    ("pub_date", "reason"),
    [
        ("Fri, 31 Dec 9999 23:00:00 -0500", "out of range"),
        ("9999-12-31T23:30:00-01:00", "out of range"),
        ("0001-01-01T00:30:00+01:00", "out of range"),
        ("Tue, 10 Jun 2003 04:00:00 XYZ", "unknown time zone"),
        ("2003-06-10T04:00:00 IST", "unknown time zone"),
    ],
)
def test_an_entry_with_a_bad_date_is_kept_with_invalid_date(pub_date, reason):
    from transforms.lib.normalize import normalize_article

    data = _rss(f"<item><description>Body text.</description><pubDate>{pub_date}</pubDate></item>")
    (record,) = _records(_parse(data)[0])
    row, problems = normalize_article(record, ingested_at=NOW)
    assert row["published_at"] is None
    assert [p.error_type for p in problems] == ["invalid_date"]
    assert reason in problems[0].message


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Tue, 10 Jun 2003 04:00:00 CET", dt.datetime(2003, 6, 10, 3, 0, tzinfo=UTC)),
        ("2003-06-10T04:00:00 PST", dt.datetime(2003, 6, 10, 12, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00:00 -0000", dt.datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ],
)
def test_entry_dates_with_zone_names_are_read_as_their_offsets(pub_date, expected):
    data = _rss(f"<item><description>Body text.</description><pubDate>{pub_date}</pubDate></item>")
    (record,) = _records(_parse(data)[0])
    assert record["published"] == expected


def test_only_entries_that_were_ingested_are_marked_seen():
    update = state_update(
        "f",
        etag="v2",
        last_modified="m2",
        seen_ids=["old"],
        new_entries=[("f#1", "one"), ("f#2", "two")],
        checked_at=NOW,
    )
    [settled] = settle_updates([update], [("f", "one"), ("other", "two")])
    assert (settled["seen_ids"], settled["failed_ids"]) == (["old", "one"], ["two"])
    assert "new_entries" not in settled
    merged = merge_feed_state({}, [settled])["f"]
    assert (merged["seen_ids"], merged["failing"]) == (["old", "one"], {"two": 1})
    # The failing entry must be read again: no validators, so no 304 next time.
    assert (merged["etag"], merged["last_modified"]) == (None, None)


def test_an_entry_that_keeps_failing_is_given_up_after_max_attempts():
    state: dict = {}
    failed = {"feed": "f", "etag": "v", "last_modified": None, "seen_ids": [],
              "failed_ids": ["bad"], "checked_at": "t"}  # fmt: skip
    for attempt in range(1, DEFAULT_LIMITS.max_entry_attempts):
        state = merge_feed_state(state, [failed])
        assert state["f"]["failing"] == {"bad": attempt}
        assert "bad" not in state["f"]["seen_ids"]
    state = merge_feed_state(state, [failed])
    assert (state["f"]["failing"], state["f"]["seen_ids"]) == ({}, ["bad"])
    assert state["f"]["etag"] == "v"  # nothing left to retry: conditional GETs again
    # An entry that left the feed is forgotten; a 304 (no settled ids) keeps the count.
    state = merge_feed_state(state, [{**failed, "failed_ids": ["gone"]}])
    not_modified = state_update("f", etag=None, last_modified=None, seen_ids=[], checked_at=NOW)
    assert merge_feed_state(state, [not_modified])["f"]["failing"] == {"gone": 1}
    assert merge_feed_state(state, [{**failed, "failed_ids": []}])["f"]["failing"] == {}
