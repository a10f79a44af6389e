"""ReadFeeds and FetchArticlePages in a TestPipeline against a real HTTP server on 127.0.0.1.

One assertion per output, dead letters and feed state included.
"""

import datetime as dt
import re
import time
import zlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.httpserver import LOCAL_POLICY as LOCAL
from tests.httpserver import LoopbackServer, Route
from transforms import feeds as read_feeds
from transforms import store
from transforms.feeds import FetchArticlePages, ReadFeeds
from transforms.lib import html
from transforms.lib.fetch import FetchPolicy
from transforms.lib.formats import raw_record

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
CHECKED_AT = NOW.isoformat()
# The defaults, less the one-second pause between requests to a host.
PUBLIC_ONLY = FetchPolicy(min_host_interval=0, total_timeout=2.0)
RSS_ETAG = '"rss-v1"'
RSS_MODIFIED = "Tue, 14 Jan 2025 08:00:00 GMT"

PARAGRAPHS = [
    "The Kessington city council approved a new tram line to the harbour on Tuesday, "
    "after a debate that lasted most of the night and ended shortly before dawn.",
    '"This line will connect thirty thousand people to the waterfront," said Councillor '
    "Dana Whitfield, who chairs the transport committee and proposed the plan last spring.",
    "Construction is expected to begin in the spring and to last two years. The city will "
    "pay for most of it, with the rest coming from a regional infrastructure fund.",
    "Shop owners along the route said they welcomed the decision but asked the council to "
    "keep the street open to deliveries while the rails are laid.",
]


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/city'>City</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<footer>Copyright Kessington City Desk</footer></body></html>"
    ).encode()


def _rss(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>City Desk</title><link>{base}/</link>
<item><guid isPermaLink="false">r1</guid><title>Tram line approved</title>
  <link>{base}/articles/1</link><pubDate>Tue, 14 Jan 2025 09:30:00 +0200</pubDate>
  <description>Council approves tram line.</description></item>
<item><guid isPermaLink="false">r2</guid><title>Members only</title><link>{base}/private/2</link>
  <pubDate>Mon, 13 Jan 2025 10:00:00 GMT</pubDate><description>Teaser two.</description></item>
</channel></rss>""".encode()


def _atom() -> bytes:
    content = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in PARAGRAPHS).replace('"', "&quot;")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Science Notes</title><id>tag:notes</id>
<updated>2025-02-04T12:00:00Z</updated>
<entry><id>tag:a1</id><title>Full story in the feed</title><link href="articles/3"/>
  <updated>2025-02-04T11:15:00+01:00</updated><author><name>Priya Raman</name></author>
  <content type="html">{content}</content></entry>
</feed>""".encode()


def _rdf(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{base}/rdf.xml"><title>Harbour Notices</title><link>{base}/</link>
  <description>d</description></channel>
<item rdf:about="{base}/missing/4"><title>Pier closed</title><link>{base}/missing/4</link>
  <description>Notice four.</description><dc:date>2025-03-14T08:00:00+01:00</dc:date></item>
</rdf:RDF>""".encode()


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return b"".join(compressor.compress(bytes(1 << 20)) for _ in range(32)) + compressor.flush()


@pytest.fixture
def server():
    with LoopbackServer() as running:
        base = running.base_url
        running.routes.update(
            {
                "/rss.xml": Route(
                    body=_rss(base),
                    content_type="application/rss+xml",
                    etag=RSS_ETAG,
                    last_modified=RSS_MODIFIED,
                ),
                "/moved-atom.xml": Route(status=301, redirect_to="/atom.xml"),
                "/atom.xml": Route(body=_atom(), content_type="application/atom+xml", gzip=True),
                "/rdf.xml": Route(body=_rdf(base), content_type="application/rdf+xml"),
                "/broken.xml": Route(body=b"<rss version='2.0'><channel><title>cut off"),
                "/loop.xml": Route(redirect_to="/loop.xml"),
                "/slow.xml": Route(body=_rss(base), drip_seconds=0.05),
                "/bomb.xml": Route(body=_gzip_bomb(), headers={"Content-Encoding": "gzip"}),
                "/robots.txt": Route(body=b"User-agent: *\nDisallow: /private/\n"),
                "/articles/1": Route(body=_page("Tram line approved", PARAGRAPHS)),
                "/private/2": Route(body=_page("Members only", PARAGRAPHS)),
                "/articles/3": Route(body=_page("Full story in the feed", PARAGRAPHS[:3])),
            }
        )
        yield running


_SERVER = re.compile(r"http://127\.0\.0\.1:\d+/")


def _local(url: str) -> str:
    """A URL or origin without the test server's address, which changes every run."""
    return _SERVER.sub("", url)


def _article_key(record):
    published = record["published"]
    return (
        _local(record["origin"]),
        record["title"],
        _local(record["url"]),
        published.isoformat() if isinstance(published, dt.datetime) else published,
        record["text_source"],
        record["source"],
    )


def _error_key(row):
    return (_local(row["origin"]), row["stage"], row["error_type"])


def _state_key(update):
    return (
        _local(update["feed"]),
        update["etag"],
        update["last_modified"],
        tuple(_local(key) for key in update["seen_ids"]),
        update["checked_at"],
    )


def test_read_feeds_turns_rss_atom_and_rdf_into_records_and_failures_into_errors(server):
    sources = [
        server.url(path)
        for path in (
            "/rss.xml",
            "/moved-atom.xml",
            "/rdf.xml",
            "/broken.xml",
            "/gone.xml",
            "/loop.xml",
            "/slow.xml",
            "/bomb.xml",
        )
    ]
    with TestPipeline() as p:
        outputs = p | ReadFeeds(sources, state={}, ingested_at=NOW, policy=LOCAL)
        assert_that(
            outputs.articles | beam.Map(_article_key),
            equal_to(
                [
                    (
                        "rss.xml#r1",
                        "Tram line approved",
                        "articles/1",
                        "2025-01-14T07:30:00+00:00",
                        "feed_summary",
                        "City Desk",
                    ),
                    (
                        "rss.xml#r2",
                        "Members only",
                        "private/2",
                        "2025-01-13T10:00:00+00:00",
                        "feed_summary",
                        "City Desk",
                    ),
                    (
                        "moved-atom.xml#tag:a1",
                        "Full story in the feed",
                        "articles/3",
                        "2025-02-04T10:15:00+00:00",
                        "feed_content",
                        "Science Notes",
                    ),
                    (
                        "rdf.xml#missing/4",
                        "Pier closed",
                        "missing/4",
                        "2025-03-14T07:00:00+00:00",
                        "feed_summary",
                        "Harbour Notices",
                    ),
                ]
            ),
            label="Articles",
        )
        assert_that(
            outputs[read_feeds.ERRORS] | beam.Map(_error_key),
            equal_to(
                [
                    ("broken.xml", "feed", "malformed_feed"),
                    ("gone.xml", "feed", "http_404"),
                    ("loop.xml", "feed", "redirect_loop"),
                    ("slow.xml", "feed", "timeout"),
                    ("bomb.xml", "feed", "too_large"),
                ]
            ),
            label="Errors",
        )
        assert_that(
            outputs[read_feeds.STATE] | beam.Map(_state_key),
            equal_to(
                [
                    ("rss.xml", RSS_ETAG, RSS_MODIFIED, ("r1", "r2"), CHECKED_AT),
                    ("moved-atom.xml", None, None, ("tag:a1",), CHECKED_AT),
                    ("rdf.xml", None, None, ("missing/4",), CHECKED_AT),
                ]
            ),
            label="State",
        )


def test_a_second_run_sends_the_validators_and_gets_304(server, tmp_path):
    feed = server.url("/rss.xml")
    first_state = {
        "feed": feed,
        "etag": RSS_ETAG,
        "last_modified": RSS_MODIFIED,
        "seen_ids": ["r1", "r2"],
        "checked_at": CHECKED_AT,
    }
    with TestPipeline() as p:
        outputs = p | ReadFeeds([feed], state={}, ingested_at=NOW, policy=LOCAL)
        assert_that(
            outputs.articles | beam.Map(lambda r: r["origin"]),
            equal_to([f"{feed}#r1", f"{feed}#r2"]),
            label="Articles",
        )
        assert_that(outputs[read_feeds.ERRORS], equal_to([]), label="Errors")
        assert_that(outputs[read_feeds.STATE], equal_to([first_state]), label="State")
    # What the lead does after the commit, and before the next run.
    store.save_feed_state(str(tmp_path), [first_state])
    state = store.load_feed_state(str(tmp_path))
    with TestPipeline() as p:
        outputs = p | ReadFeeds([feed], state=state, ingested_at=NOW, policy=LOCAL)
        assert_that(outputs.articles, equal_to([]), label="NoArticles")
        assert_that(outputs[read_feeds.ERRORS], equal_to([]), label="NoErrors")
        assert_that(
            outputs[read_feeds.STATE],
            equal_to([{**first_state, "seen_ids": []}]),
            label="UnchangedState",
        )
    assert server.hits["/rss.xml"] == 2
    assert server.not_modified["/rss.xml"] == 1
    assert server.requests[-1][1]["if-none-match"] == RSS_ETAG
    assert server.requests[-1][1]["if-modified-since"] == RSS_MODIFIED


def test_entries_seen_before_are_skipped_when_the_feed_changed(server):
    feed = server.url("/rdf.xml")
    seen = server.url("/missing/4")
    server.routes["/rdf.xml"].body = _rdf(server.base_url).replace(
        b"<item ",
        b'<item rdf:about="new"><title>New notice</title><link>'
        + server.url("/articles/5").encode()
        + b"</link><description>Five.</description></item><item ",
        1,
    )
    with TestPipeline() as p:
        outputs = p | ReadFeeds(
            [feed], state={feed: {"seen_ids": [seen]}}, ingested_at=NOW, policy=LOCAL
        )
        assert_that(
            outputs.articles | beam.Map(lambda r: r["title"]),
            equal_to(["New notice"]),
            label="Articles",
        )
        assert_that(outputs[read_feeds.ERRORS], equal_to([]), label="Errors")
        assert_that(
            outputs[read_feeds.STATE] | beam.Map(lambda u: u["seen_ids"]),
            equal_to([["new", seen]]),
            label="State",
        )


def _text_key(record):
    """Where the text came from, and how it ends (the page adds a title before the story)."""
    return (_local(record["url"]), record["text_source"], record["text"][-40:])


def test_fetch_article_pages_replaces_teasers_and_obeys_robots(server):
    sources = [server.url(path) for path in ("/rss.xml", "/atom.xml", "/rdf.xml")]
    with TestPipeline() as p:
        records = p | ReadFeeds(sources, state={}, ingested_at=NOW, policy=LOCAL)
        pages = records.articles | FetchArticlePages(ingested_at=NOW, policy=LOCAL)
        assert_that(
            pages.articles | beam.Map(_text_key),
            equal_to(
                [
                    ("articles/1", "page", PARAGRAPHS[3][-40:]),  # the teaser gave way
                    ("private/2", "feed_summary", "Teaser two."),  # robots.txt said no
                    ("articles/3", "feed_content", PARAGRAPHS[3][-40:]),  # the feed had more
                    ("missing/4", "feed_summary", "Notice four."),  # the page is gone
                ]
            ),
            label="Articles",
        )
        assert_that(
            pages[read_feeds.ERRORS] | "PageErrorKeys" >> beam.Map(_error_key),
            equal_to(
                [("private/2", "fetch", "robots_disallowed"), ("missing/4", "fetch", "http_404")]
            ),
            label="Errors",
        )
    assert server.hits["/robots.txt"] == 1
    assert server.hits["/private/2"] == 0


@pytest.mark.parametrize("allow_private_hosts", [False, True])
def test_links_to_loopback_are_refused_unless_private_hosts_are_allowed(
    server, tmp_path, allow_private_hosts
):
    local_feed = tmp_path / "local.rss"
    local_feed.write_bytes(_rss(server.base_url).replace(b"/private/2", b"/articles/1?again"))
    policy = LOCAL if allow_private_hosts else PUBLIC_ONLY
    with TestPipeline() as p:
        records = p | ReadFeeds(
            [str(local_feed), server.url("/rss.xml")], state={}, ingested_at=NOW, policy=policy
        )
        pages = records.articles | FetchArticlePages(ingested_at=NOW, policy=policy)
        if allow_private_hosts:
            # The local feed's two links, then the served feed's: one page robots.txt forbids.
            expected_sources = ["page", "page", "page", "feed_summary"]
            feed_errors = []
            page_errors = [("private/2", "fetch", "robots_disallowed")]
        else:
            expected_sources = ["feed_summary"] * 2
            feed_errors = [("rss.xml", "feed", "blocked_address")]
            page_errors = [
                ("articles/1", "fetch", "blocked_address"),
                ("articles/1?again", "fetch", "blocked_address"),
            ]
        assert_that(
            pages.articles | beam.Map(lambda r: r["text_source"]),
            equal_to(expected_sources),
            label="Articles",
        )
        assert_that(
            records[read_feeds.ERRORS] | "FeedErrorKeys" >> beam.Map(_error_key),
            equal_to(feed_errors),
            label="FeedErrors",
        )
        assert_that(
            pages[read_feeds.ERRORS] | "PageErrorKeys" >> beam.Map(_error_key),
            equal_to(page_errors),
            label="PageErrors",
        )
    if not allow_private_hosts:
        assert sum(server.hits.values()) == 0


def test_a_page_whose_extraction_is_too_slow_keeps_the_feeds_text(server, monkeypatch):
    real = html.extract_article

    def extract(page, url=None):
        if "Members only" in page:
            time.sleep(3)  # lxml cannot be interrupted: the page is abandoned, not killed
        return real(page, url)

    monkeypatch.setattr(html, "extract_article", extract)
    records = [
        raw_record(server.url(path), url=server.url(path), text=teaser, text_source="feed_summary")
        for path, teaser in (("/private/2", "Teaser two."), ("/articles/1", "Teaser one."))
    ]
    started = time.monotonic()
    with TestPipeline() as p:
        pages = (
            p
            | beam.Create(records)
            | FetchArticlePages(ingested_at=NOW, policy=LOCAL, respect_robots=False, time_limit=0.5)
        )
        assert_that(
            pages.articles | beam.Map(lambda r: (_local(r["url"]), r["text_source"], r["text"])),
            equal_to(
                [
                    ("private/2", "feed_summary", "Teaser two."),
                    ("articles/1", "page", _page_text()),
                ]
            ),
            label="Articles",
        )
        assert_that(
            pages[read_feeds.ERRORS] | beam.Map(_error_key),
            equal_to([("private/2", "fetch", "time_limit")]),
            label="Errors",
        )
    assert time.monotonic() - started < 30


def _page_text() -> str:
    return html.extract_article(_page("Tram line approved", PARAGRAPHS).decode())["text"]
