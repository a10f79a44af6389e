"""Article pages named directly (--urls, --sitemap) and page fetches for --input feed files,
through the real command against a loopback server; the Parquet is read back."""

import gzip

from tests.helpers import newsbeam, table
from tests.httpserver import LoopbackServer, Route

PAGE = """<html><head><title>{title} | Harbour Gazette</title>
<meta property="og:site_name" content="Harbour Gazette">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "{title}", "datePublished": "2025-01-13T08:30:00+01:00",
 "author": [{{"@type": "Person", "name": "Ann Desk"}}]}}</script></head>
<body><nav>Home Login</nav><article><h1>{title}</h1>
<p>The harbour master said the work on the north pier would take three weeks and cost the
port authority about two million euros in total, {title}.</p>
<p>Fishing boats will use the south quay until the end of the month, she said on Monday.</p>
</article></body></html>"""
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _page(title: str) -> Route:
    return Route(body=PAGE.format(title=title).encode())


def _errors(output):
    return {(e["origin"].rsplit("/", 2)[-2:][-1], e["error_type"]) for e in _rows(output, "errors")}


def _rows(output, name):
    path = output / name
    return table(output, name).to_pylist() if path.exists() else []


def test_urls_file_fetches_each_page_and_obeys_robots_txt(tmp_path):
    with LoopbackServer() as server:
        server.routes.update(
            {
                "/robots.txt": Route(body=ROBOTS, content_type="text/plain"),
                "/news/pier": _page("Pier closes"),
                "/news/ferry": _page("Ferry returns"),
                "/private/memo": _page("Internal memo"),
            }
        )
        listing = tmp_path / "urls.txt"
        listing.write_text(
            "# pages to read\n"
            + "\n".join(server.url(p) for p in ("/news/pier", "/news/ferry", "/private/memo"))
            + "\n\n"
        )
        output = tmp_path / "out"
        newsbeam(
            "ingest", "--urls", listing, "--output", output, "--no-nlp", "--allow-private-hosts"
        )
        hits = dict(server.hits)
    articles = sorted(_rows(output, "articles"), key=lambda a: a["title"])
    assert [a["title"] for a in articles] == ["Ferry returns", "Pier closes"]
    assert all(a["text_source"] == "page" and a["authors"] == ["Ann Desk"] for a in articles)
    assert articles[0]["published_at"].isoformat() == "2025-01-13T07:30:00+00:00"
    assert articles[0]["site_name"] == "Harbour Gazette"
    assert "two million euros" in articles[0]["text"]
    assert ("memo", "robots_disallowed") in _errors(output)
    assert "/private/memo" not in hits


def test_sitemap_index_with_a_google_news_sitemap_and_a_gzipped_one(tmp_path):
    with LoopbackServer() as server:
        base = server.base_url
        index = (
            f"<sitemapindex {NS}><sitemap><loc>{base}/news-sitemap.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/pages.xml.gz</loc></sitemap></sitemapindex>"
        )
        news = (
            f"<urlset {NS} {NEWS_NS}><url><loc>{base}/news/pier</loc><news:news>"
            "<news:publication><news:name>Harbour Gazette</news:name>"
            "<news:language>en</news:language></news:publication>"
            "<news:publication_date>2025-01-13T08:30:00+01:00</news:publication_date>"
            "<news:title>Pier closes</news:title></news:news></url></urlset>"
        )
        plain = (
            f"<urlset {NS}><url><loc>{base}/news/ferry</loc><lastmod>2025-01-14</lastmod></url>"
            f"<url><loc>{base}/private/memo</loc></url></urlset>"
        )
        server.routes.update(
            {
                "/robots.txt": Route(body=ROBOTS, content_type="text/plain"),
                "/sitemap_index.xml": Route(body=index.encode(), content_type="application/xml"),
                "/news-sitemap.xml": Route(body=news.encode(), content_type="application/xml"),
                "/pages.xml.gz": Route(
                    body=gzip.compress(plain.encode()), content_type="application/x-gzip"
                ),
                "/news/pier": _page("Pier closes"),
                "/news/ferry": _page("Ferry returns"),
                "/private/memo": _page("Internal memo"),
            }
        )
        output = tmp_path / "out"
        newsbeam(
            "ingest",
            "--sitemap",
            server.url("/sitemap_index.xml"),
            "--output",
            output,
            "--no-nlp",
            "--allow-private-hosts",
        )
    articles = sorted(_rows(output, "articles"), key=lambda a: a["title"])
    assert [a["title"] for a in articles] == ["Ferry returns", "Pier closes"]
    assert articles[1]["language"] == "en"
    assert articles[0]["modified_at"].isoformat() == "2025-01-14T00:00:00+00:00"
    assert ("memo", "robots_disallowed") in _errors(output)


def test_private_addresses_are_refused_unless_allowed(tmp_path):
    with LoopbackServer() as server:
        server.routes["/news/pier"] = _page("Pier closes")
        listing = tmp_path / "urls.txt"
        listing.write_text(server.url("/news/pier") + "\n")
        output = tmp_path / "out"
        result = newsbeam("ingest", "--urls", listing, "--output", output, "--no-nlp", check=False)
        hits = sum(server.hits.values())
    assert result.returncode == 4  # the only page was refused: nothing could be ingested
    assert _rows(output, "articles") == []
    assert {e["error_type"] for e in _rows(output, "errors")} == {"blocked_address"}
    assert hits == 0


def test_a_bad_urls_file_is_a_usage_error(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.com/ok\nnot a url\n")
    result = newsbeam("ingest", "--urls", listing, "--output", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "line 2" in result.stderr


def test_fetch_articles_works_for_feed_files_given_to_input(tmp_path):
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = Route(body=b"", content_type="text/plain")
        server.routes["/news/pier"] = _page("Pier closes")
        feed = tmp_path / "desk.rss"
        feed.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
            f"<item><title>Pier closes</title><link>{server.url('/news/pier')}</link>"
            "<description>A teaser.</description></item></channel></rss>"
        )
        output = tmp_path / "out"
        newsbeam(
            "ingest",
            "--input",
            feed,
            "--fetch-articles",
            "--output",
            output,
            "--no-nlp",
            "--allow-private-hosts",
        )
    [article] = _rows(output, "articles")
    assert article["text_source"] == "page"
    assert "two million euros" in article["text"]


def test_feed_entries_behind_one_page_and_without_links_are_one_article_each(tmp_path):
    feed = tmp_path / "links.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Links</title>'
        "<item><title>First link</title><link>https://blog.example.com/now#a</link>"
        "<description>Read this.</description></item>"
        "<item><title>Second link</title><link>https://blog.example.com/now#b</link>"
        "<description>Read this.</description></item>"
        "<item><title>Morning note</title><description>Daily digest.</description></item>"
        "<item><title>Evening note</title><description>Daily digest.</description></item>"
        "<item><title>Headline only</title><link>https://blog.example.com/h</link></item>"
        "</channel></rss>"
    )
    output = tmp_path / "out"
    newsbeam("ingest", "--input", feed, "--output", output, "--no-nlp")
    articles = _rows(output, "articles")
    assert sorted(a["title"] for a in articles) == [
        "Evening note",
        "First link",
        "Headline only",
        "Morning note",
        "Second link",
    ]
    assert len({a["article_id"] for a in articles}) == 5
    [headline] = [a for a in articles if a["title"] == "Headline only"]
    assert (headline["text"], headline["text_source"]) == ("Headline only", "feed_title")
    assert _rows(output, "errors") == []
