"""Numeric character references in feeds: one bad reference never loses the good entries.

Description: a feed whose one item holds references to characters XML forbids
(``&#xD800;``, ``&#0;``, ``&#x110000;``, ``&#99999999999;``) made feedparser's
loose parser raise, and the whole feed was lost on every poll.
Expect: the good items come through unchanged; the bad item is an article
whose forbidden characters are U+FFFD (or an errors row), never an exception.
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.lib.feeds import parse_feed
from transforms.lib.records import Rejected

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>http://example.com/</link>
<item><guid>good-1</guid><title>Pier closes</title>
<description>The pier closes.</description></item>
<item><guid>bad</guid><title>Odd {reference} title</title>
<description>Text {reference} and &lt;p&gt;markup {escaped}&lt;/p&gt;.</description></item>
<item><guid>good-2</guid><title>Ferry returns</title>
<description>The ferry is back.</description></item>
</channel></rss>"""

references = st.one_of(
    st.integers(0, 0x10FFFF + 10).map(lambda n: f"&#{n};"),
    st.integers(0, 0x10FFFF + 10).map(lambda n: f"&#x{n:X};"),
    st.integers(0, 10**30).map(lambda n: f"&#{n};"),
    st.integers(0, 10**30).map(lambda n: f"&#x{n:x};"),
    st.sampled_from(["&#xD800;", "&#55296;", "&#0;", "&#x110000;", "&#xFFFE;", "&#0000065;"]),
)


def _feed(reference: str, *, encoding: str = "utf-8") -> bytes:
    escaped = reference.replace("&", "&amp;")
    return RSS.format(encoding=encoding, reference=reference, escaped=escaped).encode(encoding)


def _titles(data: bytes) -> dict[str, str]:
    outcomes, _info = parse_feed(data, feed_url=None, origin="feed.xml")
    return {
        outcome["origin"].rsplit("#", 1)[1]: outcome["title"]
        for outcome in outcomes
        if not isinstance(outcome, Rejected)
    }


@pytest.mark.parametrize(
    "reference", ["&#xD800;", "&#55296;", "&#0;", "&#x110000;", "&#xFFFE;", "&#99999999999;"]
)
def test_a_forbidden_reference_becomes_a_replacement_character(reference):
    titles = _titles(_feed(reference))
    assert titles == {
        "good-1": "Pier closes",
        "bad": "Odd \N{REPLACEMENT CHARACTER} title",
        "good-2": "Ferry returns",
    }


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "iso-8859-1"])
def test_forbidden_references_are_replaced_in_any_encoding(encoding):
    titles = _titles(_feed("&#xD800;", encoding=encoding))
    assert titles["bad"] == "Odd \N{REPLACEMENT CHARACTER} title"
    assert (titles["good-1"], titles["good-2"]) == ("Pier closes", "Ferry returns")


def test_allowed_references_are_kept():
    assert _titles(_feed("&#233;&#x1F600;"))["bad"] == "Odd é\U0001f600 title"


@settings(max_examples=150, deadline=None)
@given(st.lists(references, min_size=1, max_size=4).map("".join))
@example("&#xD800;&#xDC00;")
def test_random_references_never_lose_the_good_items(reference):
    titles = _titles(_feed(reference))
    assert titles["good-1"] == "Pier closes"
    assert titles["good-2"] == "Ferry returns"
    assert "bad" in titles
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in titles["bad"])
