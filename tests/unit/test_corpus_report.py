"""The report page (pipelines.corpus_report): escaping, links, empty outputs, scale, the CLI.

The output is the hand-built one of ``test_report_queries`` (its docstring says what it
holds): one article title and one quote there are ``<script>`` elements, and one URL is
``javascript:``.
"""

import datetime as dt
import html as markup
import re
import time
from html.parser import HTMLParser

import duckdb
import pytest

import newsbeam
from pipelines import cli, corpus_report, report_charts, report_drawing
from pipelines.report_queries import Caps, Scope
from schemas import ARTICLES, ENTITIES, ERRORS, QUOTES
from tests.report_outputs import (
    EVERY_CHART,
    HOSTILE_QUOTE,
    HOSTILE_TITLE,
    plain_article,
    write,
    write_fixture,
    write_large_output,
)
from transforms import store


@pytest.fixture(scope="module", autouse=True)
def _no_drawer_left():
    """The drawing processes end with the module: later tests count this process's workers."""
    yield
    report_drawing.close_drawer()


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the charts' SVG roots."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


def charts_of(page: str) -> list[str]:
    return re.findall(r'<figure class="chart" data-chart="([^"]+)"><svg ', page)


@pytest.fixture(scope="module")
def fixture_output(tmp_path_factory):
    root = write_fixture(tmp_path_factory.mktemp("report") / "out")
    store.write_run_record(
        str(root),
        "20250310T120000Z-aaaaaaaa",
        {
            "run_id": "20250310T120000Z-aaaaaaaa",
            "ingested_at": "2025-03-10T12:00:00+00:00",
            "elapsed_seconds": 3.2,
            "balance": {"read": 9, "written": 5, "duplicates": 1, "errors": 3, "ok": True},
        },
    )
    return root


@pytest.fixture(scope="module")
def page(fixture_output):
    return corpus_report.build_page(str(fixture_output))


def test_every_section_draws_its_charts(page):
    html, drawn, articles = page
    assert (drawn, articles) == (len(EVERY_CHART), 5)
    assert set(charts_of(html)) == EVERY_CHART
    assert f'data-charts="{drawn}"' in html
    for title in ("Volume", "People and organisations", "Voices", "Who appears with whom"):
        assert f"<h2>{title}</h2>" in html
    assert "<h2>Data quality</h2>" in html and "<h2>Run history</h2>" in html


def test_hostile_titles_and_quotes_are_text_and_a_javascript_url_is_not_a_link(page):
    html = page[0]
    assert "<script" not in html.lower()  # not in the page, the charts or their labels
    assert markup.escape(HOSTILE_QUOTE) in html and markup.escape(HOSTILE_TITLE) in html
    hrefs = [attrs["href"] for tag, attrs in elements(html) if tag == "a"]
    assert "https://news.example/a1" in hrefs
    assert not [h for h in hrefs if not (h.startswith("#") or h.startswith("https://"))]


def test_the_page_loads_nothing(page):
    html = page[0]
    tags = elements(html)
    assert not [t for t, attrs in tags if t in ("script", "link", "img", "iframe", "object")]
    assert not [attrs for _t, attrs in tags if "src" in attrs or "srcset" in attrs]
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    # url() only names a gradient or clip path of the page itself, each id once.
    assert set(re.findall(r"url\((.)", html)) == {"#"}
    ids = [attrs["id"] for _t, attrs in tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    assert {i.removeprefix("#") for i in re.findall(r"url\((#[^)]+)\)", html)} <= set(ids)


def test_safe_url_links_only_http_and_https():
    assert corpus_report.safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert corpus_report.safe_url("HTTP://example.org/") == "HTTP://example.org/"
    for url in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:x",
        "//example.org/x",
        "/relative",
        "https://",
        "https://exa mple.org/",
        "",
        None,
    ):
        assert corpus_report.safe_url(url) is None, url


def test_an_empty_output_gives_a_page_that_says_so(tmp_path):
    html, drawn, articles = corpus_report.build_page(str(tmp_path))
    assert (drawn, articles) == (0, 0)
    assert "No articles yet: run newsbeam ingest into this folder first." in html
    assert "No run records in _runs/." in html
    assert html.count("<section") == 6


def test_an_output_without_nlp_says_where_entities_come_from(tmp_path):
    write(tmp_path, "articles", ARTICLES, "2025-03-01", [plain_article("a1")])
    for table, schema in (("entities", ENTITIES), ("quotes", QUOTES), ("errors", ERRORS)):
        write(tmp_path, table, schema, "2025-03-01", [])
    html, _, _ = corpus_report.build_page(str(tmp_path))
    assert set(charts_of(html)) == {"volume", "sources", "languages", "quality"}
    assert html.count("They come from the NLP step") == 2  # people, then voices


def test_a_single_day_and_a_chosen_source(fixture_output):
    scope = Scope(since=dt.date(2025, 3, 1), until=dt.date(2025, 3, 1), source="Wire")
    html, _, articles = corpus_report.build_page(str(fixture_output), scope)
    assert articles == 2 and "source <b>Wire</b>" in html
    assert {"volume", "top-person", "speakers", "co-mentions"} <= set(charts_of(html))
    assert "Errors belong to no source" in html


def test_a_page_read_again_after_a_commit_shows_each_chart_once(fixture_output, monkeypatch):
    # The mentions fail to read once, as when a compaction deleted their files meanwhile:
    # the page is made again from a fresh connection, its first charts cancelled.
    from pipelines import query
    from pipelines import report_queries as q

    real_open, real_listing = q.open_mentions, query.store.committed_files
    failures, listings = [], []

    def open_mentions(connection):
        if not failures:
            failures.append(1)
            raise duckdb.IOException("No files found that match the pattern")
        real_open(connection)

    def committed_files(root):
        listings.append(root)
        listed = real_listing(root)
        return {**listed, "moved": []} if len(listings) == 2 else listed  # files replaced

    monkeypatch.setattr(q, "open_mentions", open_mentions)
    monkeypatch.setattr(query.store, "committed_files", committed_files)
    html, drawn, articles = corpus_report.build_page(str(fixture_output))
    assert failures and len(listings) == 3
    assert (drawn, articles) == (len(EVERY_CHART), 5)
    assert sorted(charts_of(html)) == sorted(EVERY_CHART)  # each once
    assert "<!--chart" not in html


def test_write_report_refuses_bad_paths_before_writing(fixture_output, tmp_path):
    output = str(fixture_output)
    for path, message in (
        (tmp_path / "report.txt", "ending in .html"),
        (tmp_path / "missing" / "report.html", "no folder"),
        (fixture_output / "report.html", "inside the output folder"),
    ):
        with pytest.raises(corpus_report.ReportPathError, match=message):
            corpus_report.write_report(output, str(path))
    assert not list(fixture_output.glob("*.html"))


def test_the_command_and_the_api(fixture_output, tmp_path, capsys):
    target = tmp_path / "report.html"
    assert cli.main(["report", str(fixture_output), "--output", str(target)]) == 0
    assert "report of 5 articles written to" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no partial file left
    for argv, message in (
        (["--since", "2025-03-05", "--until", "2025-03-01"], "--since is after --until"),
        (["--source", "Wyre"], "'Wire'"),
        (["--since", "March"], "is not a date"),
    ):
        with pytest.raises(SystemExit) if "not a date" in message else _nothing():
            status = cli.main(["report", str(fixture_output), "--output", str(target), *argv])
            assert status == cli.USAGE_ERROR
        assert message in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "nowhere"), "--output", str(target)]) == 2
    api_target = tmp_path / "api.html"
    assert newsbeam.report(fixture_output, output=api_target, since="2025-03-02") == str(api_target)
    assert "report" in newsbeam.__all__
    with pytest.raises(newsbeam.UsageError, match="not a date"):
        newsbeam.report(fixture_output, output=api_target, until="soon")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.slow
def test_a_hundred_thousand_articles_give_a_page_of_bounded_size(tmp_path):
    root = write_large_output(tmp_path / "big")
    started = time.monotonic()
    written = corpus_report.write_report(str(root), str(tmp_path / "big.html"))
    seconds = time.monotonic() - started
    html = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert written.articles == 100_000
    assert set(charts_of(html)) == EVERY_CHART
    assert len(html) < 3_000_000  # charts cut to the caps, whatever the corpus
    caps = Caps()
    assert html.count("<tr>") <= caps.speakers + caps.error_types + caps.days_to_check + 8 + 5
    assert "other (52 sources)" in html  # 60 sources: 8 named
    assert "Person 0" in html  # P1 counts as Person 0
    assert "The latest 60 runs" in html and "300 runs" in html
    assert seconds < 120, seconds


def test_a_drawing_with_script_is_refused():
    for drawing in ("<svg><script/></svg>", "<svg><foreignObject/></svg>", "<p>"):
        with pytest.raises(ValueError, match="something other than SVG"):
            report_drawing.finish(drawing)


def test_repeated_names_stay_apart_and_long_ones_are_cut():
    assert report_charts.unique_labels(["Ada", "Ben", "Ada", "Ada"]) == [
        "Ada",
        "Ben",
        "Ada (2)",
        "Ada (3)",
    ]
    assert report_charts.short("x" * 100) == "x" * 35 + "…"
    assert report_charts.short(" a\n b ") == "a b"


def _ticks(span, unit="day"):
    spec = report_charts.quality_chart([], unit, span)
    return [
        dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date().isoformat()
        for ms in spec["encoding"]["x"]["axis"].get("values", [])
    ]


def test_a_short_time_axis_ticks_at_period_starts_only():
    # One day: its start and end, not every few hours labelled with the same date.
    assert _ticks(("2025-03-02", "2025-03-02")) == ["2025-03-02", "2025-03-03"]
    assert _ticks(("2025-03-01", "2025-03-10")) == [f"2025-03-{d:02}" for d in (1, 3, 5, 7, 9, 11)]
    # Weeks start on Mondays, as the bars do (2025-03-03 is a Monday).
    weeks = ["2025-03-03", "2025-03-10", "2025-03-17"]
    assert _ticks(("2025-03-05", "2025-03-12"), "week") == weeks
    assert _ticks(("2025-01-01", "2025-02-14")) == []  # 45 days: Vega's own ticks, whole days
    assert _ticks(None) == []
