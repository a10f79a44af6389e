"""HTML to article text and metadata, with trafilatura. Pure functions, no Beam.

``extract_article(html, url)`` is also the function scored by
``../shared/tools/score_html_extraction.py`` (through ``extract_main_text``).
"""

import logging
import re
from urllib.parse import urlsplit

import lxml.html
import trafilatura

from transforms.lib import bylines, dates, pagemeta
from transforms.lib.records import ErrorType, Rejected
from transforms.lib.text import replace_lone_surrogates

# trafilatura logs a warning per page it cannot use; newsbeam reports those as errors rows.
for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_name).setLevel(logging.ERROR)

# Comments under news articles are not the article.
_EXTRACT_OPTIONS = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "with_metadata": True,
}
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "dd",
        "dt",
        "hr",
    ]
)
_WORDS = re.compile(r"\w+")
# Shorter "descriptions" are labels ("News", "Politik"), not standfirsts.
_MIN_STANDFIRST_CHARS = 40
_LONGEST_BYLINE_WORDS = 12
_LONGEST_KICKER_WORDS = 8
# A short paragraph seen twice on a page is furniture; a long one may be quoted again.
_LONGEST_REPEATED_FURNITURE_CHARS = 200
_MIN_LINK_LIST_ITEMS = 2
_LINK_SHARE = 0.9
_LINK_SHARE_OF_LABELLED = 0.5


def extract_article(html: str, url: str | None = None) -> dict:
    """Main text and metadata of a news page.

    Returns ``text`` (paragraphs separated by blank lines), ``title``,
    ``authors`` (list), ``published`` and ``modified`` (strings or None),
    ``description`` (the standfirst), ``image_url``, ``source`` and
    ``site_name`` (the site's name) and ``url`` (the page's canonical link
    when it declares one). The metadata is the page's own
    (``transforms.lib.pagemeta``) where it has it, trafilatura's otherwise.
    Rejects pages with no extractable main text (``no_main_text``), such
    as pages of scripts and styles only.
    """
    # lxml silently drops everything after a lone surrogate (a page decoded as UTF-7).
    html = replace_lone_surrogates(html)
    try:
        tree = trafilatura.load_html(html)
        if tree is None:
            raise ValueError("no HTML tree")
        page = pagemeta.page_metadata(tree)
        host = urlsplit_host(url or page["canonical"])
        title = pagemeta.headline(page, host=host)
        headlines = pagemeta.headline_variants(page, host=host)
        drop_other_articles(tree, title)
        drop_link_lists(tree)
        # bare_extraction copies the tree it is given, so ``page`` was read from the original.
        document = trafilatura.bare_extraction(tree, url=url, **_EXTRACT_OPTIONS)
    except (ValueError, TypeError, lxml.etree.LxmlError) as exc:
        raise Rejected(ErrorType.UNPARSABLE_HTML, f"the HTML could not be parsed: {exc}") from None
    text = getattr(document, "text", None) if document is not None else None
    if not text or not text.strip():
        raise Rejected(ErrorType.NO_MAIN_TEXT, "no main text found in the HTML page", excerpt=html)
    found = {name: getattr(document, name, None) for name in ("title", "author", "date", "url")}
    host = host or urlsplit_host(found["url"])
    publishers = [*page["sites"], getattr(document, "sitename", None) or "", host or ""]
    declared, meta, visible = pagemeta.author_bylines(page)
    authors = bylines.choose_authors(
        declared=declared,
        meta=meta,
        visible=visible,
        found=(found["author"] or "").split(";"),
        publishers=publishers,
    )
    title = title or found["title"]
    standfirst = pagemeta.description(page)
    body = with_standfirst(_paragraphs(text), standfirst, visible=pagemeta.visible_text(tree))
    body = without_page_furniture(body, headlines=[title or "", *headlines], authors=authors)
    return {
        "text": body,
        "title": title,
        "authors": authors,
        "published": _readable_date(pagemeta.published(page)) or found["date"],
        "modified": _readable_date(pagemeta.modified(page)),
        "description": standfirst,
        "image_url": pagemeta.image_url(page),
        "source": pagemeta.site_name(page) or getattr(document, "sitename", None),
        "site_name": pagemeta.site_name(page) or getattr(document, "sitename", None),
        "url": found["url"],
    }


def _folded_words(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


def with_standfirst(body: str, standfirst: str | None, *, visible: str) -> str:
    """``body`` led by the page's standfirst when the page shows it and the body lacks it.

    Extraction often drops the standfirst with the header it sits in. It is
    added only when its words appear in the page's visible text (a meta
    description written for search engines alone is not), and only once.
    """
    if not standfirst or len(standfirst) < _MIN_STANDFIRST_CHARS:
        return body
    words = _folded_words(standfirst)
    if not words or words in _folded_words(body) or words not in visible:
        return body
    return f"{standfirst}\n\n{body}"


def without_page_furniture(body: str, *, headlines: list[str], authors: list[str]) -> str:
    """``body`` without the page's own furniture: paragraphs that repeat a form of the
    headline (alone or after a kicker), a byline paragraph (``Von A und B``,
    ``By A, Place``), and later copies of a short paragraph (a placeholder per
    embed, a teaser shown twice) or of the first one (a standfirst shown twice)."""
    # A one- or two-word "headline" (an <h1> holding a section name) may be a subhead too.
    headline_words = [w for w in (_folded_words(h) for h in headlines) if len(w.split()) >= 3]
    author_words = set(_folded_words(" ".join(authors)).split())
    kept, seen = [], set()
    for paragraph in body.split("\n\n"):
        words = _folded_words(paragraph)
        if paragraph in seen or any(_repeats_headline(words, h) for h in headline_words):
            continue
        if len(paragraph) <= _LONGEST_REPEATED_FURNITURE_CHARS:
            seen.add(paragraph)
        if author_words and _is_byline(words.split(), author_words):
            continue
        if kept and len(kept) == 1 and words == _folded_words(kept[0]):
            continue
        kept.append(paragraph)
    return "\n\n".join(kept) if kept else body


def _repeats_headline(words: str, headline: str) -> bool:
    """``words`` is ``headline``, or a kicker of a few words and then ``headline``."""
    if words == headline:
        return True
    return words.endswith(" " + headline) and len(words.split()) - len(headline.split()) <= (
        _LONGEST_KICKER_WORDS
    )


def _is_byline(words: list[str], author_words: set[str]) -> bool:
    """A short paragraph of the authors' names, with at most a lead word and a place."""
    if not words or len(words) > _LONGEST_BYLINE_WORDS:
        return False
    named = sum(1 for w in words if w in author_words)
    return named >= min(2, len(author_words)) and len(words) - named <= 2


def drop_other_articles(tree, headline: str | None) -> None:
    """Removes the other stories of a page that holds several, each in its own
    ``<article>`` with its own ``<h1>`` (the next story of an endless scroll), when
    exactly one of them has this page's ``headline``."""
    if not headline:
        return
    wanted = _folded_words(headline)
    stories = [
        article
        for article in tree.iter("article")
        if next(article.iterancestors("article"), None) is None
        and next(article.iter("h1"), None) is not None
    ]
    if len(stories) < 2:
        return
    ours = [
        a for a in stories if any(_folded_words(h.text_content()) == wanted for h in a.iter("h1"))
    ]
    if len(ours) != 1:
        return
    for article in stories:
        if article is not ours[0] and article.getparent() is not None:
            article.drop_tree()


def drop_link_lists(tree) -> None:
    """Removes lists whose every item is a link and nothing else: "related", "most read"
    and "more on this" teasers, which trafilatura keeps when they sit in the article."""
    for element in list(tree.iter("ul", "ol")):
        items = [li for li in element if isinstance(li.tag, str) and li.tag == "li"]
        if len(items) < _MIN_LINK_LIST_ITEMS or element.getparent() is None:
            continue
        if all(_is_link_only(item) for item in items):
            element.drop_tree()


def _is_link_only(item) -> bool:
    """A list item that is a link, perhaps after a bold label ("<b>Politics:</b> <a>…</a>")."""
    text = "".join(item.itertext()).strip()
    linked = "".join(t for a in item.iter("a") for t in a.itertext()).strip()
    labels = "".join(t for b in item.iter("strong", "b") for t in b.itertext()).strip()
    return (
        bool(linked)
        and len(linked) + len(labels) >= _LINK_SHARE * len(text)
        and len(linked) >= _LINK_SHARE_OF_LABELLED * len(text)
    )


def _readable_date(value: str | None) -> str | None:
    """``value`` when ``transforms.lib.dates`` can read it, else None (another source may)."""
    if not value:
        return None
    try:
        dates.to_utc(value)
    except ValueError:
        return None
    return value


def urlsplit_host(url: str | None) -> str | None:
    """The lower-cased host of ``url``, or None."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.lower() if host else None


def extract_main_text(html: str, url: str | None = None) -> str:
    """The main text alone, or "" when there is none (the scorer's signature)."""
    try:
        return extract_article(html, url)["text"]
    except Rejected:
        return ""


def fragment_to_text(html: str) -> str:
    """Text of an HTML fragment (a feed entry's content), block elements as paragraphs.

    Scripts, styles and comments are dropped. Unlike ``extract_article`` it
    keeps everything else: a fragment has no page furniture to remove.
    """
    if not html or not html.strip():
        return ""
    html = replace_lone_surrogates(html)  # lxml drops everything after one
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.LxmlError):
        return html
    for bad in root.xpath("//script|//style|//noscript|//template|//applet"):
        bad.drop_tree()
    parts: list[str] = []
    try:
        _append_text(root, parts)
    except RecursionError:  # absurdly deep nesting: keep the words, lose the layout
        return _paragraphs(root.text_content())
    return _paragraphs("".join(parts))


def _append_text(element, parts: list[str]) -> None:
    is_block = isinstance(element.tag, str) and element.tag in _BLOCK_TAGS
    if is_block:
        parts.append("\n\n")
    if isinstance(element.tag, str) and element.text:
        parts.append(element.text)
    for child in element:
        _append_text(child, parts)
        if child.tail:
            parts.append(child.tail)
    if is_block:
        parts.append("\n\n")


def _paragraphs(text: str) -> str:
    # Most lines of fragment_to_text's output are empty: skipped before any regex runs.
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n\n".join(line for line in lines if line)
