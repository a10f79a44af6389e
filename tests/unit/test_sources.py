"""``--feeds`` values: URLs, URL lists, OPML subscription lists and feed files (no network)."""

import os

import pytest

from pipelines.sources import FeedListError, expand_feed_sources
from tests.helpers import SEEDS


def test_feed_sources_from_urls_lists_opml_and_feed_files(tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text(
        "# city feeds\nhttps://citydesk.example.com/feed.rss\n\n"
        "  http://harbour.example.net/rdf  \n"
    )
    sources = expand_feed_sources(
        [
            "https://science.example.org/feed.atom",
            str(listing),
            str(SEEDS / "subscriptions.opml"),
            str(SEEDS / "005_city_desk_rss2.xml"),
        ]
    )
    assert sources == [
        "https://science.example.org/feed.atom",
        "https://citydesk.example.com/feed.rss",
        "http://harbour.example.net/rdf",
        "https://harbour.example.net/notices.rdf",
        str(SEEDS / "005_city_desk_rss2.xml"),
    ]


def test_opml_seed_lists_its_three_distinct_feeds():
    assert expand_feed_sources([str(SEEDS / "subscriptions.opml")]) == [
        "https://citydesk.example.com/feed.rss",
        "https://harbour.example.net/notices.rdf",
        "https://science.example.org/feed.atom",
    ]


def test_bad_feed_values_are_refused_with_their_name(tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text("https://ok.example/rss\nfile:///etc/passwd\n")
    with pytest.raises(FeedListError, match="line 2"):
        expand_feed_sources([str(listing)])
    with pytest.raises(FeedListError, match="no-such-file"):
        expand_feed_sources([str(tmp_path / "no-such-file.txt")])
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline xmlUrl='https://a.example/rss'>")
    with pytest.raises(FeedListError, match="OPML"):
        expand_feed_sources([str(broken)])


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "feeds.txt"
    os.mkfifo(fifo)
    with pytest.raises(FeedListError, match="regular file"):
        expand_feed_sources([str(fifo)])
