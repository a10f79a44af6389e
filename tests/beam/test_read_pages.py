"""ReadArticlePages and FetchArticlePages' headline-only and URL records, in a TestPipeline
against a real HTTP server on 127.0.0.1."""

import datetime as dt
import re

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.httpserver import LOCAL_POLICY as LOCAL
from tests.httpserver import LoopbackServer, Route
from transforms import pages as read_pages
from transforms.feeds import ERRORS, FetchArticlePages
from transforms.lib.formats import raw_record
from transforms.pages import ReadArticlePages

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
PAGE = (
    "<html><head><title>{title} | Gazette</title></head><body><article><h1>{title}</h1>"
    "<p>The harbour master said the work on the north pier would take three weeks and cost "
    "the port authority about two million euros in total.</p><p>Fishing boats will use the "
    "south quay until the end of the month, she said on Monday.</p></article></body></html>"
)
_SERVER = re.compile(r"http://127\.0\.0\.1:\d+/")


def _local(url: str) -> str:
    return _SERVER.sub("", url)


@pytest.fixture
def server():
    with LoopbackServer() as running:
        base = running.base_url
        running.routes.update(
            {
                "/robots.txt": Route(body=b"User-agent: *\nDisallow: /private/\n"),
                "/index.xml": Route(
                    body=(
                        f"<sitemapindex {NS}><sitemap><loc>{base}/a.xml</loc></sitemap>"
                        f"<sitemap><loc>{base}/broken.xml</loc></sitemap></sitemapindex>"
                    ).encode(),
                    content_type="application/xml",
                ),
                "/a.xml": Route(
                    body=(
                        f"<urlset {NS}><url><loc>{base}/news/pier</loc></url>"
                        f"<url><loc>{base}/private/memo</loc></url></urlset>"
                    ).encode(),
                    content_type="application/xml",
                ),
                "/broken.xml": Route(body=b"<urlset><url>", content_type="application/xml"),
                "/news/pier": Route(body=PAGE.format(title="Pier closes").encode()),
                "/news/ferry": Route(body=PAGE.format(title="Ferry returns").encode()),
                "/private/memo": Route(body=PAGE.format(title="Memo").encode()),
            }
        )
        yield running


def test_read_article_pages_from_a_url_list_and_a_sitemap_index(server):
    with TestPipeline() as p:
        read = p | ReadArticlePages(
            urls=[server.url("/news/ferry"), server.url("/news/missing")],
            sitemaps=[server.url("/index.xml")],
            ingested_at=NOW,
            policy=LOCAL,
        )
        assert_that(
            read["articles"] | beam.Map(lambda r: (_local(r["url"]), r["title"], r["text_source"])),
            equal_to(
                [("news/ferry", "Ferry returns", "page"), ("news/pier", "Pier closes", "page")]
            ),
            label="Articles",
        )
        assert_that(
            read[read_pages.ERRORS]
            | beam.Map(lambda e: (_local(e["origin"]), e["stage"], e["error_type"])),
            equal_to(
                [
                    ("news/missing", "fetch", "http_404"),
                    ("private/memo", "fetch", "robots_disallowed"),
                    ("broken.xml", "fetch", "malformed_sitemap"),
                ]
            ),
            label="Errors",
        )
    assert server.hits["/private/memo"] == 0


def test_headline_only_feed_records_get_their_pages_text(server):
    headline_only = raw_record(
        "feed#1",
        text="Pier closes",
        url=server.url("/news/pier"),
        title="Pier closes",
        text_source="feed_title",
    )
    unreachable = raw_record(
        "feed#2", text="Ferry", url=server.url("/gone"), title="Ferry", text_source="feed_title"
    )
    with TestPipeline() as p:
        fetched = (
            p
            | beam.Create([headline_only, unreachable])
            | FetchArticlePages(ingested_at=NOW, policy=LOCAL)
        )
        assert_that(
            fetched.articles | beam.Map(lambda r: (r["origin"], r["text_source"])),
            equal_to([("feed#1", "page"), ("feed#2", "feed_title")]),
            label="Articles",
        )
        assert_that(
            fetched[ERRORS] | beam.Map(lambda e: e["error_type"]),
            equal_to(["http_404"]),
            label="Errors",
        )
