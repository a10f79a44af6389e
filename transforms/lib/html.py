"""HTML to article text and metadata, with trafilatura. Pure functions, no Beam.

``extract_article(html, url)`` is also the function scored by
``../shared/tools/score_html_extraction.py`` (through ``extract_main_text``).
"""

import logging
import re

import lxml.html
import trafilatura

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
    "favor_recall": True,
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
    ``authors`` (list), ``published`` (string or None), ``source`` (site
    name) and ``url`` (the page's canonical link when it declares one).
    Rejects pages with no extractable main text (``no_main_text``), such as
    pages of scripts and styles only.
    """
    # lxml silently drops everything after a lone surrogate (a page decoded as UTF-7).
    html = replace_lone_surrogates(html)
    try:
        document = trafilatura.bare_extraction(html, url=url, **_EXTRACT_OPTIONS)
    except (ValueError, TypeError, lxml.etree.LxmlError) as exc:
        raise Rejected(ErrorType.UNPARSABLE_HTML, f"the HTML could not be parsed: {exc}") from None
    text = getattr(document, "text", None) if document is not None else None
    if not text or not text.strip():
        raise Rejected(ErrorType.NO_MAIN_TEXT, "no main text found in the HTML page", excerpt=html)
    authors = getattr(document, "author", None)
    return {
        "text": _paragraphs(text),
        "title": getattr(document, "title", None),
        "authors": [a.strip() for a in authors.split(";") if a.strip()] if authors else [],
        "published": getattr(document, "date", None),
        "source": getattr(document, "sitename", None),
        "url": getattr(document, "url", None),
    }


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
