"""Every article once, none lost: article ids of feed entries, link-less records and pages,
URL lists and sitemaps, on small invented feeds."""

import datetime as dt
import gzip

import pytest

from transforms.lib import dates, feeds, pages
from transforms.lib.normalize import article_id, normalize_article
from transforms.lib.records import Rejected

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _rss(items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Links</title>'
        f"<link>https://blog.example.com/</link>{items}</channel></rss>"
    ).encode()


def _item(title: str, link: str | None = None, text: str = "Read this.", guid=None) -> str:
    parts = [f"<title>{title}</title>", f"<description>{text}</description>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    return f"<item>{''.join(parts)}</item>"


def _ids(data: bytes) -> list[str]:
    outcomes, _info = feeds.parse_feed(data, feed_url=None, origin="feed")
    rows = [normalize_article(r, ingested_at=NOW)[0] for r in outcomes if isinstance(r, dict)]
    return [row["article_id"] for row in rows]


def test_entries_behind_one_page_with_different_fragments_are_kept_apart():
    ids = _ids(
        _rss(
            _item("First link", "https://blog.example.com/now#a")
            + _item("Second link", "https://blog.example.com/now#b")
            + _item("The page itself", "https://blog.example.com/now")
        )
    )
    assert len(set(ids)) == 3


def test_entries_behind_one_url_without_fragments_are_kept_apart_by_guid():
    ids = _ids(
        _rss(
            _item("Comment by Ann", "https://blog.example.com/post", guid="c-1")
            + _item("Comment by Bob", "https://blog.example.com/post", guid="c-2")
        )
    )
    assert len(set(ids)) == 2


def test_a_true_duplicate_keeps_one_id():
    """Copies of one story: tracking parameters, a repeat in the same feed, another feed."""
    one = _ids(
        _rss(
            _item("Pier closes", "https://news.example.com/pier?utm_source=rss")
            + _item("Pier closes", "https://news.example.com/pier#comments")
        )
    )
    other = _ids(_rss(_item("Pier closes", "https://news.example.com/pier")))
    assert len(set(one)) == 1 and one[0] == other[0]


def test_link_less_entries_with_one_template_text_and_different_titles_are_two():
    ids = _ids(_rss(_item("Morning note", text="Digest.") + _item("Evening note", text="Digest.")))
    assert len(set(ids)) == 2
    assert article_id(canonical_url=None, content_hash="h", title="A") != article_id(
        canonical_url=None, content_hash="h", title="B"
    )
    assert article_id(canonical_url=None, content_hash="h") == article_id(
        canonical_url=None, content_hash="h", title=None
    )


def test_identity_keys_are_the_same_in_every_run_whatever_was_seen_before():
    data = _rss(
        _item("First", "https://blog.example.com/now#a")
        + _item("Second", "https://blog.example.com/now#b")
    )
    first, _ = feeds.parse_feed(data, feed_url=None, origin="feed")
    later, _ = feeds.parse_feed(
        data, feed_url=None, origin="feed", seen_ids=["https://blog.example.com/now#a"]
    )
    assert [r["identity_key"] for r in later] == [first[1]["identity_key"]] == ["#b"]


def test_a_headline_only_entry_is_enriched_on_its_headline_and_its_page_wins():
    (record,), _ = feeds.parse_feed(
        _rss("<item><title>Pier closes</title><link>https://n.example.com/p</link></item>"),
        feed_url=None,
        origin="feed",
    )
    row, problems = normalize_article(record, ingested_at=NOW)
    assert (row["text"], row["text_source"], problems) == ("Pier closes", "feed_title", [])
    improved = feeds.with_page(record, {"text": "Pier closes for weeks.", "site_name": "News"})
    assert (improved["text_source"], improved["site_name"]) == ("page", "Links")


def test_rss_dates_read_quickly_read_the_same():
    for value in ("Mon, 01 Jun 2026 10:00:00 GMT", "1 Jun 2026 12:00 +0200"):
        assert dates.to_utc(value) == dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(dates.UnknownTimeZone):
        dates.to_utc("Mon, 01 Jun 2026 10:00:00 XYZ")


# ---------------------------------------------------------------- --urls and sitemaps


def test_url_list_skips_comments_and_blanks_and_names_a_bad_line():
    data = b"# mine\nhttps://a.example/1\n\nhttps://a.example/1\nhttps://a.example/2\n"
    assert pages.read_url_list(data, "u.txt") == ["https://a.example/1", "https://a.example/2"]
    with pytest.raises(pages.UrlListError, match="line 2"):
        pages.read_url_list(b"https://a.example/1\nftp://a.example/2\n", "u.txt")


NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def test_google_news_sitemap_gives_title_date_and_language():
    data = (
        f'<urlset {NS} xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        "<url><loc>https://a.example/1</loc><news:news><news:publication>"
        "<news:name>A Times</news:name><news:language>de</news:language></news:publication>"
        "<news:publication_date>2026-05-01</news:publication_date>"
        "<news:title>Pier closes</news:title></news:news></url>"
        "<url><loc>javascript:alert(1)</loc></url></urlset>"
    ).encode()
    (record,), children = pages.parse_sitemap(data, sitemap_url="s", max_bytes=10_000)
    assert children == []
    assert (record["url"], record["title"], record["published"], record["language"]) == (
        "https://a.example/1",
        "Pier closes",
        "2026-05-01",
        "de",
    )
    assert record["text_source"] == pages.PENDING


def test_sitemap_index_gzipped_names_its_sitemaps():
    index = f"<sitemapindex {NS}><sitemap><loc>https://a.example/s1.xml</loc></sitemap>"
    data = gzip.compress((index + "</sitemapindex>").encode())
    assert pages.parse_sitemap(data, sitemap_url="s", max_bytes=10_000) == (
        [],
        ["https://a.example/s1.xml"],
    )


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><urlset/>', "unsafe_xml"),
        (b"<urlset><url><loc>https://a", "malformed_sitemap"),
        (b"<rss/>", "malformed_sitemap"),
        (gzip.compress(b"<urlset>" + b" " * 20_000 + b"</urlset>"), "too_large"),
    ],
)
def test_bad_sitemaps_are_refused_with_a_reason(data, error_type):
    with pytest.raises(Rejected) as refused:
        pages.parse_sitemap(data, sitemap_url="s", max_bytes=10_000)
    assert refused.value.error_type == error_type
