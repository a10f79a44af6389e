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
from transforms.lib.records import Rejected

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
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def extract_article(html: str, url: str | None = None) -> dict:
    """Main text and metadata of a news page.

    Returns ``text`` (paragraphs separated by blank lines), ``title``,
    ``authors`` (list), ``published`` and ``modified`` (strings or None),
    ``description`` (the standfirst), ``image_url``, ``source`` (site name)
    and ``url`` (the page's canonical link when it declares one). The
    metadata is the page's own (``transforms.lib.pagemeta``) where it has
    it, trafilatura's otherwise. Rejects pages with no extractable main
    text (``no_main_text``), such as pages of scripts and styles only.
    """
    try:
        tree = trafilatura.load_html(html)
        if tree is None:
            raise ValueError("no HTML tree")
        page = pagemeta.page_metadata(tree)
        # bare_extraction copies the tree it is given, so ``page`` was read from the original.
        document = trafilatura.bare_extraction(tree, url=url, **_EXTRACT_OPTIONS)
    except (ValueError, TypeError, lxml.etree.LxmlError) as exc:
        raise Rejected("unparsable_html", f"the HTML could not be parsed: {exc}") from None
    text = getattr(document, "text", None) if document is not None else None
    if not text or not text.strip():
        raise Rejected("no_main_text", "no main text found in the HTML page", excerpt=html)
    found = {name: getattr(document, name, None) for name in ("title", "author", "date", "url")}
    host = urlsplit_host(url or page["canonical"] or found["url"])
    publishers = [*page["sites"], getattr(document, "sitename", None) or "", host or ""]
    declared, meta, visible = pagemeta.author_bylines(page)
    authors = bylines.choose_authors(
        declared=declared,
        meta=meta,
        visible=visible,
        found=(found["author"] or "").split(";"),
        publishers=publishers,
    )
    title = pagemeta.headline(page, host=host) or found["title"]
    return {
        "text": _paragraphs(text),
        "title": title,
        "authors": authors,
        "published": _readable_date(pagemeta.published(page)) or found["date"],
        "modified": _readable_date(pagemeta.modified(page)),
        "description": pagemeta.description(page),
        "image_url": pagemeta.image_url(page),
        "source": pagemeta.site_name(page) or getattr(document, "sitename", None),
        "url": found["url"],
    }


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
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.LxmlError):
        return html
    for bad in root.xpath("//script|//style|//noscript|//template"):
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
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n\n".join(line for line in lines if line)).strip()
