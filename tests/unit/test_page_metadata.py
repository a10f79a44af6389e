"""The metadata newsbeam reads from a page itself, and the body rules, on small invented pages."""

import json

import lxml.html
import pytest

from transforms.lib import bylines, html, pagemeta, text
from transforms.lib.html import extract_article

BODY = (
    "<p>The harbour master said the work on the north pier would take three weeks and cost "
    "the port authority about two million euros in total.</p>"
    "<p>Fishing boats will use the south quay until the end of the month, she said on Monday, "
    "and the ferry to the islands keeps its timetable.</p>"
)


def _page(head: str = "", body: str = "", *, ld: object = None) -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return f"<html><head>{head}{script}</head><body>{body}</body></html>"


def _meta(page: str) -> pagemeta.PageMetadata:
    return pagemeta.page_metadata(lxml.html.fromstring(page))


# ---------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pier closes for repairs | Harbour Gazette", "Pier closes for repairs"),
        ("Pier closes for repairs - Harbour Gazette", "Pier closes for repairs"),
        ("Harbour Gazette – Pier closes for repairs", "Pier closes for repairs"),
        ("Pier closes for repairs – HG – 13.06.2023", "Pier closes for repairs"),
        ("Pier closes for repairs - harbourgazette.example", "Pier closes for repairs"),
        ("Ferries - and fishing boats - wait", "Ferries - and fishing boats - wait"),
        ("Harbour Gazette", "Harbour Gazette"),
    ],
)
def test_site_name_is_cut_from_either_end(title, expected):
    sites = ["Harbour Gazette", "HG"]
    assert pagemeta.strip_site_name(title, sites, "www.harbourgazette.example") == expected


def test_headline_prefers_json_ld_and_drops_a_section_suffix_another_source_lacks():
    page = _meta(
        _page(
            '<title>Pier closes | Port | Harbour Gazette</title><meta property="og:site_name" '
            'content="Harbour Gazette"><meta property="og:title" content="Pier closes">',
            ld={"@type": "NewsArticle", "headline": "Pier closes | Port"},
        )
    )
    assert pagemeta.headline(page) == "Pier closes"


def test_headline_drops_a_kicker_og_title_leaves_out():
    page = _meta(
        _page(
            '<meta property="og:title" content="Pier closes for three weeks">',
            "<h1>Harbour works: Pier closes for three weeks</h1>",
            ld={"@type": "NewsArticle", "headline": "Harbour works: Pier closes for three weeks"},
        )
    )
    assert pagemeta.headline(page) == "Pier closes for three weeks"


def test_headline_falls_back_to_the_h1_and_unescapes_entities():
    page = _meta(_page(body="<h1>Caf&eacute; &amp; pier reopen</h1>"))
    assert pagemeta.headline(page) == "Café & pier reopen"


def test_json_ld_in_a_graph_is_read_and_other_objects_are_not_the_article():
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "ImageObject", "datePublished": "2019-01-01", "url": "https://x/i.jpg"},
            {"@type": "WebSite", "name": "Harbour Gazette"},
            {
                "@type": ["NewsArticle"],
                "headline": "Pier closes",
                "datePublished": "2023-05-02T08:00:00+02:00",
                "dateModified": "2023-05-03T09:00:00+02:00",
                "description": "Three weeks of repairs.",
                "image": [{"@type": "ImageObject", "url": "https://x/pier.jpg"}],
            },
        ],
    }
    page = _meta(_page(ld=ld))
    assert pagemeta.published(page) == "2023-05-02T08:00:00+02:00"
    assert pagemeta.modified(page) == "2023-05-03T09:00:00+02:00"
    assert pagemeta.description(page) == "Three weeks of repairs."
    assert pagemeta.image_url(page) == "https://x/pier.jpg"
    assert pagemeta.site_name(page) == "Harbour Gazette"


def test_meta_tags_give_the_date_when_json_ld_does_not():
    page = _meta(
        _page(
            '<meta property="article:published_time" content="2023-05-02T08:00:00Z">'
            '<meta name="citation_publication_date" content="2019/01/01">'
        )
    )
    assert pagemeta.published(page) == "2023-05-02T08:00:00Z"


def test_broken_json_ld_is_skipped_and_trailing_commas_tolerated():
    page = _meta(
        '<html><head><script type="application/ld+json">{not json</script>'
        '<script type="application/ld+json">{"@type": "Article", "headline": "Pier",}</script>'
        "</head><body></body></html>"
    )
    assert page["article"]["headline"] == "Pier"


# ---------------------------------------------------------------- bylines


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Doe, Jane", ["Jane Doe"]),
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Von Anna Berg und Ola Nord, dpa", ["Anna Berg", "Ola Nord", "dpa"]),
        ("Jane Doe (jd)", ["Jane Doe"]),
        ("Jane Doe / Journalist", ["Jane Doe"]),
        ("Magazine Von Jane Doe", ["Jane Doe"]),
        ("Ursula von der Leyen", ["Ursula von der Leyen"]),
    ],
)
def test_bylines_split_into_whole_names(byline, names):
    assert bylines.split_byline(byline) == names


def test_publishers_and_urls_are_dropped_beside_a_person_and_agencies_kept():
    names = bylines.author_names(
        ["https://www.facebook.com/gazette", "Harbour Gazette GmbH", "Jane Doe", "AFP"],
        publishers=["Harbour Gazette"],
    )
    assert names == ["Jane Doe", "AFP"]
    assert bylines.is_agency("Reuters") and bylines.is_agency("dpa")
    assert bylines.author_names(["Harbour Gazette"], publishers=["Harbour Gazette"]) == [
        "Harbour Gazette"
    ]


def test_authors_come_from_json_ld_else_meta_else_a_visible_byline():
    ld = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Doe, Jane"}]}
    assert extract_article(_page(body=f"<article>{BODY}</article>", ld=ld))["authors"] == [
        "Jane Doe"
    ]
    publisher_only = _page(
        '<meta name="author" content="Harbour Gazette">'
        '<meta property="og:site_name" content="Harbour Gazette">',
        f'<article><p class="byline">By Jane Doe</p>{BODY}</article>',
    )
    assert extract_article(publisher_only)["authors"] == ["Jane Doe"]


# ---------------------------------------------------------------- body


def test_the_standfirst_shown_on_the_page_leads_the_body_once():
    standfirst = "Three weeks of repairs will close the north pier to all boats."
    page = _page(
        f'<meta name="description" content="{standfirst}">',
        f'<header><p class="lead">{standfirst}</p></header><article>{BODY}</article>',
    )
    text = extract_article(page)["text"]
    assert text.startswith(standfirst) and text.count(standfirst) == 1


def test_a_description_the_page_does_not_show_is_not_added():
    page = _page(
        '<meta name="description" content="Read the best harbour news every day, only here.">',
        f"<article>{BODY}</article>",
    )
    assert "best harbour news" not in extract_article(page)["text"]


def test_headline_byline_and_repeats_are_not_body():
    body = html.without_page_furniture(
        "Pier closes\n\nHarbour works Pier closes\n\nBy Jane Doe, Hamburg\n\n"
        "The pier closes for three weeks.\n\nThe pier closes for three weeks.",
        headlines=["Pier closes for repairs", "Pier closes now today"],
        authors=["Jane Doe"],
    )
    assert "By Jane Doe" not in body
    body = html.without_page_furniture(
        "Pier closes now today\n\nHarbour works Pier closes now today\n\nText of the story.",
        headlines=["Pier closes now today"],
        authors=[],
    )
    assert body == "Text of the story."


def test_lists_of_links_and_the_next_story_are_dropped_before_extraction():
    related = (
        "<ul><li><a href='/1'>Ferry strike ends</a></li><li><a href='/2'>New quay</a></li></ul>"
    )
    page = _page(
        "<title>Pier closes</title>",
        f"<main><article><h1>Pier closes</h1>{BODY}{related}</article>"
        "<article><h1>Another story</h1><p>The next story of the endless scroll is about a "
        "market that opens on Sundays in the old town square near the harbour.</p></article>"
        "</main>",
    )
    text = extract_article(page)["text"]
    assert "Ferry strike ends" not in text
    assert "market that opens" not in text
    assert "two million euros" in text


@pytest.mark.parametrize(
    "line",
    [
        "Join our commenting forum",
        "You must confirm your public display name before commenting",
        "Sign up for breaking news, analysis and the morning briefing.",
        "End of Article",
        "Trending",
        "You might also like",
        "Lesen Sie auch",
        "Czytaj więcej",
        "Lesedauer: 4 Minuten",
        "3 min read",
        "Stand: 22.04.2024, 06:00 Uhr",
        "Updated 14 June 2024, 10:30",
        "Fehler gefunden? Jetzt melden.",
        "Photo: Jane Doe/Harbour Gazette",
        "STR/AFP via Getty Images",
        "© Harbour Gazette 2024",
        "(Quelle: dpa)",
        "(jd)",
    ],
)
def test_furniture_lines_standing_alone_are_removed(line):
    assert text.is_boilerplate(line)
    assert text.clean_text(f"The pier closes for three weeks.\n\n{line}") == (
        "The pier closes for three weeks."
    )


@pytest.mark.parametrize(
    "line",
    [
        "Readers who join our commenting forum say the pier should stay open.",
        "On 22 April 2024 the harbour master closed the pier.",
        "The mayor (SPD) said the pier would reopen in May.",
    ],
)
def test_sentences_mentioning_furniture_words_stay(line):
    assert not text.is_boilerplate(line)


def test_a_body_does_not_start_with_its_headline():
    assert text.without_leading_headline("Pier closes!\n\nThe pier closes.", "Pier closes") == (
        "The pier closes."
    )
    assert text.without_leading_headline("Pier closes", "Pier closes") == "Pier closes"
